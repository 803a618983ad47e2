import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { expireCookie, forEachCookie, serializeCookie } from './cookie.ts';
import type { PurposeKeys } from './keys.ts';
import { seal, unseal } from './seal.ts';
import { filterClaims } from './claims.ts';
import type { SignInFacts } from '../policy/index.ts';

export { stripGatehouseCookies } from './cookie.ts';

const MAX_AMR = 10;

/** What a session cookie carries. Times are seconds since the epoch. */
export const Session = z.object({
  sid: z.string().min(1),
  sub: z.string().min(1),
  email: z.string().nullable(),
  emailVerified: z.boolean().nullable(),
  name: z.string().nullable(),
  groups: z.array(z.string()),
  /** A small, filtered copy of the IdP claims: never tokens (see filterClaims). */
  claims: z.record(z.string(), z.unknown()),
  iat: z.number(),
  exp: z.number(),
  /** The host (lowercase, no port) the cookie was issued for. */
  host: z.string(),
  /**
   * How the user signed in: the method's name (`local`, `google`, …), the provider's `amr`
   * values, whether they amount to a second factor (judged once, at sign-in, by that provider's
   * mapping), and when the user last authenticated there. Optional so that sessions from before
   * these fields still open; they read as "unknown method, one factor, authenticated at the
   * epoch" (signInFacts): they satisfy no `provider:` entry, no `mfa` and no `max_age`, and are
   * stepped up where one is asked for.
   */
  provider: z.string().optional(),
  amr: z.array(z.string()).max(MAX_AMR).optional(),
  mfa: z.boolean().optional(),
  authTime: z.number().optional(),
});
export type Session = z.infer<typeof Session>;

export const SECURE_SESSION_COOKIE = '__Host-gatehouse_session';
export const PLAIN_SESSION_COOKIE = 'gatehouse_session';
/** Browsers drop cookies over 4096 bytes including name and attributes. */
export const CHUNK_SIZE = 3_500;
export const MAX_CHUNKS = 8;

export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : PLAIN_SESSION_COOKIE;
}

export interface NewSession {
  sub: string;
  email: string | null;
  emailVerified: boolean | null;
  name: string | null;
  groups: string[];
  claims: Record<string, unknown>;
  host: string;
  /** Reuse an existing id (handoff to a route host keeps the sign-in session's id). */
  sid?: string;
  provider?: string;
  amr?: readonly string[];
  mfa?: boolean;
  /** Seconds; defaults to the session's creation. */
  authTime?: number;
}

/** `now` in milliseconds, `ttlMs` the absolute session lifetime (GATEHOUSE_SESSION_TTL). */
export function createSession(fields: NewSession, options: { now: number; ttlMs: number }): Session {
  const iat = Math.floor(options.now / 1000);
  return {
    sid: fields.sid ?? randomBytes(16).toString('base64url'),
    sub: fields.sub,
    email: fields.email,
    emailVerified: fields.emailVerified,
    name: fields.name,
    groups: [...fields.groups],
    claims: filterClaims(fields.claims),
    iat,
    exp: iat + Math.max(1, Math.floor(options.ttlMs / 1000)),
    host: fields.host,
    provider: fields.provider ?? '',
    amr: (fields.amr ?? []).slice(0, MAX_AMR).map((value) => value.slice(0, 64)),
    mfa: fields.mfa ?? false,
    authTime: fields.authTime ?? iat,
  };
}

export interface SessionCookieOptions {
  secure: boolean;
  keys: PurposeKeys;
  now: number;
  /** The request's Cookie header: leftover chunks of an earlier session are expired too. */
  existing?: string | undefined;
}

/**
 * Set-Cookie values for a session: one cookie, or numbered chunks `<name>.0`, `<name>.1`, …
 * when the sealed value is over CHUNK_SIZE. Over MAX_CHUNKS returns `too_large` so the caller
 * can trim (usually the groups) and try again.
 */
export function sessionCookies(session: Session, options: SessionCookieOptions): string[] | { error: 'too_large' } {
  const name = sessionCookieName(options.secure);
  const sealed = seal(options.keys, session, options.now);
  const chunkCount = sealed.length <= CHUNK_SIZE ? 0 : Math.ceil(sealed.length / CHUNK_SIZE);
  if (chunkCount > MAX_CHUNKS) return { error: 'too_large' };
  const attributes = { secure: options.secure, maxAge: session.exp - Math.floor(options.now / 1000) };
  const written = new Set<string>();
  const cookies: string[] = [];
  if (chunkCount === 0) {
    written.add(name);
    cookies.push(serializeCookie(name, sealed, attributes));
  } else {
    for (let i = 0; i < chunkCount; i++) {
      written.add(`${name}.${i}`);
      cookies.push(serializeCookie(`${name}.${i}`, sealed.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE), attributes));
    }
  }
  for (const present of presentSessionCookieNames(options.existing, name)) {
    if (!written.has(present)) cookies.push(expireCookie(present, options.secure));
  }
  return cookies;
}

