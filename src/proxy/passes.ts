import type { AuditSink, Logger } from '../observability/index.ts';
import { evaluate, networkAccess, openAccess, type Decision, type PolicyRequest } from '../policy/index.ts';
import { matchClaim, type Route, type RouteTable } from '../routes/index.ts';
import { closedClaimPage } from './claim-page.ts';
import type { PolicyEntry } from '../routes/index.ts';
import type { SecretReader } from '../util/secrets.ts';
import type { AccessGate, Caller } from '../auth/index.ts';
import type { GateRequest, GateResponse } from '../http/index.ts';
import { compiledHeaders, needsAssertion, renderHeaders, type IdentityValues } from './identity-headers.ts';
import { renderPage, type PageKind } from './pages.ts';
import { websocketOriginAllowed } from './ws-origin.ts';
import { redirectResponse } from './redirect-route.ts';

/**
 * The request path after `describe`, as one ordered list of passes, shared by plain requests
 * and websocket upgrades so both follow the same rules:
 *
 *   own endpoints → match → identify → decide → render headers
 *
 * Every pass sees the one table generation the caller read at the start: whatever is published
 * meanwhile, this request is judged and forwarded against the routes it was matched on. The
 * result is what happens to the request: Gatehouse answers it, or it goes to this route with
 * these headers (`forward` is the caller's last pass).
 */
export type Admission =
  | { readonly kind: 'respond'; readonly route: Route | null; readonly response: GateResponse }
  | { readonly kind: 'page'; readonly route: Route | null; readonly page: PageKind; readonly detail?: string }
  | {
      readonly kind: 'forward';
      readonly route: Route;
      readonly decision: Decision;
      /** Set upstream last; they overwrite. */
      readonly setHeaders: Readonly<Record<string, string>>;
      /** Client headers to drop before forwarding; compared folded. */
      readonly removeHeaders: readonly string[];
    };

export interface PassOptions {
  readonly gate: AccessGate;
  /** Refusals of the request path, with the deciding entry; absent in tests that build options by hand. */
  readonly audit?: AuditSink | undefined;
  /** Who may use a route whose labels name no allow entry (GATEHOUSE_DEFAULT_ALLOW). */
  readonly defaultAllow: readonly PolicyEntry[];
  /** Where `secret:NAME` header values come from. */
  readonly readSecret: SecretReader;
  readonly logger: Logger;
}

/**
 * Who runs the passes: Gatehouse's own proxy listener, or the forward-auth endpoint asking on an
 * outer proxy's behalf (which forwards the request itself, so own endpoints and the upstream's
 * readiness are not its business).
 */
export type Purpose = 'proxy' | 'forward_auth';

export async function admit(request: GateRequest, table: RouteTable, options: PassOptions, purpose: Purpose = 'proxy'): Promise<Admission> {
  const { gate } = options;
  // Only what is really pending is awaited: the common answers (no own endpoint, a session read
  // synchronously, a cached JWT) are plain values and cost no extra turn of the event loop.
  const ownAnswer = gate.ownEndpoint && purpose === 'proxy' ? gate.ownEndpoint(request, table) : null;
  const own = ownAnswer instanceof Promise ? await ownAnswer : ownAnswer;
  if (own !== null) return { kind: 'respond', route: null, response: own };

  const matched = routeFor(table, request.host, request.path, authorityPort(request));
  if (matched.kind === 'page') return { kind: 'page', route: null, page: matched.page };
  const route = matched.route;
  // The outer proxy forwards this route; serving it here too would bypass whatever that proxy adds.
  if (route.mode === 'forward_auth' && purpose === 'proxy') return { kind: 'page', route, page: 'forward_auth_only' };
  // A header template that cannot compile makes the route misconfigured: refused, never served without it.
  const templates = compiledHeaders(route);
  if (!templates.ok) {
    options.logger.error({ route: route.id, header: templates.header, requestId: request.requestId }, `the route's header ${templates.header} is invalid (${templates.error}): the request is refused`);
    return { kind: 'page', route, page: 'internal_error', detail: `This app's header settings are invalid: ${templates.header}.` };
  }
  // Before any identity work: a page on another site must not even learn whether the user is signed in.
  if (request.isUpgrade && !websocketOriginAllowed(request.headers.origin, request, route)) {
    return { kind: 'page', route, page: 'websocket_origin_refused' };
  }

  // identify (lazily: only when the policy needs someone) → decide, once.
  const policyRequest = toPolicyRequest(request);
  // The client's network decides first: a route limited to networks refuses others before any sign-in.
  const open = networkAccess(route.access, request.remoteAddress) ?? openAccess(route.policy, policyRequest);
  const found = open === null ? gate.identify(request, table, route) : null;
  const caller = found instanceof Promise ? await found : found;
  const decision = open ?? evaluate(route.policy, caller, policyRequest, options.defaultAllow);
  logDecision(options.logger, request, route, decision, caller);
  if (!decision.allow && decision.reason !== 'sign_in_required') auditRefusal(options.audit, request, route, decision, caller, purpose);
  // Refused for the client's network (a `networks` limit, a denied `ip:`): no sign-in would change it.
  if (!decision.allow && caller === null && (decision.reason === 'network' || decision.reason === 'denied')) return { kind: 'page', route, page: 'network_refused' };
  if (!decision.allow) return { kind: 'respond', route, response: gate.refuse(request, route, decision, caller, table) };
  // Admitted, but perhaps not signed in the way the route asks (method, second factor, age): sign in again.
  const stepUp = caller !== null && gate.stepUp ? gate.stepUp(request, route, caller, table) : null;
  if (stepUp !== null) return { kind: 'respond', route, response: stepUp };

  // A redirect route (iap.redirect) answers here: there is nothing to forward to.
  if (route.redirect !== null) return request.isUpgrade ? { kind: 'page', route, page: 'websockets_disabled' } : { kind: 'respond', route, response: redirectResponse(request, route.redirect) };

  // Only now, for someone the route admits, may the app's state show through.
  if (request.isUpgrade && !route.websockets) return { kind: 'page', route, page: 'websockets_disabled' };
  if (route.ready.length === 0 && purpose === 'proxy') return { kind: 'page', route, page: 'upstream_unavailable' };

  const values = caller === null ? null : identityValues(caller, route, request.host);
  const identity = values instanceof Promise ? await values : values;
  const rendered = renderHeaders(route, identity, request.headers.cookie, options.readSecret);
  if (!rendered.ok) {
    options.logger.error(
      { route: route.id, secret: rendered.missingSecret, requestId: request.requestId },
      `cannot read secret:${rendered.missingSecret} for a header of this route: the request is refused`,
    );
    return { kind: 'page', route, page: 'internal_error', detail: 'A secret this app needs is missing on the Gatehouse host.' };
  }
  // A verified app password or token is for Gatehouse: it never reaches the app.
  const removeHeaders = caller?.via === undefined ? rendered.removeHeaders : [...rendered.removeHeaders, 'authorization'];
  return { kind: 'forward', route, decision, setHeaders: rendered.setHeaders, removeHeaders };
}

