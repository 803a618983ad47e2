import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Identity } from '../policy/index.ts';
import { filterClaims } from './claims.ts';
import { ID_TOKEN_ALGORITHMS } from './oidc.ts';
import { toSignedInUser } from './oidc-claims.ts';

/**
 * Bearer JWTs from the sign-in provider (access tokens in JWT form, or ID tokens): the
 * signature against the provider's published keys (found through its discovery document and
 * refreshed by jose when an unknown key id shows up), the issuer exactly, the audience (the
 * client id, or the configured list), `exp` and `nbf` with a small leeway, and only the
 * asymmetric algorithms Gatehouse accepts for ID tokens. No network call per request once the
 * keys are known.
 */

export interface BearerJwtOptions {
  issuer: string;
  /** Any one of these must be in `aud`. */
  audiences: readonly string[];
  groupsClaim: string;
  /** The built-in provider is reached over loopback. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  timeoutMs?: number;
  now: () => number;
}

export type BearerJwtResult = { ok: true; identity: Identity & { exp: number } } | { ok: false; reason: string };

export interface BearerJwtVerifier {
  verify(token: string): Promise<BearerJwtResult>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 16 * 1024;
// Small: tokens are short-lived, and the clocks of a home server and its provider are NTP-synchronised.
const LEEWAY_SECONDS = 5;
/** A discovery failure is retried after this long, not on every request. */
const RETRY_DISCOVERY_MS = 10_000;

export function createBearerJwtVerifier(options: BearerJwtOptions): BearerJwtVerifier & { readonly issuer: string } {
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  let keys: ReturnType<typeof createRemoteJWKSet> | null = null;
  let discovering: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;
  let failedAt = -Infinity;

  async function discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const url = `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await doFetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (metadata.issuer !== options.issuer) throw new Error(`${url} names the issuer ${String(metadata.issuer)}, not ${options.issuer}`);
    if (typeof metadata.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    return createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: options.timeoutMs ?? 5_000,
      [customFetch]: (input: string | URL, init: RequestInit) => doFetch(String(input), init),
    });
  }

  async function keySet(): Promise<ReturnType<typeof createRemoteJWKSet> | null> {
    if (keys !== null) return keys;
    if (options.now() - failedAt < RETRY_DISCOVERY_MS) return null;
    discovering ??= discover();
    try {
      keys = await discovering;
      return keys;
    } catch {
      failedAt = options.now();
      return null;
    } finally {
      discovering = null;
    }
  }

  return {
    issuer: options.issuer,
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) return { ok: false, reason: 'not a JWT' };
      const jwks = await keySet();
      if (jwks === null) return { ok: false, reason: 'the provider keys are not available' };
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: [...options.audiences],
          algorithms: [...ID_TOKEN_ALGORITHMS],
          clockTolerance: LEEWAY_SECONDS,
          currentDate: new Date(options.now()),
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        return { ok: false, reason: error instanceof errors.JOSEError ? error.code : 'invalid token' };
      }
      let user: ReturnType<typeof toSignedInUser>;
      try {
        user = toSignedInUser(payload as Record<string, unknown>, {}, options.groupsClaim, token);
      } catch {
        return { ok: false, reason: 'no subject' };
      }
      return {
        ok: true,
        identity: { sub: user.sub, email: user.email, emailVerified: user.emailVerified, name: user.name, groups: user.groups, claims: filterClaims(user.claims), exp: payload.exp ?? 0 },
      };
    },
  };
}

/**
 * One verifier per sign-in method, chosen by the token's `iss`: a token is checked only against
 * the keys, issuer and audience of the provider it names, so one provider's token can never pass
 * as another's. The unverified `iss` only picks the verifier; the verifier checks it again.
 */
export function bearerVerifierByIssuer(verifiers: readonly (BearerJwtVerifier & { readonly issuer: string })[]): BearerJwtVerifier {
  const byIssuer = new Map(verifiers.map((verifier) => [verifier.issuer, verifier]));
  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) return { ok: false, reason: 'not a JWT' };
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        return { ok: false, reason: 'not a JWT' };
      }
      const verifier = typeof issuer === 'string' ? byIssuer.get(issuer) : undefined;
      if (verifier === undefined) return { ok: false, reason: 'issued by no configured provider' };
      return verifier.verify(token);
    },
  };
}
