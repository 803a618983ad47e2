import type { GateRequest, GateResponse } from '../http/index.ts';
import type { Decision } from '../policy/index.ts';
import type { Route, RouteTable } from '../routes/index.ts';
import { displayName, liveSession, routeHostScheme, routeHostSecure, routeHostStartUrl, type IdentityContext, type IdentityServices } from './context.ts';
import type { Caller } from './gate.ts';
import { countRoundTrip } from './loop-breaker.ts';
import { html, json, link, page, redirect } from './pages.ts';
import type { Session } from './session.ts';

/**
 * Who is calling: the session in this request's cookies, as a Caller, or null. Synchronous in
 * the common case; the identity JWT is only signed when a route asks for it, and then once per
 * (session, host) thanks to the signer's cache.
 */
export function identify(services: IdentityServices, req: GateRequest, table: RouteTable): Caller | null {
  const session = liveSession(services, req, routeHostSecure(table, req));
  if (session === null) return null;
  return {
    ...session,
    assertion: (host, form) => {
      const issuer = form === 'pomerium' ? host : undefined;
      return services.signer.signCached(session, host, issuer)?.token ?? services.signer.sign(session, host, issuer);
    },
  };
}

/** The answer when the policy refused this request: go and sign in (nobody), or a 403 page (someone). */
export function accessRefused(ctx: IdentityContext, req: GateRequest, route: Route, _decision: Decision, caller: Caller | null): GateResponse {
  if (caller === null) return signInRequired(ctx, req, routeHostSecure(ctx.table, req));
  return accessDenied(req, route, caller);
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

function signInRequired(ctx: IdentityContext, req: GateRequest, secure: boolean): GateResponse {
  const origin = `${routeHostScheme(req, secure)}://${req.publicHost}`;
  const original = `${origin}${req.path}${req.query}`;
  const target = routeHostStartUrl(origin, original);
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

function accessDenied(req: GateRequest, route: Route, session: Pick<Session, 'email' | 'sub'>): GateResponse {
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