/** The port the client addressed (`Host: a.example:8443`), else the scheme's: what a Pomerium route's `from` port is compared with. */
function authorityPort(req: GateRequest): number {
  const port = /:(\d{1,5})$/.exec(req.hostHeader);
  return port === null ? (req.scheme === 'https' ? 443 : 80) : Number(port[1]);
}

/**
 * The match pass: the route at this host and path in this generation, or the page that answers
 * instead. A closed claim (stopped or misconfigured) holds its address: its own page, never a
 * broader route. `gatehouse explain` asks the same question through this function.
 */
export function routeFor(table: RouteTable, host: string, path: string, port: number | null = null): { kind: 'route'; route: Route } | { kind: 'page'; page: PageKind } {
  const claim = matchClaim(table, host, path, port);
  if (claim === undefined) return { kind: 'page', page: 'not_found' };
  if (claim.route === null) return { kind: 'page', page: closedClaimPage(claim.state) };
  return { kind: 'route', route: claim.route };
}

function auditRefusal(audit: AuditSink | undefined, req: GateRequest, route: Route, decision: Decision, caller: Caller | null, via: Purpose): void {
  audit?.record({
    event: 'refused',
    via,
    route: route.id,
    host: req.host,
    method: req.method,
    path: req.path,
    user: caller === null ? null : (caller.email ?? caller.sub),
    sub: caller?.sub ?? null,
    reason: decision.reason,
    entry: decision.entry,
    ip: req.remoteAddress,
    requestId: req.requestId,
  });
}

export function toPolicyRequest(req: Pick<GateRequest, 'method' | 'path' | 'headers' | 'remoteAddress'>): PolicyRequest {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  const headers: PolicyRequest['headers'] = {};
  if (typeof origin === 'string') headers.origin = origin;
  if (typeof method === 'string') headers['access-control-request-method'] = method;
  return { method: req.method, path: req.path, headers, now: Date.now(), ...(req.remoteAddress === '' ? {} : { clientIp: req.remoteAddress }) };
}

/** The common case (no JWT, or one already signed for this session and host) stays synchronous. */
function identityValues(caller: Caller, route: Route, host: string): IdentityValues | Promise<IdentityValues> {
  const values = (jwt: string): IdentityValues => ({
    user: caller.sub,
    email: caller.email ?? '',
    name: caller.name ?? '',
    groups: caller.groups.join(','),
    jwt,
    claims: caller.claims,
  });
  if (!needsAssertion(route)) return values('');
  const jwt = caller.assertion(host, route.pomerium === undefined ? 'gatehouse' : 'pomerium');
  return typeof jwt === 'string' ? values(jwt) : jwt.then(values);
}

/** Refusals at info, everything let through at debug; the deciding entry is the why. */
function logDecision(logger: Logger, req: GateRequest, route: Route, decision: Decision, caller: Caller | null): void {
  const level = decision.allow ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      route: route.id,
      user: caller === null ? null : (caller.email ?? caller.sub),
      sub: caller?.sub ?? null,
      allow: decision.allow,
      reason: decision.reason,
      entry: decision.entry,
      method: req.method,
      path: req.path,
      requestId: req.requestId,
    },
    decision.allow ? 'access allowed' : decision.reason === 'sign_in_required' ? 'sign-in required' : 'access denied',
  );
}

/**
 * The gate Gatehouse runs with until sign-in is configured: nobody is ever identified, so only
 * what a route opens to everyone (public, bypass rules, CORS preflights) goes through and every
 * other request is refused (fail closed), never opened.
 */
export const NO_SIGN_IN: AccessGate = Object.freeze({
  identify: () => null,
  refuse(req: GateRequest): GateResponse {
    const page = renderPage('sign_in_not_configured', { requestId: req.requestId, accept: req.headers.accept });
    return { kind: 'respond', status: page.status, headers: page.headers, body: page.body };
  },
});
