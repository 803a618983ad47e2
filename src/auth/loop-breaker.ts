import { createHash } from 'node:crypto';
import { getCookie } from './cookie.ts';

/**
 * Counts how often one browser was sent to sign in for the same URL. A browser that keeps
 * dropping the session cookie (blocked cookies, an https route opened over http, a cookie over
 * the size limit) would otherwise bounce between the app and the sign-in host forever.
 *
 * The counter lives in a small cookie on the route host that is never `Secure` and never
 * `__Host-`, so it survives exactly the mistakes that make the session cookie vanish. It is
 * not reset on a successful sign-in (the reset would be kept while the session was dropped,
 * and the loop would go on); it simply expires after a short window.
 */

export const LOOP_COOKIE = 'gatehouse_loop';
/** Failed round trips tolerated for one URL before showing an error page instead. */
export const MAX_ROUND_TRIPS = 3;
export const LOOP_WINDOW_SECONDS = 120;

export interface RoundTrip {
  /** True when this URL has already been sent to sign-in MAX_ROUND_TRIPS times in the window. */
  readonly exceeded: boolean;
  /** Records this trip (or, when exceeded, starts counting afresh for a later retry). */
  readonly setCookie: string;
}

export function countRoundTrip(cookieHeader: string | undefined, url: string): RoundTrip {
  const key = createHash('sha256').update(url).digest('base64url').slice(0, 12);
  const previous = parse(getCookie(cookieHeader, LOOP_COOKIE));
  const count = previous !== null && previous.key === key ? previous.count : 0;
  if (count >= MAX_ROUND_TRIPS) return { exceeded: true, setCookie: cookie('', 0) };
  return { exceeded: false, setCookie: cookie(`${key}.${count + 1}`, LOOP_WINDOW_SECONDS) };
}

function parse(value: string | undefined): { key: string; count: number } | null {
  if (value === undefined) return null;
  const match = /^([A-Za-z0-9_-]{12})\.(\d{1,2})$/.exec(value);
  return match === null ? null : { key: match[1] as string, count: Number(match[2]) };
}

function cookie(value: string, maxAge: number): string {
  return `${LOOP_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax`;
}
