import { evaluate, type Decision, type PolicyRequest } from '../policy/index.ts';
import type { GateRequest, GateResult } from '../proxy/gate.ts';
import type { Route } from '../routes/table.ts';
import { displayName, liveSession, routeHostScheme, routeHostSecure, signInUrl, type IdentityContext } from './context.ts';
import { forwardWith, needsAssertion, type IdentityValues } from './identity-headers.ts';
import { countRoundTrip } from './loop-breaker.ts';
import { html, json, link, page, redirect } from './pages.ts';
import type { Session } from './session.ts';

/**
 * The decision for one matched request (websocket upgrades included): let it through as it is,
 * with the signed-in user, send the browser to sign in, or refuse. The common case (a valid
 * session whose identity JWT is cached) stays synchronous: no async crypto, no signing.
 */
export function checkAccess(ctx: IdentityContext, req: GateRequest, route: Route): GateResult | Promise<GateResult> {
  const policyRequest = toPolicyRequest(req);
  const defaultAllow = ctx.settings.defaultAllow;
  const open = evaluate(route.policy, null, policyRequest, defaultAllow);
  if (open.allow) {
    logDecision(ctx, 'debug', req, route, open, null);
    return forward(ctx, req, route, null);
  }

  const secure = routeHostSecure(ctx.currentTable(), req);
  const session = liveSession(ctx, req, secure);
  if (session === null) {
    logDecision(ctx, 'info', req, route, open, null);
    return signInRequired(ctx, req, secure);
  }
  const decision = evaluate(route.policy, session, policyRequest, defaultAllow);
  if (!decision.allow) {
    logDecision(ctx, 'info', req, route, decision, session);
    return accessDenied(req, route, session);
  }
  logDecision(ctx, 'debug', req, route, decision, session);
  if (!needsAssertion(route)) return forward(ctx, req, route, identityValues(session, ''));
  const cached = ctx.signer.signCached(session, req.host);
  if (cached !== null) return forward(ctx, req, route, identityValues(session, cached.token));
  return ctx.signer.sign(session, req.host).then((jwt) => forward(ctx, req, route, identityValues(session, jwt)));
}

/** A top-level browser navigation, which may be redirected to sign in; anything else gets a 401. */
export function isNavigation(req: GateRequest): boolean {
  if (req.isUpgrade || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  if (req.headers['x-requested-with'] !== undefined) return false;
  const mode = req.headers['sec-fetch-mode'];
  if (typeof mode === 'string' && mode !== 'navigate' && mode !== 'nested-navigate') return false;
  const accept = req.headers.accept;
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}

function toPolicyRequest(req: GateRequest): PolicyRequest {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  const headers: PolicyRequest['headers'] = {};
  if (typeof origin === 'string') headers.origin = origin;
  if (typeof method === 'string') headers['access-control-request-method'] = method;
  return { method: req.method, path: req.path, headers };
}

function identityValues(session: Session, jwt: string): IdentityValues {
  return { user: session.sub, email: session.email ?? '', name: session.name ?? '', groups: session.groups.join(','), jwt };
}

function forward(ctx: IdentityContext, req: GateRequest, route: Route, identity: IdentityValues | null): GateResult {
  const outcome = forwardWith(route, identity, req.headers.cookie, ctx.readSecret);
  if (outcome.ok) return outcome.result;
  ctx.logger.error(
    { route: route.id, secret: outcome.missingSecret, requestId: req.requestId },
    `cannot read secret:${outcome.missingSecret} for a header of this route: the request is refused`,
  );
  return page(req, {
    status: 500,
    title: 'Something went wrong',
    message: 'A secret this app needs is missing on the Gatehouse host.',
    code: 'internal_error',
  });
}

function signInRequired(ctx: IdentityContext, req: GateRequest, secure: boolean): GateResult {
  const original = `${routeHostScheme(req, secure)}://${req.publicHost}${req.path}${req.query}`;
  const target = signInUrl(ctx, original);
  if (!isNavigation(req)) {
    return json(
      401,
      { error: 'sign_in_required', message: 'Sign in to use this app.', signIn: target, requestId: req.requestId },
      { 'www-authenticate': 'Bearer realm="gatehouse"' },
    );
  }
  const trip = countRoundTrip(req.headers.cookie, original);
  if (trip.exceeded) {
    ctx.logger.warn({ host: req.host, path: req.path, requestId: req.requestId }, 'sign-in keeps coming back without a session; showing an error instead of redirecting again');
    return page(req, {
      status: 400,
      title: 'Sign-in did not stick',
      message:
        'You were sent to sign in several times, but your browser came back without a session each time. ' +
        'Check that cookies are allowed for this site and that you use the address the app is published at (https or http), then try again.',
      body: html`<p>${link(original, 'Try again')}</p>`,
      code: 'sign_in_loop',
      headers: { 'set-cookie': [trip.setCookie] },
    });
  }
  return redirect(target, [trip.setCookie]);
}

function accessDenied(req: GateRequest, route: Route, session: Session): GateResult {
  const who = displayName(session);
  const message = `You are signed in as ${who}, but ${route.display.name} does not let this account in.`;
  return page(req, {
    status: 403,
    title: 'No access to this app',
    message,
    body: html`<p>If you should have access, ask whoever runs this server. To use another account, sign out first.</p><p>${link('/.iap/sign_out', 'Sign out')}</p>`,
    json: { error: 'access_denied', message, user: who, requestId: req.requestId },
  });
}

function logDecision(ctx: IdentityContext, level: 'info' | 'debug', req: GateRequest, route: Route, decision: Decision, session: Session | null): void {
  if (!ctx.logger.isLevelEnabled(level)) return;
  ctx.logger[level](
    {
      route: route.id,
      user: session === null ? null : displayName(session),
      sub: session?.sub ?? null,
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