export interface ReadSessionOptions {
  secure: boolean;
  keys: PurposeKeys;
  now: number;
  /** The request's host, lowercase and without port. */
  host: string;
}

/** The session in the Cookie header, or null (absent, invalid, expired, other host). Never throws. */
export function readSession(cookieHeader: string | undefined, options: ReadSessionOptions): Session | null {
  if (!cookieHeader) return null;
  const sealed = collectSealed(cookieHeader, sessionCookieName(options.secure));
  if (sealed === null) return null;
  const session = unsealCached(options.keys, sealed, options.now);
  return session !== null && session.host === options.host ? session : null;
}

/** Expiring Set-Cookie values for the session cookie and every chunk present. */
export function clearSessionCookies(cookieHeader: string | undefined, secure: boolean): string[] {
  const name = sessionCookieName(secure);
  const names = new Set([name, ...presentSessionCookieNames(cookieHeader, name)]);
  return [...names].map((present) => expireCookie(present, secure));
}

function presentSessionCookieNames(header: string | undefined, name: string): string[] {
  const names: string[] = [];
  forEachCookie(header, (cookieName) => {
    if (cookieName === name || (cookieName.startsWith(`${name}.`) && /^\d+$/.test(cookieName.slice(name.length + 1)))) {
      if (!names.includes(cookieName)) names.push(cookieName);
    }
  });
  return names;
}

/** The whole sealed value: the single cookie if present, else the chunks 0..n-1 joined. */
function collectSealed(header: string, name: string): string | null {
  let single: string | undefined;
  let chunks: (string | undefined)[] | undefined;
  forEachCookie(header, (cookieName, value) => {
    if (cookieName === name) {
      single ??= value;
    } else if (cookieName.length === name.length + 2 && cookieName.startsWith(`${name}.`)) {
      const index = cookieName.charCodeAt(name.length + 1) - 48;
      if (index >= 0 && index < MAX_CHUNKS) {
        chunks ??= [];
        chunks[index] ??= value;
      }
    }
  });
  if (single !== undefined) return single;
  if (chunks === undefined) return null;
  const parts: string[] = [];
  for (let i = 0; i < chunks.length; i++) {
    const part = chunks[i];
    if (part === undefined) return null;
    parts.push(part);
  }
  return parts.join('');
}

// Unsealed sessions by sealed value, valid for at most a second and never past `exp`: repeat
// requests from one browser skip the decrypt. Only values that opened are stored, so the
// cache cannot be filled with garbage; entries live so briefly that insertion order is a
// good enough eviction order.
const CACHE_LIMIT = 10_000;
const CACHE_MS = 1_000;
const CACHEABLE_LENGTH = 4_096;
const caches = new WeakMap<PurposeKeys, Map<string, { session: Session; until: number }>>();

function unsealCached(keys: PurposeKeys, sealed: string, now: number): Session | null {
  let cache = caches.get(keys);
  const hit = cache?.get(sealed);
  if (hit !== undefined && hit.until > now) return hit.session;
  const payload = unseal(keys, sealed, now, CHUNK_SIZE * MAX_CHUNKS);
  if (payload === null) return null;
  const parsed = Session.safeParse(payload);
  if (!parsed.success) return null;
  const session = freezeSession(parsed.data);
  if (sealed.length <= CACHEABLE_LENGTH) {
    if (cache === undefined) {
      cache = new Map();
      caches.set(keys, cache);
    }
    if (hit !== undefined) cache.delete(sealed);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(sealed, { session, until: Math.min(now + CACHE_MS, session.exp * 1000) });
  }
  return session;
}

/** How the session was made, as policy/ judges it; absent fields count against the session. */
export function signInFacts(session: Pick<Session, 'provider' | 'mfa' | 'authTime'>): SignInFacts {
  return { provider: session.provider ?? '', mfa: session.mfa === true, authTime: session.authTime ?? 0 };
}

function freezeSession(session: Session): Session {
  if (session.amr !== undefined) Object.freeze(session.amr);
  Object.freeze(session.groups);
  Object.freeze(session.claims);
  return Object.freeze(session);
}
