import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { expireCookie, forEachCookie, getCookie, serializeCookie } from './cookie.ts';
import type { PurposeKeys } from './keys.ts';
import { seal, unseal } from './seal.ts';

/**
 * Per-sign-in state on the sign-in host: one sealed cookie per flow, named after the flow's
 * `state`, so several tabs can sign in at once. The PKCE verifier and nonce live here, bound
 * to this browser, never inside `state`. At most MAX_FLOWS cookies exist at a time, so
 * abandoned sign-ins cannot grow the Cookie header without bound.
 */

export const FLOW_LIFETIME_SECONDS = 600;
export const MAX_FLOWS = 5;
const MAX_STATE_LENGTH = 512;
const MAX_FLOW_COOKIE_LENGTH = 4_096;

export const Flow = z.object({
  returnTo: z.string(),
  /** The route host's browser binding (browser-binding.ts); empty when returning to the sign-in host. */
  binding: z.string(),
  codeVerifier: z.string().min(1),
  state: z.string().min(1),
  nonce: z.string().min(1),
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  /** The sign-in method this flow belongs to: only its callback path and its client finish it. */
  provider: z.string().min(1),
  /** The app needs a second factor: a sign-in without one ends on a page, never in another round. */
  requireMfa: z.boolean(),
  /** `max_age` sent, in seconds: the ID token's auth_time is checked against it. */
  maxAge: z.number().nullable(),
});
export type Flow = z.infer<typeof Flow>;

export type FlowInput = Omit<Flow, 'createdAt'>;

export function flowCookiePrefix(secure: boolean): string {
  return secure ? '__Host-gatehouse_flow_' : 'gatehouse_flow_';
}

export function flowCookieName(state: string, secure: boolean): string {
  return flowCookiePrefix(secure) + createHash('sha256').update(state).digest('hex').slice(0, 8);
}

/** `now` in milliseconds; `existingCookieHeader` is the request's Cookie header. */
export function startFlow(
  keys: PurposeKeys,
  input: FlowInput,
  now: number,
  existingCookieHeader: string | undefined,
  secure: boolean,
): { setCookies: string[] } {
  const name = flowCookieName(input.state, secure);
  const flow: Flow = {
    returnTo: input.returnTo,
    binding: input.binding,
    codeVerifier: input.codeVerifier,
    state: input.state,
    nonce: input.nonce,
    createdAt: now,
    provider: input.provider,
    requireMfa: input.requireMfa,
    maxAge: input.maxAge,
  };
  const sealed = seal(keys, { ...flow, exp: Math.floor(now / 1000) + FLOW_LIFETIME_SECONDS }, now);
  const setCookies = [serializeCookie(name, sealed, { secure, maxAge: FLOW_LIFETIME_SECONDS })];

  const live: { name: string; createdAt: number }[] = [];
  for (const existing of existingFlows(keys, existingCookieHeader, now, secure)) {
    if (existing.name === name) continue;
    if (existing.createdAt === null) setCookies.push(expireCookie(existing.name, secure));
    else live.push({ name: existing.name, createdAt: existing.createdAt });
  }
  live.sort((a, b) => a.createdAt - b.createdAt);
  for (const stale of live.slice(0, Math.max(0, live.length - (MAX_FLOWS - 1)))) {
    setCookies.push(expireCookie(stale.name, secure));
  }
  return { setCookies };
}

/**
 * The flow whose `state` came back from the IdP, or null when its cookie is missing, was
 * tampered with, expired or belongs to another state. Single use: send `clearCookie`.
 */
export function takeFlow(
  keys: PurposeKeys,
  state: string,
  cookieHeader: string | undefined,
  now: number,
  secure: boolean,
): { flow: Flow; clearCookie: string } | null {
  if (typeof state !== 'string' || state.length === 0 || state.length > MAX_STATE_LENGTH) return null;
  const name = flowCookieName(state, secure);
  const value = getCookie(cookieHeader, name);
  if (value === undefined) return null;
  const payload = unseal(keys, value, now, MAX_FLOW_COOKIE_LENGTH);
  const parsed = payload === null ? null : Flow.safeParse(payload);
  if (parsed === null || !parsed.success || !sameText(parsed.data.state, state)) return null;
  return { flow: parsed.data, clearCookie: expireCookie(name, secure) };
}

/** Flow cookies in the header; `createdAt` null for ones that no longer open. */
function existingFlows(keys: PurposeKeys, header: string | undefined, now: number, secure: boolean): { name: string; createdAt: number | null }[] {
  const prefix = flowCookiePrefix(secure);
  const found = new Map<string, number | null>();
  forEachCookie(header, (name, value) => {
    if (name.length !== prefix.length + 8 || !name.startsWith(prefix) || found.has(name)) return;
    if (!/^[0-9a-f]{8}$/.test(name.slice(prefix.length))) return;
    const payload = unseal(keys, value, now, MAX_FLOW_COOKIE_LENGTH);
    const createdAt = payload?.createdAt;
    found.set(name, typeof createdAt === 'number' ? createdAt : null);
  });
  return [...found].map(([name, createdAt]) => ({ name, createdAt }));
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
