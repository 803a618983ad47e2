import type { GateRequest, GateResponse } from '../http/index.ts';
import { PAGE_HEADERS, heading, html, prefersJson, renderDocument, requestIdLine, type Html } from '../http/index.ts';

/**
 * The pages and small responses of sign-in: self-contained HTML (inline CSS, no scripts, no
 * external assets), or JSON when the client asks for it. Text from claims is always escaped;
 * nothing here ever shows a token, a cookie or a route's rules.
 */

export { html, prefersJson, type Html };

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export interface PageContent {
  status: number;
  title: string;
  /** The first paragraph. */
  message: string;
  /** More markup after the message: user details, forms, links. */
  body?: Html;
  /** The JSON answer for API clients; defaults to `{ error, message }`. */
  json?: Record<string, unknown>;
  /** Machine-readable error code for the default JSON body. */
  code?: string;
  headers?: Record<string, string | string[]>;
}

export function page(req: GateRequest, content: PageContent): GateResponse {
  const extra = content.headers ?? {};
  if (prefersJson(req.headers.accept)) {
    const body = content.json ?? { error: content.code ?? 'error', message: content.title, requestId: req.requestId };
    return { kind: 'respond', status: content.status, headers: { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', ...extra }, body: JSON.stringify(body) };
  }
  return {
    kind: 'respond',
    status: content.status,
    headers: { ...PAGE_HEADERS, ...extra },
    body: layout(content.status, content.title, html`<p>${content.message}</p>${content.body ?? html``}`, req.requestId),
  };
}

export function json(status: number, body: unknown, headers: Record<string, string | string[]> = {}): GateResponse {
  return { kind: 'respond', status, headers: { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/** 302 for redirects after a GET, 303 after a POST (the browser then follows with a GET). */
export function redirect(location: string, setCookies: readonly string[] = [], status: 302 | 303 = 302): GateResponse {
  const headers: Record<string, string | string[]> = { ...BASE_HEADERS, location, 'referrer-policy': 'no-referrer' };
  if (setCookies.length > 0) headers['set-cookie'] = [...setCookies];
  return { kind: 'respond', status, headers, body: '' };
}

/** A button that POSTs to `action` (the CSRF token travels in the action's query). */
export function postButton(action: string, label: string): Html {
  return html`<form method="post" action="${action}"><button type="submit">${label}</button></form>`;
}

export function link(href: string, label: string): Html {
  return html`<a href="${href}">${label}</a>`;
}

/** Sign-in pages also show user details (a definition list), app lists and buttons. */
const SIGN_IN_CSS = `dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{color:#6b7280}dd{margin:0;overflow-wrap:anywhere}
ul{padding-left:1.2rem}
button{font:inherit;padding:.45rem 1rem;border-radius:8px;border:1px solid #c4c9d2;background:#fff;cursor:pointer}`;
const SIGN_IN_DARK_CSS = 'dt{color:#a0a7b4}button{background:#2a2e37;color:inherit;border-color:#3a3f4a}';

function layout(status: number, title: string, content: Html, requestId: string): string {
  return renderDocument({
    title,
    content: html`${heading(status, title)}
${content}
${requestIdLine(requestId)}`,
    extraCss: SIGN_IN_CSS,
    extraDarkCss: SIGN_IN_DARK_CSS,
  });
}

export function methodNotAllowed(req: GateRequest, allow: string): GateResponse {
  return page(req, { status: 405, title: 'Method not allowed', message: 'Gatehouse does not accept this method here.', code: 'method_not_allowed', headers: { allow } });
}
