import { z } from 'zod';
import { expireCookie, getCookie, serializeCookie } from './cookie.ts';
import type { PurposeKeys } from './keys.ts';
import { seal, unseal } from './seal.ts';

/**
 * Small sealed tokens around sign-out. Each payload names its `kind`, so a token of one kind
 * never passes for another even where two kinds share a purpose key.
 *
 * - CSRF (`csrf` key): proves a sign-out POST came from Gatehouse's own confirmation page on
 *   this host, for this session. It travels in the form's action URL, because the gate answers
 *   before any request body is read.
 * - Sign-out handoff (`signout` key): a route host that has just signed the user out sends the
 *   browser on to the sign-in host with it, so the user confirms once, not twice.
 * - ID token hint (`signout` key, a cookie on the sign-in host only): the provider's ID token,
 *   sent back as `id_token_hint` when signing out there.
 */

export const CSRF_LIFETIME_SECONDS = 3_600;
export const SIGN_OUT_HANDOFF_SECONDS = 120;
const MAX_TOKEN_LENGTH = 1_024;
const MAX_HINT_COOKIE_LENGTH = 3_800;

const Csrf = z.object({ kind: z.literal('csrf'), sid: z.string(), host: z.string(), exp: z.number() });
const SignOut = z.object({ kind: z.literal('signout'), sid: z.string(), exp: z.number() });
const IdTokenHint = z.object({ kind: z.literal('idt'), sid: z.string(), idToken: z.string(), exp: z.number() });

const seconds = (now: number) => Math.floor(now / 1000);

export function createCsrfToken(keys: PurposeKeys, sid: string, host: string, now: number): string {
  return seal(keys, { kind: 'csrf', sid, host, exp: seconds(now) + CSRF_LIFETIME_SECONDS } satisfies z.infer<typeof Csrf>, now);
}

/** True only for a token minted for this session on this host that has not expired. */
export function checkCsrfToken(keys: PurposeKeys, token: string | null, sid: string, host: string, now: number): boolean {
  if (token === null) return false;
  const parsed = Csrf.safeParse(unseal(keys, token, now, MAX_TOKEN_LENGTH));
  return parsed.success && parsed.data.sid === sid && parsed.data.host === host;
}

export function createSignOutToken(keys: PurposeKeys, sid: string, now: number): string {
  return seal(keys, { kind: 'signout', sid, exp: seconds(now) + SIGN_OUT_HANDOFF_SECONDS } satisfies z.infer<typeof SignOut>, now);
}

/** The signed-out session id the token vouches for, or null. */
export function readSignOutToken(keys: PurposeKeys, token: string | null, now: number): string | null {
  if (token === null) return null;
  const parsed = SignOut.safeParse(unseal(keys, token, now, MAX_TOKEN_LENGTH));
  return parsed.success ? parsed.data.sid : null;
}

export function idTokenHintCookieName(secure: boolean): string {
  return secure ? '__Host-gatehouse_idt' : 'gatehouse_idt';
}

/** A Set-Cookie for the hint, or null when the ID token is too large to keep in a cookie. */
export function idTokenHintCookie(keys: PurposeKeys, input: { sid: string; idToken: string; exp: number }, now: number, secure: boolean): string | null {
  const sealed = seal(keys, { kind: 'idt', sid: input.sid, idToken: input.idToken, exp: input.exp } satisfies z.infer<typeof IdTokenHint>, now);
  if (sealed.length > MAX_HINT_COOKIE_LENGTH) return null;
  return serializeCookie(idTokenHintCookieName(secure), sealed, { secure, maxAge: input.exp - seconds(now) });
}

/** The ID token kept for this session, or null. */
export function readIdTokenHint(keys: PurposeKeys, cookieHeader: string | undefined, sid: string | null, now: number, secure: boolean): string | null {
  const value = getCookie(cookieHeader, idTokenHintCookieName(secure));
  if (value === undefined || sid === null) return null;
  const parsed = IdTokenHint.safeParse(unseal(keys, value, now, MAX_HINT_COOKIE_LENGTH));
  return parsed.success && parsed.data.sid === sid ? parsed.data.idToken : null;
}

export function clearIdTokenHint(secure: boolean): string {
  return expireCookie(idTokenHintCookieName(secure), secure);
}
