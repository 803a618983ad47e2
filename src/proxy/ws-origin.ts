import type { Route } from '../routes/index.ts';

/**
 * Which pages may open a websocket to a route. Browsers attach cookies to websocket handshakes
 * from any site and do not apply CORS to them, so without this check any page the user visits
 * (or an XSS in a sibling app, which is same-site behind one Gatehouse) could open an
 * authenticated websocket. Allowed: the route's own origin as the user sees it, the origins the
 * route lists in `wsOrigins`, and requests with no Origin at all (non-browser clients, which
 * carry no ambient cookies of the user's). `Origin: null` (sandboxed frames, `file:` pages,
 * some redirects) is refused: it names nobody.
 */
export function websocketOriginAllowed(
  origin: string | string[] | undefined,
  request: { readonly scheme: 'http' | 'https'; readonly publicHost: string },
  route: Pick<Route, 'fromScheme' | 'wsOrigins'>,
): boolean {
  if (origin === undefined) return true;
  if (Array.isArray(origin)) return false;
  const seen = serializedOrigin(origin);
  if (seen === null) return false;
  if (seen === serializedOrigin(`${request.scheme}://${request.publicHost}`)) return true;
  if (seen === serializedOrigin(`${route.fromScheme}://${request.publicHost}`)) return true;
  return route.wsOrigins.some((allowed) => serializedOrigin(allowed) === seen);
}

/** `scheme://host[:port]` with nothing after it, normalised (lowercase, default port dropped); else null. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\\\s]+$/i;

export function serializedOrigin(value: string): string | null {
  if (!ORIGIN.test(value)) return null;
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
