import type { Route } from '../routes/index.ts';

/**
 * The headers a route sets on its app's responses (`response_header.<Name>`, `hsts`), lowercased
 * as the transport hands response headers over, so they replace the app's own. Computed once
 * per route: routes are frozen and live as long as their table generation.
 */

/** The `hsts` preset: one year, this host only (no includeSubDomains, no preload), on https routes. */
export const HSTS_VALUE = 'max-age=31536000';

const cache = new WeakMap<Route, Readonly<Record<string, string>>>();

export function routeResponseHeaders(route: Route): Readonly<Record<string, string>> {
  let headers = cache.get(route);
  if (headers === undefined) {
    headers = Object.freeze({
      ...route.responseHeaders,
      ...(route.hsts && route.fromScheme === 'https' ? { 'strict-transport-security': HSTS_VALUE } : {}),
    });
    cache.set(route, headers);
  }
  return headers;
}
