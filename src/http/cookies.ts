/**
 * Gatehouse's own cookie names. Every cookie Gatehouse sets starts with one of these prefixes,
 * compared case-insensitively (browsers treat `__Host-` and `__host-` alike for the prefix rules,
 * and apps behind Gatehouse must not be able to set any spelling of them).
 */
const OWN_PREFIXES = ['gatehouse_', '__host-gatehouse_', '__secure-gatehouse_'];

export function isGatehouseCookieName(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return OWN_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/**
 * Whether a `Set-Cookie` value would put a cookie the browser later sends under one of
 * Gatehouse's names. A nameless cookie (`=gatehouse_session=x`, or no `=` at all) is sent back
 * as its bare value, so the value is what counts then.
 */
export function setsGatehouseCookie(setCookie: string): boolean {
  const semicolon = setCookie.indexOf(';');
  const pair = (semicolon === -1 ? setCookie : setCookie.slice(0, semicolon)).trim();
  const eq = pair.indexOf('=');
  if (eq === -1) return isGatehouseCookieName(pair);
  const name = pair.slice(0, eq).trim();
  return name === '' ? isGatehouseCookieName(pair.slice(eq + 1)) : isGatehouseCookieName(name);
}

/**
 * The Cookie header an upstream should see: every Gatehouse cookie (session, its chunks,
 * flow cookies, any `gatehouse_` name) removed, every other cookie kept exactly as sent and
 * in order. Undefined when nothing is left.
 */
export function stripGatehouseCookies(header: string | undefined): string | undefined {
  if (!header) return undefined;
  if (!/gatehouse_/i.test(header)) return header;
  const kept: string[] = [];
  for (const piece of header.split(';')) {
    const eq = piece.indexOf('=');
    const name = (eq === -1 ? piece : piece.slice(0, eq)).trim();
    if (eq !== -1 && isGatehouseCookieName(name)) continue;
    if (piece.trim() === '') continue;
    kept.push(kept.length === 0 ? piece.trimStart() : piece);
  }
  return kept.length === 0 ? undefined : kept.join(';');
}
