import { evaluate, networkAccess, openAccess, type Decision, type Identity } from '../policy/index.ts';
import { normalizeHost, normalizeRequestPath, type PolicyEntry, type RouteTable } from '../routes/index.ts';
import { renderPage, type PageKind } from './pages.ts';
import { routeFor, toPolicyRequest } from './passes.ts';
import { routeReport, type RouteReport } from './table-report.ts';

/**
 * `gatehouse explain`: what the request path would do with one request, answered by the same
 * match and decide passes a real request runs (`routeFor`, then `openAccess`/`evaluate`), on
 * one table generation. Nothing here decides on its own: a property test holds explain's answer
 * against real requests to a running Gatehouse.
 */

export interface ExplainQuery {
  readonly url: string;
  readonly method?: string;
  /** The signed-in user's address; null or absent for nobody signed in. */
  readonly user?: string | null;
  readonly sub?: string;
  readonly groups?: readonly string[];
  readonly claims?: Readonly<Record<string, string>>;
  /** The sign-in method the user signed in with (`provider:` entries). */
  readonly provider?: string;
  /** The client address, after trusted proxies (`ip:` entries, `networks`, `trusted_networks`). */
  readonly ip?: string;
  /** The request's Origin and Access-Control-Request-Method headers (a CORS preflight has both). */
  readonly origin?: string;
  readonly requestMethod?: string;
}

export interface Explanation {
  readonly request: { method: string; host: string; path: string; user: string | null; groups: readonly string[]; provider: string | null; ip: string | null };
  /** `allow`: forwarded (or, in forward-auth mode, a 200 for the outer proxy); `sign_in`: sent to sign in; `deny`: 403; `page`: Gatehouse answers with a page. */
  readonly outcome: 'allow' | 'sign_in' | 'deny' | 'page';
  /**
   * The status Gatehouse answers with: its own listener's, or for a forward_auth route the
   * forward-auth endpoint's (its own listener answers 421 for such a route, whoever asks).
   */
  readonly status: number;
  readonly page: PageKind | null;
  readonly route: RouteReport | null;
  readonly decision: Decision | null;
  /** Why, in one sentence. */
  readonly why: string;
  /** Where the request would go: the upstream addresses, or the outer proxy in forward-auth mode. */
  readonly destination: readonly { origin: string; ready: boolean; state: string; network: string | null }[] | 'outer_proxy' | null;
}

export type ExplainResult = { ok: true; explanation: Explanation } | { ok: false; problem: string };

