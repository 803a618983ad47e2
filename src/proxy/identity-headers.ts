import { IDENTITY_HEADERS, stripGatehouseCookies } from '../http/index.ts';
import { compileHeaderTemplate, type HeaderTemplate, type Route, type RouteTable } from '../routes/index.ts';
import type { SecretReader } from '../util/secrets.ts';

/**
 * The "render headers" pass: what an upstream learns about the user. The X-Iap-* headers (per
 * the route's `identity` mode), the route's `header.<Name>` templates, and the client's Cookie
 * header without Gatehouse's own cookies. Templates are compiled once per (frozen) route when
 * the proxy first sees a table generation (observeHeaderTemplates), so a request only joins strings.
 */

/** The user as upstreams see it; every value is a string, empty when unknown. */
export interface IdentityValues {
  readonly user: string;
  readonly email: string;
  readonly name: string;
  readonly groups: string;
  /** The identity JWT; on a route from a Pomerium file, in Pomerium's form. */
  readonly jwt: string;
  /** Every claim of the session, for Pomerium's `jwt_claims_headers`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

interface CompiledHeader extends HeaderTemplate {
  readonly name: string;
}

/** A route's templates, compiled; or why one cannot be (then the route is misconfigured and refuses every request). */
export type CompiledRoute =
  | { readonly ok: true; readonly headers: readonly CompiledHeader[]; readonly needsAssertion: boolean }
  | { readonly ok: false; readonly header: string; readonly error: string };

const compiledRoutes = new WeakMap<Route, CompiledRoute>();
let observedTable: RouteTable | undefined;

function compileRoute(route: Route): CompiledRoute {
  const headers: CompiledHeader[] = [];
  let usesJwt = false;
  for (const [name, value] of Object.entries(route.setHeaders)) {
    const compiled = compileHeaderTemplate(value);
    if (!compiled.ok) return { ok: false, header: name, error: compiled.error };
    usesJwt ||= compiled.template.usesJwt;
    headers.push({ name, ...compiled.template });
  }
  return { ok: true, headers, needsAssertion: route.identity !== 'none' || usesJwt || route.pomerium?.identityHeaders === true };
}

/**
 * Compiles the templates of every route in a table generation, once, when the proxy first sees
 * the generation (before matching the request that brought it), so requests only join strings.
 * Routes are frozen, so a route kept across generations keeps its compiled form.
 */
export function observeHeaderTemplates(table: RouteTable): void {
  if (table === observedTable) return;
  for (const route of table.routes) {
    if (!compiledRoutes.has(route)) compiledRoutes.set(route, compileRoute(route));
  }
  observedTable = table;
}

/** The compiled templates of a route (compiled here only for a route outside every observed generation). */
export function compiledHeaders(route: Route): CompiledRoute {
  let compiled = compiledRoutes.get(route);
  if (compiled === undefined) {
    compiled = compileRoute(route);
    compiledRoutes.set(route, compiled);
  }
  return compiled;
}

/** Whether forwarding a signed-in request to this route needs the identity JWT. */
export function needsAssertion(route: Route): boolean {
  const compiled = compiledHeaders(route);
  return !compiled.ok || compiled.needsAssertion;
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
    if (route.pomerium?.identityHeaders === true) addPomeriumIdentity(setHeaders, route.pomerium.claimHeaders, identity);
  }
  const compiled = compiledHeaders(route);
  // The passes refuse a misconfigured route before identifying anyone; this only guards other callers.
  if (!compiled.ok) throw new Error(`header ${compiled.header} of route ${route.id} cannot be compiled: ${compiled.error}`);
  for (const header of compiled.headers) {
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

/** Pomerium's `pass_identity_headers`: the signed assertion, and each `jwt_claims_headers` entry. */
function addPomeriumIdentity(setHeaders: Record<string, string>, claimHeaders: Readonly<Record<string, string>>, identity: IdentityValues): void {
  setHeaders['x-pomerium-jwt-assertion'] = identity.jwt;
  for (const name in claimHeaders) setHeaders[name] = claimText(identity, claimHeaders[name] as string);
}

/** A claim as Pomerium puts it in a header: text as is, lists joined with commas, absent as empty. */
export function claimText(identity: IdentityValues, claim: string): string {
  switch (claim) {
    case 'user':
    case 'sub':
      return identity.user;
    case 'email':
      return identity.email;
    case 'name':
      return identity.name;
    case 'groups':
      return identity.groups;
  }
  const value = identity.claims?.[claim];
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(',');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
