/**
 * The few cookie operations Gatehouse needs, written out rather than pulled from a library
 * because they sit on the request path and must keep other cookies byte-for-byte.
 */

import { isGatehouseCookieName, stripGatehouseCookies } from '../http/index.ts';

export { isGatehouseCookieName, stripGatehouseCookies };

export function serializeCookie(name: string, value: string, options: { secure: boolean; maxAge: number }): string {
  const maxAge = Math.max(0, Math.floor(options.maxAge));
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}

export function expireCookie(name: string, secure: boolean): string {
  return `${name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Calls `visit(name, value)` for each `name=value` pair in a Cookie header, in order. */
export function forEachCookie(header: string | undefined, visit: (name: string, value: string) => void): void {
  if (!header) return;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end) visit(header.slice(start, eq).trim(), header.slice(eq + 1, end).trim());
    start = end + 1;
  }
}

/** The value of the first cookie with this exact name. */
export function getCookie(header: string | undefined, name: string): string | undefined {
  let found: string | undefined;
  forEachCookie(header, (cookieName, value) => {
    if (found === undefined && cookieName === name) found = value;
  });
  return found;
}
