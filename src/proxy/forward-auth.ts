import type { IncomingHttpHeaders } from 'node:http';
import { IDENTITY_HEADERS, type GateRequest, type GateResponse } from '../http/index.ts';
import { normalizeHost, normalizeRequestPath } from '../routes/index.ts';
import type { Admission } from './passes.ts';
import { renderPage } from './pages.ts';
import { resolveClientIp, type TrustedProxies } from './trusted-proxies.ts';

/**
 * The forward-auth endpoint: an outer proxy (Traefik's ForwardAuth, Caddy's `forward_auth`,
 * nginx's `auth_request`) asks whether the request it holds may pass, and Gatehouse answers with
 * the same passes its own listener runs (match one generation → identify → decide → render
 * headers), but forwards nothing:
 *
 * - 200 with the identity headers, for the outer proxy to copy onto the request;
 * - a redirect to sign in for a browser (`/.iap/forward_auth`), or a 401 carrying that redirect
 *   in `Location` (`/.iap/auth_request`: nginx only takes 2xx, 401 and 403 from it);
 * - 401 for an API client with no session; 403 when the policy refuses.
 *
 * The original method, scheme, host and URI come from headers, so they are believed only from
 * the proxies listed as forward-auth clients: anyone else gets a 403 and decides nothing.
 */

export type ForwardAuthStyle = 'redirect' | 'status_only';

/** Traefik and Caddy pass a redirect through to the browser; nginx's auth_request cannot. */
export const FORWARD_AUTH_PATHS: Readonly<Record<string, ForwardAuthStyle>> = Object.freeze({
  '/.iap/forward_auth': 'redirect',
  '/.iap/auth_request': 'status_only',
});

export function forwardAuthStyle(path: string): ForwardAuthStyle | null {
  return Object.hasOwn(FORWARD_AUTH_PATHS, path) ? (FORWARD_AUTH_PATHS[path] as ForwardAuthStyle) : null;
}

/** The request the forward-auth call is about, as the passes see a request to Gatehouse's own listener. */
export type OriginalRequest = { ok: true; request: GateRequest } | { ok: false; response: GateResponse };

/** `Host` syntax: a name or a bracketed IPv6 literal, and an optional port. */
const HOST = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const METHOD = /^[A-Z]{1,20}$/;

/**
 * Reads the original request from the forward-auth call. Traefik sends `X-Forwarded-Method`,
 * `-Proto`, `-Host`, `-Uri` and `-For`; Caddy sends `X-Forwarded-Method` and `-Uri` and keeps
 * the original `Host`; nginx sends what its configuration says (`X-Original-URI`,
 * `X-Original-Method`, and `Host`/`X-Forwarded-Proto`).
 */
export function originalRequest(
  call: { headers: IncomingHttpHeaders; hostHeader: string; socketScheme: 'http' | 'https'; peerIp: string; requestId: string },
  clients: TrustedProxies,
): OriginalRequest {
  if (!clients.isTrusted(call.peerIp)) {
    return refusal(call, 403, 'forward_auth_untrusted', 'Only the proxies listed in GATEHOUSE_FORWARD_AUTH_CLIENTS (or, without it, GATEHOUSE_TRUSTED_PROXIES) may ask Gatehouse for a forward-auth decision.');
  }
  const headers = call.headers;
  const method = first(headers['x-forwarded-method']) ?? first(headers['x-original-method']) ?? 'GET';
  if (!METHOD.test(method)) return refusal(call, 400, 'forward_auth_bad_request', 'X-Forwarded-Method (or X-Original-Method) is not an HTTP method.');
  // Never split at commas: a query may hold them.
  const uri = whole(headers['x-forwarded-uri']) ?? whole(headers['x-original-uri']);
  if (uri === undefined) {
    return refusal(call, 400, 'forward_auth_bad_request', 'The forward-auth call names no original URI: send X-Forwarded-Uri (Traefik and Caddy do) or X-Original-URI (nginx: proxy_set_header X-Original-URI $request_uri).');
  }
  const target = normalizeRequestPath(uri);
  if (!target.ok) return refusal(call, 400, 'forward_auth_bad_request', `The original URI is not valid: ${target.reason}.`);
  const host = first(headers['x-forwarded-host']) ?? call.hostHeader;
  if (!HOST.test(host)) return refusal(call, 400, 'forward_auth_bad_request', 'X-Forwarded-Host (or Host) is not a valid host name.');
  const proto = first(headers['x-forwarded-proto'])?.toLowerCase();
  const scheme = proto === 'https' || proto === 'http' ? proto : call.socketScheme;
  const forwardedFor = headers['x-forwarded-for'];
  const request: GateRequest = {
    method,
    host: normalizeHost(host),
    hostHeader: host,
    publicHost: host,
    scheme,
    path: target.path,
    query: target.query,
    headers,
    remoteAddress: resolveClientIp(call.peerIp, Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor, clients),
    isUpgrade: first(headers.upgrade)?.toLowerCase() === 'websocket',
    requestId: call.requestId,
  };
  return { ok: true, request };
}

/** The answer to the outer proxy, from what the passes decided about the original request. */
export function forwardAuthAnswer(admission: Admission, request: GateRequest, style: ForwardAuthStyle): GateResponse {
  if (admission.kind === 'forward') {
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    // Every identity header, empty unless this caller and route fill it: a copy rule then
    // overwrites whatever the client sent, also for requests let in without anyone.
    for (const name of Object.values(IDENTITY_HEADERS)) headers[name] = '';
    for (const [name, value] of Object.entries(admission.setHeaders)) if (name !== 'cookie') headers[name] = value;
    return { kind: 'respond', status: 200, headers, body: '' };
  }
  if (admission.kind === 'page') {
    const page = renderPage(admission.page, { requestId: request.requestId, accept: request.headers.accept, ...(admission.detail ? { detail: admission.detail } : {}) });
    return { kind: 'respond', status: statusFor(page.status, style), headers: page.headers, body: page.body };
  }
  const response = admission.response;
  if (style === 'redirect') return response;
  // nginx: the sign-in redirect becomes a 401 whose Location its `error_page 401` sends the browser to.
  const isRedirect = response.status >= 300 && response.status < 400;
  return { ...response, status: isRedirect ? 401 : statusFor(response.status, style) };
}

/** nginx turns anything but 2xx, 401 and 403 from auth_request into a 500: refusals stay 403 there. */
function statusFor(status: number, style: ForwardAuthStyle): number {
  if (style === 'redirect' || status === 401 || status === 403) return status;
  return 403;
}

function refusal(call: { headers: IncomingHttpHeaders; requestId: string }, status: number, code: string, message: string): { ok: false; response: GateResponse } {
  const body = JSON.stringify({ error: code, message, requestId: call.requestId });
  return { ok: false, response: { kind: 'respond', status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body } };
}

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const trimmed = text?.split(',', 1)[0]?.trim();
  return trimmed === '' ? undefined : trimmed;
}

function whole(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}
