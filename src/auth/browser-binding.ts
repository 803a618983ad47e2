import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { expireCookie, forEachCookie, serializeCookie } from './cookie.ts';

/**
 * Ties a sign-in to the browser that started it (login CSRF). Before a route host sends a
 * browser to sign in, it gives that browser a random nonce in a host-only cookie and puts the
 * nonce's hash in the sign-in URL; the sign-in host seals that hash into the handoff, and the
 * route host's callback accepts the handoff only from a browser holding the nonce. A callback
 * link made in someone else's browser therefore signs nobody in.
 *
 * The cookie is neither `Secure` nor `__Host-` on plain http hosts, like the session cookie,
 * and it is consumed by the sign-in it served. Every start makes a new nonce, and the callback
 * wants exactly one nonce cookie: a nonce planted by a sibling subdomain (a `Domain` cookie,
 * possible on plain http) is never adopted, and beside the browser's own it makes the callback
 * refuse rather than guess.
 */

export const BINDING_LIFETIME_SECONDS = 600;
const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** The hash as it travels in URLs and inside the handoff. */
export const BINDING = /^[A-Za-z0-9_-]{43}$/;

export function bindingCookieName(secure: boolean): string {
  return secure ? '__Host-gatehouse_bind' : 'gatehouse_bind';
}

/** A new nonce for this browser on this host: its hash for the sign-in URL, and its Set-Cookie. */
export function startBinding(secure: boolean): { binding: string; setCookie: string } {
  const nonce = randomBytes(32).toString('base64url');
  return { binding: hashNonce(nonce), setCookie: serializeCookie(bindingCookieName(secure), nonce, { secure, maxAge: BINDING_LIFETIME_SECONDS }) };
}

/** True when this browser holds exactly one nonce cookie, and it is the one whose hash is `binding`. */
export function holdsBinding(cookieHeader: string | undefined, secure: boolean, binding: string): boolean {
  const name = bindingCookieName(secure);
  const held: string[] = [];
  forEachCookie(cookieHeader, (cookieName, value) => {
    if (cookieName === name) held.push(value);
  });
  const [nonce] = held;
  if (held.length !== 1 || nonce === undefined || !NONCE.test(nonce) || !BINDING.test(binding)) return false;
  return timingSafeEqual(Buffer.from(hashNonce(nonce)), Buffer.from(binding));
}

export function clearBinding(secure: boolean): string {
  return expireCookie(bindingCookieName(secure), secure);
}

function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}
