import type { GateRequest, GateResponse } from '../http/index.ts';

/**
 * A redirect route's answer (`iap.redirect`, see labels/redirect.ts): 307 to the target, with the
 * request's path and query when the target is an origin alone. The target was fixed by the
 * route's labels; the request only ever contributes a path below it.
 */
export function redirectResponse(request: GateRequest, target: string): GateResponse {
  const url = new URL(target);
  const location = url.pathname === '/' && url.search === '' && !target.endsWith('?') ? `${url.origin}${request.path}${request.query}` : url.href;
  return {
    kind: 'respond',
    status: 307,
    headers: { location, 'cache-control': 'no-store', 'content-type': 'text/plain; charset=utf-8' },
    body: `Moved to ${location}\n`,
  };
}
