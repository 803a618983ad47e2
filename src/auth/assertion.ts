import { randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { PublicSigningJwk } from './signing-key.ts';
import type { Session } from './session.ts';

/**
 * The identity JWT upstreams receive: ES256, `aud` = the route host, valid 5 minutes. An
 * ES256 signature costs ~65 µs, so each token is reused per (session, audience) until a
 * minute before it expires; most requests take it from `signCached` without signing.
 */

export const ASSERTION_LIFETIME_SECONDS = 300;
/** Renew this long before expiry so an upstream never receives a token about to lapse. */
export const RENEW_BEFORE_SECONDS = 60;
const CACHE_LIMIT = 10_000;

export type AssertionSession = Pick<Session, 'sid' | 'sub' | 'email' | 'name' | 'groups' | 'iat'>;

export interface AssertionSigner {
  /** A cached token for this session and audience, or a freshly signed one. */
  sign(session: AssertionSession, audience: string): Promise<string>;
  /** Synchronous: the cached token when one is still fresh, else null (then call `sign`). */
  signCached(session: AssertionSession, audience: string): { token: string } | null;
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
  const cacheKey = (session: AssertionSession, audience: string): string => `${session.sid}\n${session.iat}\n${audience}`;

  function signCached(session: AssertionSession, audience: string): { token: string } | null {
    const key = cacheKey(session, audience);
    const hit = cache.get(key);
    if (hit === undefined) return null;
    if (hit.renewAt <= now() / 1000) {
      cache.delete(key);
      return null;
    }
    return { token: hit.token };
  }

  async function signFresh(session: AssertionSession, audience: string, key: string): Promise<string> {
    const iat = Math.floor(now() / 1000);
    const exp = iat + ASSERTION_LIFETIME_SECONDS;
    const token = await new SignJWT({
      email: session.email ?? '',
      groups: [...session.groups],
      name: session.name ?? '',
      sid: session.sid,
    })
      .setProtectedHeader({ alg: 'ES256', kid: options.publicJwk.kid, typ: 'JWT' })
      .setIssuer(options.issuer)
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
    async sign(session, audience) {
      const cached = signCached(session, audience);
      if (cached !== null) return cached.token;
      const key = cacheKey(session, audience);
      // Concurrent requests for one session share a single signature.
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = signFresh(session, audience, key).finally(() => inFlight.delete(key));
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
