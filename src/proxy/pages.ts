import type { IncomingHttpHeaders } from 'node:http';
import { PAGE_HEADERS, heading, html, prefersJson, renderDocument, requestIdLine } from '../http/index.ts';

/**
 * The pages Gatehouse answers with when it cannot forward: small, self-contained (inline CSS,
 * no scripts, no external assets), escaped, and free of internals: no stack traces, upstream
 * addresses or request headers, only what a user can act on plus the request id to quote.
 */

export type PageKind =
  | 'bad_request'
  | 'request_timeout'
  | 'headers_too_large'
  | 'not_found'
  | 'method_not_allowed'
  | 'sign_in_not_configured'
  | 'network_refused'
  | 'websockets_disabled'
  | 'websocket_origin_refused'
  | 'upstream_unavailable'
  | 'app_stopped'
  | 'app_misconfigured'
  | 'upstream_refused'
  | 'upstream_bad_response'
  | 'bad_gateway'
  | 'gateway_timeout'
  | 'shutting_down'
  | 'internal_error'
  | 'forward_auth_only';

interface PageText {
  readonly status: number;
  readonly title: string;
  /** The title when the page is about a named app. */
  readonly appTitle?: (app: string) => string;
  readonly message: string;
}

const PAGES: Record<PageKind, PageText> = {
  bad_request: { status: 400, title: 'Bad request', message: 'Gatehouse could not accept this request.' },
  request_timeout: { status: 408, title: 'Request timeout', message: 'The request took too long to arrive.' },
  headers_too_large: {
    status: 431,
    title: 'Request headers too large',
    message: 'The request headers are too large. Clearing this site\'s cookies usually helps.',
  },
  not_found: {
    status: 404,
    title: 'No app at this address',
    message: 'Nothing is published at this address. Check the link, or ask whoever runs this server.',
  },
  method_not_allowed: { status: 405, title: 'Method not allowed', message: 'Gatehouse does not forward this request method.' },
  sign_in_not_configured: {
    status: 403,
    title: 'Sign-in is not set up',
    message: 'This app needs sign-in, which is not configured on this Gatehouse yet.',
  },
  network_refused: {
    status: 403,
    title: 'Not available from here',
    message: 'This app cannot be reached from your network. Connect from a network it allows (for example your home network or VPN), then try again.',
  },
  websockets_disabled: {
    status: 400,
    title: 'WebSockets are not enabled',
    message: 'This app does not accept WebSocket connections through Gatehouse.',
  },
  websocket_origin_refused: {
    status: 403,
    title: 'Connection from another site refused',
    message: 'A page on another site tried to open a live connection to this app. Open the app at its own address instead.',
  },
  upstream_unavailable: {
    status: 503,
    title: 'This app is starting or unavailable',
    appTitle: (app) => `${app} is starting or unavailable`,
    message: 'The app is not ready to take requests yet. This page will try again in a few seconds.',
  },
  app_stopped: {
    status: 503,
    title: 'The app is not running',
    message: 'The app at this address is stopped. Whoever runs this server can start it again.',
  },
  app_misconfigured: {
    status: 503,
    title: 'The app is misconfigured',
    message: 'Gatehouse cannot serve the app at this address because its settings were rejected. Whoever runs this server can see why in Gatehouse\'s log or with "gatehouse routes".',
  },
  upstream_refused: {
    status: 502,
    title: 'The app refused the connection',
    appTitle: (app) => `${app} refused the connection`,
    message: 'Nothing is listening at the app\'s address. It may be starting or restarting; try again in a moment.',
  },
  upstream_bad_response: {
    status: 502,
    title: 'The app sent an answer Gatehouse could not read',
    appTitle: (app) => `${app} sent an answer Gatehouse could not read`,
    message: 'The app answered, or hung up, in a way Gatehouse cannot pass on. Whoever runs it will find the cause in Gatehouse\'s log under this request ID.',
  },
  bad_gateway: {
    status: 502,
    title: 'The app is not responding',
    appTitle: (app) => `${app} is not responding`,
    message: 'Gatehouse could not reach the app. It may be restarting; try again in a moment.',
  },
  gateway_timeout: {
    status: 504,
    title: 'The app took too long to answer',
    appTitle: (app) => `${app} took too long to answer`,
    message: 'Gatehouse waited for the app, but it did not answer in time. Try again in a moment.',
  },
  shutting_down: {
    status: 503,
    title: 'Gatehouse is restarting',
    message: 'Gatehouse is shutting down. Try again in a moment.',
  },
  forward_auth_only: {
    status: 421,
    title: 'This app is served by another proxy',
    message: 'Gatehouse only decides who may use this app (iap.mode=forward_auth); the proxy in front of it serves it. Open it at the address that proxy publishes, or point this address at that proxy.',
  },
  internal_error: {
    status: 500,
    title: 'Something went wrong',
    message: 'Gatehouse could not handle this request.',
  },
};

export interface PageOptions {
  readonly requestId: string;
  /** The client's Accept header, to choose between HTML and JSON. */
  readonly accept: string | string[] | undefined;
  /** A second line of explanation (escaped); never upstream details. */
  readonly detail?: string;
  /** The app's display name, when the page is about one app. */
  readonly appName?: string;
}

export interface PageResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export const RETRY_AFTER_SECONDS = 5;

export function renderPage(kind: PageKind, options: PageOptions): PageResponse {
  const page = PAGES[kind];
  const retry = kind === 'upstream_unavailable' || kind === 'shutting_down';
  const title = options.appName && page.appTitle ? page.appTitle(options.appName) : page.title;

  if (prefersJson(options.accept)) {
    const headers: Record<string, string> = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-type': 'application/json; charset=utf-8' };
    if (retry) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
    const body: Record<string, unknown> = { error: kind, status: page.status, message: title, requestId: options.requestId };
    if (options.detail) body.detail = options.detail;
    return { status: page.status, headers, body: JSON.stringify(body) };
  }
  const headers: Record<string, string> = { ...PAGE_HEADERS };
  if (retry) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  const content = html`${heading(page.status, title)}
<p>${page.message}</p>${options.detail ? html`<p>${options.detail}</p>` : html``}
${requestIdLine(options.requestId)}`;
  const body = renderDocument({ title: `${page.status} ${title}`, content, ...(retry ? { refreshSeconds: RETRY_AFTER_SECONDS } : {}) });
  return { status: page.status, headers, body };
}

export { prefersJson };

/** The page as a GateResponse-compatible object (for gates that answer with a Gatehouse page). */
export function pageFor(kind: PageKind, headers: IncomingHttpHeaders, requestId: string, detail?: string): PageResponse {
  return renderPage(kind, detail === undefined ? { requestId, accept: headers.accept } : { requestId, accept: headers.accept, detail });
}
