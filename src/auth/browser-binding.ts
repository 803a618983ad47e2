import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { expireCookie, getCookie, serializeCookie } from './cookie.ts';

/**
 * Ties a sign-in to the browser that started it (login CSRF). Before a route host sends a
 * browser to sign in, it gives that browser a random nonce in a host-only cookie and puts the
 * nonce's hash in the sign-in URL; the sign-in host seals that hash into the handoff, and the
 * route host's callback accepts the handoff only from a browser holding the nonce. A callback
 * link made in someone else's browser therefore signs nobody in.
 *
 * The cookie is neither `Secure` nor `__Host-` on plain http hosts, like the session cookie,
 * and it is consumed by the sign-in it served. Open tabs signing in at once share one nonce.
 */

export const BINDING_LIFETIME_SECONDS = 600;
const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** The hash as it travels in URLs and inside the handoff. */
export const BINDING = /^[A-Za-z0-9_-]{43}$/;

export function bindingCookieName(secure: boolean): string {
  return secure ? '__Host-gatehouse_bind' : 'gatehouse_bind';
}

/** The binding for this browser on this host: the nonce it holds, or a new one with its Set-Cookie. */
export function startBinding(cookieHeader: string | undefined, secure: boolean): { binding: string; setCookie: string | null } {
  const held = getCookie(cookieHeader, bindingCookieName(secure));
  if (held !== undefined && NONCE.test(held)) return { binding: hashNonce(held), setCookie: null };
  const nonce = randomBytes(32).toString('base64url');
  return { binding: hashNonce(nonce), setCookie: serializeCookie(bindingCookieName(secure), nonce, { secure, maxAge: BINDING_LIFETIME_SECONDS }) };
}

/** True when this browser holds the nonce whose hash is `binding`. */
export function holdsBinding(cookieHeader: string | undefined, secure: boolean, binding: string): boolean {
  const held = getCookie(cookieHeader, bindingCookieName(secure));
  if (held === undefined || !NONCE.test(held) || !BINDING.test(binding)) return false;
  return timingSafeEqual(Buffer.from(hashNonce(held)), Buffer.from(binding));
}

export function clearBinding(secure: boolean): string {
  return expireCookie(bindingCookieName(secure), secure);
}

function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}
