import { IDENTITY_HEADERS, stripGatehouseCookies } from '../http/index.ts';
import type { Route } from '../routes/index.ts';
import type { SecretReader } from '../util/secrets.ts';

/**
 * The "render headers" pass: what an upstream learns about the user. The X-Iap-* headers (per
 * the route's `identity` mode), the route's `header.<Name>` templates, and the client's Cookie
 * header without Gatehouse's own cookies. Templates are compiled once per (frozen) route, the
 * first time the route is used, so a request only joins strings.
 */

/** The user as upstreams see it; every value is a string, empty when unknown. */
export interface IdentityValues {
  readonly user: string;
  readonly email: string;
  readonly name: string;
  readonly groups: string;
  readonly jwt: string;
}

type Placeholder = keyof IdentityValues;
type Part = string | { readonly placeholder: Placeholder };

interface CompiledHeader {
  readonly name: string;
  /** `secret:NAME`: the file name under the secrets directory. */
  readonly secret: string | null;
  readonly parts: readonly Part[];
  readonly usesIdentity: boolean;
}

interface CompiledRoute {
  readonly headers: readonly CompiledHeader[];
  readonly needsAssertion: boolean;
}

const PLACEHOLDER = /\{(email|user|name|groups|jwt)\}/g;
const compiledRoutes = new WeakMap<Route, CompiledRoute>();

function compile(route: Route): CompiledRoute {
  let compiled = compiledRoutes.get(route);
  if (compiled !== undefined) return compiled;
  const headers: CompiledHeader[] = [];
  let usesJwt = false;
  for (const [name, template] of Object.entries(route.setHeaders)) {
    if (template.startsWith('secret:')) {
      headers.push({ name, secret: template.slice('secret:'.length), parts: [], usesIdentity: false });
      continue;
    }
    const parts: Part[] = [];
    let last = 0;
    for (const match of template.matchAll(PLACEHOLDER)) {
      if (match.index > last) parts.push(template.slice(last, match.index));
      const placeholder = match[1] as Placeholder;
      if (placeholder === 'jwt') usesJwt = true;
      parts.push({ placeholder });
      last = match.index + match[0].length;
    }
    if (last < template.length) parts.push(template.slice(last));
    headers.push({ name, secret: null, parts, usesIdentity: parts.some((part) => typeof part !== 'string') });
  }
  compiled = { headers, needsAssertion: route.identity !== 'none' || usesJwt };
  compiledRoutes.set(route, compiled);
  return compiled;
}

/** Whether forwarding a signed-in request to this route needs the identity JWT. */
export function needsAssertion(route: Route): boolean {
  return compile(route).needsAssertion;
}

export type RenderedHeaders =
  | {
      readonly ok: true;
      /** Set upstream last; they overwrite anything of the same name. */
      readonly setHeaders: Record<string, string>;
      /** Client headers to drop (the Cookie header when only Gatehouse's cookies were in it). */
      readonly removeHeaders: readonly string[];
    }
  | { readonly ok: false; readonly missingSecret: string };

const NOTHING: readonly string[] = Object.freeze([]);
const COOKIE: readonly string[] = Object.freeze(['cookie']);

/**
 * The headers for one request. `identity` is null for requests let through without a user
 * (public routes, bypass rules, CORS preflights): then no X-Iap-* header is set (the proxy
 * strips any the client sent) and templates that name the user are left out.
 */
export function renderHeaders(route: Route, identity: IdentityValues | null, cookieHeader: string | undefined, readSecret: SecretReader): RenderedHeaders {
  const setHeaders: Record<string, string> = {};
  if (identity !== null) {
    if (route.identity === 'headers') {
      setHeaders[IDENTITY_HEADERS.user] = identity.user;
      setHeaders[IDENTITY_HEADERS.email] = identity.email;
      setHeaders[IDENTITY_HEADERS.groups] = identity.groups;
      setHeaders[IDENTITY_HEADERS.name] = identity.name;
    }
    if (route.identity !== 'none') setHeaders[IDENTITY_HEADERS.jwt] = identity.jwt;
  }
  for (const header of compile(route).headers) {
    if (header.secret !== null) {
      const value = readSecret(header.secret);
      if (value === null) return { ok: false, missingSecret: header.secret };
      setHeaders[header.name] = value;
    } else if (!header.usesIdentity) {
      setHeaders[header.name] = header.parts.join('');
    } else if (identity !== null) {
      let value = '';
      for (const part of header.parts) value += typeof part === 'string' ? part : identity[part.placeholder];
      setHeaders[header.name] = value;
    }
  }
  let removeHeaders = NOTHING;
  if (cookieHeader !== undefined) {
    const kept = stripGatehouseCookies(cookieHeader);
    if (kept === undefined) removeHeaders = COOKIE;
    else if (kept !== cookieHeader) setHeaders['cookie'] = kept;
  }
  return { ok: true, setHeaders, removeHeaders };
}