export function explain(table: RouteTable, query: ExplainQuery, defaultAllow: readonly PolicyEntry[]): ExplainResult {
  let url: URL;
  try {
    url = new URL(query.url);
  } catch {
    return { ok: false, problem: `"${query.url}" is not a URL; write it in full, such as https://wiki.example.com/admin` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, problem: `"${query.url}" is not an http(s) URL` };
  const target = normalizeRequestPath(`${url.pathname}${url.search}`);
  if (!target.ok) return { ok: false, problem: `the path of "${query.url}" is not valid: ${target.reason}` };
  const method = (query.method ?? 'GET').toUpperCase();
  const host = normalizeHost(url.host);
  const identity = toIdentity(query);
  const request = {
    method,
    host,
    path: target.path,
    user: identity?.email ?? identity?.sub ?? null,
    groups: identity?.groups ?? [],
    provider: query.provider ?? null,
    ip: query.ip ?? null,
  };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const matched = routeFor(table, host, target.path, port);
  if (matched.kind === 'page') {
    const why =
      matched.page === 'not_found'
        ? `no route claims ${host}${target.path}: Gatehouse answers "not found" and lets nobody through`
        : `the address is held closed (${matched.page === 'app_stopped' ? 'its app is stopped' : 'its labels were rejected'}): no broader route takes its traffic`;
    return done({ request, outcome: 'page', status: pageStatus(matched.page), page: matched.page, route: null, decision: null, why, destination: null });
  }
  const route = matched.route;
  const report = routeReport(table, route);
  const headers: Record<string, string> = {};
  if (query.origin !== undefined) headers.origin = query.origin;
  if (query.requestMethod !== undefined) headers['access-control-request-method'] = query.requestMethod;
  const policyRequest = toPolicyRequest({ method, path: target.path, headers, remoteAddress: query.ip ?? '' });
  // The same order as the decide pass: the client's network, then what needs nobody, then the user.
  const decision = networkAccess(route.access, query.ip ?? null) ?? openAccess(route.policy, policyRequest) ?? evaluate(route.policy, identity, policyRequest, defaultAllow);
  const forwardAuth = route.mode === 'forward_auth';
  const destination = forwardAuth ? ('outer_proxy' as const) : route.upstreams.map((u) => ({ origin: u.origin, ready: u.ready, state: u.state, network: u.network ?? null }));
  if (!decision.allow) {
    const outcome = decision.reason === 'sign_in_required' ? 'sign_in' : 'deny';
    return done({ request, outcome, status: outcome === 'sign_in' ? 302 : 403, page: null, route: report, decision, why: whyRefused(decision, route.policy.allow.length === 0 && defaultAllow.length > 0), destination });
  }
  if (forwardAuth) {
    return done({ request, outcome: 'allow', status: 200, page: null, route: report, decision, why: `${whyAllowed(decision)}; the forward-auth endpoint answers 200 and the outer proxy forwards it`, destination });
  }
  if (route.ready.length === 0) {
    return done({ request, outcome: 'page', status: pageStatus('upstream_unavailable'), page: 'upstream_unavailable', route: report, decision, why: `${whyAllowed(decision)}, but no member of the route is ready (${report.state})`, destination });
  }
  return done({ request, outcome: 'allow', status: 200, page: null, route: report, decision, why: whyAllowed(decision), destination });
}

function done(explanation: Explanation): ExplainResult {
  return { ok: true, explanation };
}

function pageStatus(page: PageKind): number {
  return renderPage(page, { requestId: '-', accept: 'application/json' }).status;
}

function toIdentity(query: ExplainQuery): Identity | null {
  if ((query.user === undefined || query.user === null || query.user === '') && query.sub === undefined) return null;
  const email = query.user ?? null;
  return {
    sub: query.sub ?? email ?? '',
    email,
    emailVerified: email === null ? null : true,
    name: null,
    groups: [...(query.groups ?? [])],
    claims: { ...(query.claims ?? {}) },
    ...(query.provider === undefined ? {} : { provider: query.provider }),
  };
}

function whyAllowed(decision: Extract<Decision, { allow: true }>): string {
  switch (decision.reason) {
    case 'public':
      return 'the route is public: no sign-in';
    case 'bypass':
      return `the bypass rule "${decision.entry}" lets it through without sign-in`;
    case 'cors_preflight':
      return 'a CORS preflight, let through by cors_preflight';
    case 'allowed':
      return `allowed by "${decision.entry}"`;
    case 'trusted_network':
      return `the client is in a trusted network (${decision.entry}): no sign-in`;
  }
}

function whyRefused(decision: Extract<Decision, { allow: false }>, usesDefault: boolean): string {
  switch (decision.reason) {
    case 'network':
      return `the client is outside the route's networks (${decision.entry}): refused before any sign-in`;
    case 'sign_in_required':
      return 'nobody is signed in and the route needs someone: a browser is sent to sign in, an API client gets 401';
    case 'denied':
      return `refused by the deny entry "${decision.entry}" (deny always wins)`;
    case 'no_rule':
      return 'the route names no allow entry and GATEHOUSE_DEFAULT_ALLOW is empty: nobody is let in';
    case 'not_allowed':
      return usesDefault ? 'no entry of GATEHOUSE_DEFAULT_ALLOW (the route names none) matches this user' : 'no allow entry of the route matches this user';
  }
}
