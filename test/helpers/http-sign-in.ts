import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type LookupFunction } from 'node:net';
import { CookieJar } from './cookie-jar.ts';

export { CookieJar, isSecureContext, type StoredCookie } from './cookie-jar.ts';

/**
 * Signs in over plain HTTP, the way a browser would but without one: follows redirects by hand,
 * keeps cookies per host, and fills in the provider's real login form. Every request goes
 * through the real endpoints of Gatehouse and of the OpenID Provider.
 */

export interface LoopbackRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Extra trusted CA certificates (PEM) for https:// test servers. */
  ca?: string | string[];
  /** Connect to this loopback port instead of the URL's (one replica behind a balancer); Host keeps the URL's. */
  connectPort?: number;
}

const LOOPBACK_NAMES = /(^|\.)(localhost|test)$/i;

/**
 * A fetch-compatible request that never follows redirects and, like Chromium, resolves
 * `localhost`, `*.localhost` (and `*.test` for tests) to 127.0.0.1 while keeping the name in the
 * Host header and in TLS SNI. Node's own fetch cannot: it resolves through the system resolver
 * and drops a caller-set Host header.
 */
export function loopbackFetch(input: string | URL, init: LoopbackRequestInit = {}): Promise<Response> {
  const url = new URL(input);
  const lookup: LookupFunction | undefined = LOOPBACK_NAMES.test(url.hostname)
    ? (_hostname, options, callback) => {
        if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }
    : undefined;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        lookup,
        ca: init.ca,
        timeout: 30_000,
        ...(init.connectPort === undefined ? {} : { createConnection: () => connect(init.connectPort!, '127.0.0.1') }),
      },
      (res) => collect(res).then(resolve, reject),
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url.href} timed out`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

async function collect(res: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 500;
  const body = [101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}

export interface HttpSignInOptions {
  /** Stop before requesting a URL (e.g. capture the callback URL). The matching URL is returned, not fetched. */
  stopAt?: (url: URL) => boolean;
  maxRedirects?: number;
  ca?: string | string[];
  /** Sent with every request (e.g. X-Forwarded-For, as a proxy in front would add it). */
  headers?: Record<string, string>;
  /** Every request of the flow to this loopback port (one replica behind a balancer). */
  connectPort?: number;
}

export interface HttpSignInResult {
  /** The last response received (a redirect when `stopAt` matched). */
  response: Response;
  /** The URL of `response`, or the URL `stopAt` matched. */
  url: URL;
  /** Body of the last response (already read). */
  body: string;
  jar: CookieJar;
  /** Every URL requested, in order. */
  visited: URL[];
  /** Whether the login form was submitted on the way. */
  submittedLogin: boolean;
}

interface LoginForm {
  action: URL;
  fields: URLSearchParams;
  usernameField: string;
  passwordField: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export async function signInViaHttp(
  startUrl: string,
  username: string,
  password: string,
  cookieJar: CookieJar = new CookieJar(),
  options: HttpSignInOptions = {},
): Promise<HttpSignInResult> {
  const visited: URL[] = [];
  let url = new URL(startUrl);
  let method = 'GET';
  let body: string | undefined;
  let submittedLogin = false;
  for (let hop = 0; hop <= (options.maxRedirects ?? 20); hop += 1) {
    visited.push(url);
    const headers: Record<string, string> = { accept: 'text/html,application/json;q=0.9,*/*;q=0.8', 'user-agent': 'gatehouse-tests', ...options.headers };
    const cookie = cookieJar.header(url);
    if (cookie !== undefined) headers['cookie'] = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await loopbackFetch(url, { method, headers, body, ca: options.ca, connectPort: options.connectPort });
    cookieJar.store(url, response.headers.getSetCookie());
    const text = await response.text();
    const location = response.headers.get('location');
    if (REDIRECT_STATUSES.has(response.status) && location !== null) {
      const next = new URL(location, url);
      if (options.stopAt?.(next) === true) return { response, url: next, body: text, jar: cookieJar, visited, submittedLogin };
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
      continue;
    }
    const form = submittedLogin ? null : findLoginForm(text, url);
    if (form === null) return { response, url, body: text, jar: cookieJar, visited, submittedLogin };
    form.fields.set(form.usernameField, username);
    form.fields.set(form.passwordField, password);
    submittedLogin = true;
    url = form.action;
    method = 'POST';
    body = form.fields.toString();
  }
  throw new Error(`signInViaHttp: more than ${options.maxRedirects ?? 20} redirects, last at ${url.href} (visited ${visited.map((u) => u.href).join(' -> ')})`);
}

function attributes(tag: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const match of tag.matchAll(/([a-zA-Z_:-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    result.set(match[1]!.toLowerCase(), decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return result;
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The first form with a password field, with its other fields (hidden inputs) pre-filled. */
export function findLoginForm(html: string, pageUrl: URL): LoginForm | null {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const formAttributes = attributes(match[1]!);
    const fields = new URLSearchParams();
    let usernameField: string | null = null;
    let passwordField: string | null = null;
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const inputAttributes = attributes(input[1]!);
      const name = inputAttributes.get('name');
      if (name === undefined) continue;
      const type = (inputAttributes.get('type') ?? 'text').toLowerCase();
      if (type === 'password') passwordField ??= name;
      else if (['text', 'email'].includes(type)) usernameField ??= name;
      if (!['submit', 'button', 'checkbox', 'radio'].includes(type)) fields.set(name, inputAttributes.get('value') ?? '');
    }
    if (passwordField === null || usernameField === null) continue;
    return { action: new URL(formAttributes.get('action') ?? pageUrl.href, pageUrl), fields, usernameField, passwordField };
  }
  return null;
}
