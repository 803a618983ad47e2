import { randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { PublicSigningJwk } from './signing-key.ts';
import type { Session } from './session.ts';

/**
 * The identity JWT upstreams receive: ES256, `aud` = the route host, valid 5 minutes. Routes
 * read from a Pomerium file get Pomerium's form of it (`X-Pomerium-Jwt-Assertion`): the same
 * claims, with `iss` = the route host as Pomerium's default `jwt_issuer_format: hostOnly` says;
 * every token also carries Pomerium's `user` claim (= `sub`). An
 * ES256 signature costs ~65 µs, so each token is reused per (session, audience) until a
 * minute before it expires; most requests take it from `signCached` without signing.
 */

export const ASSERTION_LIFETIME_SECONDS = 300;
/** Renew this long before expiry so an upstream never receives a token about to lapse. */
export const RENEW_BEFORE_SECONDS = 60;
const CACHE_LIMIT = 10_000;

export type AssertionSession = Pick<Session, 'sid' | 'sub' | 'email' | 'name' | 'groups' | 'iat'>;

export interface AssertionSigner {
  /** A cached token for this session and audience, or a freshly signed one; `issuer` overrides the sign-in URL (Pomerium's form). */
  sign(session: AssertionSession, audience: string, issuer?: string): Promise<string>;
  /** Synchronous: the cached token when one is still fresh, else null (then call `sign`). */
  signCached(session: AssertionSession, audience: string, issuer?: string): { token: string } | null;
  jwks(): { keys: [PublicSigningJwk] };
}

export interface AssertionSignerOptions {
  privateKey: KeyObject;
  publicJwk: PublicSigningJwk;
  /** The sign-in URL, e.g. `https://auth.example.com`. */
  issuer: string;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export function createAssertionSigner(options: AssertionSignerOptions): AssertionSigner {
  const now = options.now ?? Date.now;
  const jwks = Object.freeze({ keys: Object.freeze([options.publicJwk]) as unknown as [PublicSigningJwk] });
  const cache = new Map<string, { token: string; renewAt: number }>();
  const inFlight = new Map<string, Promise<string>>();

  // `iat` is part of the key: a refreshed session (new groups) gets a new token at once.
  const cacheKey = (session: AssertionSession, audience: string, issuer: string): string => `${session.sid}\n${session.iat}\n${audience}\n${issuer}`;

  function signCached(session: AssertionSession, audience: string, issuer = options.issuer): { token: string } | null {
    const key = cacheKey(session, audience, issuer);
    const hit = cache.get(key);
    if (hit === undefined) return null;
    if (hit.renewAt <= now() / 1000) {
      cache.delete(key);
      return null;
    }
    return { token: hit.token };
  }

  async function signFresh(session: AssertionSession, audience: string, issuer: string, key: string): Promise<string> {
    const iat = Math.floor(now() / 1000);
    const exp = iat + ASSERTION_LIFETIME_SECONDS;
    const token = await new SignJWT({
      email: session.email ?? '',
      groups: [...session.groups],
      name: session.name ?? '',
      sid: session.sid,
      user: session.sub,
    })
      .setProtectedHeader({ alg: 'ES256', kid: options.publicJwk.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(session.sub)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(options.privateKey);
    if (cache.size >= CACHE_LIMIT) evict(cache, now() / 1000);
    cache.set(key, { token, renewAt: exp - RENEW_BEFORE_SECONDS });
    return token;
  }

  return {
    signCached,
    async sign(session, audience, issuer = options.issuer) {
      const cached = signCached(session, audience, issuer);
      if (cached !== null) return cached.token;
      const key = cacheKey(session, audience, issuer);
      // Concurrent requests for one session share a single signature.
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = signFresh(session, audience, issuer, key).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    jwks: () => jwks,
  };
}

/** Drops stale tokens; if every token is fresh, drops the oldest tenth. */
function evict(cache: Map<string, { renewAt: number }>, nowSeconds: number): void {
  for (const [key, entry] of cache) if (entry.renewAt <= nowSeconds) cache.delete(key);
  if (cache.size < CACHE_LIMIT) return;
  let drop = Math.ceil(CACHE_LIMIT / 10);
  for (const key of cache.keys()) {
    if (drop-- <= 0) break;
    cache.delete(key);
  }
}
