import type { GateRequest, GateResponse } from '../http/index.ts';
import type { Decision, Shortfall } from '../policy/index.ts';
import type { Route, RouteTable } from '../routes/index.ts';
import { displayName, liveSession, routeHostScheme, routeHostSecure, routeHostStartUrl, type IdentityContext, type IdentityServices } from './context.ts';
import type { Caller } from './gate.ts';
import { countRoundTrip } from './loop-breaker.ts';
import { html, json, link, page, redirect } from './pages.ts';
import { acceptsCredentials, identifyByCredentials, type CredentialIdentity, type CredentialOutcome } from './request-credentials.ts';
import type { Session } from './session.ts';
import { sessionShortfall } from './chooser.ts';

/**
 * Who is calling: the session in this request's cookies, as a Caller, or null. Synchronous in
 * the common case; the identity JWT is only signed when a route asks for it, and then once per
 * (session, host) thanks to the signer's cache.
 */
export function identify(services: IdentityServices, req: GateRequest, table: RouteTable, route?: Route): Caller | null | Promise<Caller | null> {
  if (route !== undefined && acceptsCredentials(route) && req.headers.authorization !== undefined) return identifyCredentials(services, req, table, route);
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

/** Refused credentials, remembered for the refusal that follows in the same request. */
const refusedCredentials = new WeakMap<GateRequest, Extract<CredentialOutcome, { kind: 'refused' }>>();

/**
 * With an `Authorization` header the route accepts, the header alone decides: a wrong
 * password is nobody, even next to a valid session cookie, and the client is told so.
 */
async function identifyCredentials(services: IdentityServices, req: GateRequest, table: RouteTable, route: Route): Promise<Caller | null> {
  const outcome = await identifyByCredentials(services.credentials, req, route);
  if (outcome.kind === 'ok') return credentialCaller(services, outcome.identity);
  if (outcome.kind === 'refused') {
    refusedCredentials.set(req, outcome);
    return null;
  }
  const session = liveSession(services, req, routeHostSecure(table, req));
  return session === null ? null : { ...session, assertion: (host) => services.signer.signCached(session, host)?.token ?? services.signer.sign(session, host) };
}

function credentialCaller(services: IdentityServices, found: CredentialIdentity): Caller {
  const identity = { ...found, groups: [...found.groups] };
  return { ...identity, assertion: (host) => services.signer.signCached(identity, host)?.token ?? services.signer.sign(identity, host) };
}

/** The answer when the policy refused this request: go and sign in (nobody), or a 403 page (someone). */
export function accessRefused(ctx: IdentityContext, req: GateRequest, route: Route, _decision: Decision, caller: Caller | null): GateResponse {
  if (caller === null && acceptsCredentials(route)) {
    const challenge = credentialChallenge(req, route);
    if (challenge !== null) return challenge;
  }
  if (caller === null) return signInRequired(ctx, req, routeHostSecure(ctx.table, req));
  return accessDenied(req, route, caller);
}

/**
 * For a caller the route admits: null when their session was made the way the route asks
 * (`providers`, `mfa`, `max_age`), else the way to a new sign-in that is: a redirect through
 * this host's sign-in start back to the very URL asked for (browsers), or a 401 whose
 * `WWW-Authenticate` says `insufficient_user_authentication` (RFC 9470) for everything else.
 */
export function stepUpRequired(ctx: IdentityContext, req: GateRequest, route: Route, caller: Caller): GateResponse | null {
  const shortfall = sessionShortfall(caller, route.access, Math.floor(ctx.now() / 1000));
  if (shortfall === null) return null;
  ctx.logger.info({ route: route.id, user: displayName(caller), shortfall, requestId: req.requestId }, 'signing in again for this app');
  return signInRequired(ctx, req, routeHostSecure(ctx.table, req), shortfall);
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

/**
 * On routes that take app passwords or tokens: 401 with a challenge clients understand, never a
 * redirect, for anything that is not a browser navigation and for every refused credential
 * (429 with Retry-After while the address or account is locked). Browsers without credentials
 * still go to sign in.
 */
function credentialChallenge(req: GateRequest, route: Route): GateResponse | null {
  const refused = refusedCredentials.get(req);
  if (refused === undefined && isNavigation(req)) return null;
  const realm = `Gatehouse ${req.host}`.replace(/["\\]/g, '');
  const challenges: string[] = [];
  if (route.basicAuth) challenges.push(`Basic realm="${realm}", charset="UTF-8"`);
  if (route.bearer) challenges.push(refused?.scheme === 'bearer' ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`);
  if (refused?.retryAfterMs !== null && refused?.retryAfterMs !== undefined) {
    return json(429, { error: 'too_many_attempts', message: 'Too many wrong credentials; try again later.', requestId: req.requestId }, { 'retry-after': String(Math.ceil(refused.retryAfterMs / 1000)) });
  }
  const message = refused === undefined ? 'Credentials are required.' : 'These credentials are not valid here.';
  return json(401, { error: refused === undefined ? 'credentials_required' : 'invalid_credentials', message, requestId: req.requestId }, { 'www-authenticate': challenges });
}

function signInRequired(ctx: IdentityContext, req: GateRequest, secure: boolean, stepUp: Shortfall | null = null): GateResponse {
  const origin = `${routeHostScheme(req, secure)}://${req.publicHost}`;
  const original = `${origin}${req.path}${req.query}`;
  const target = routeHostStartUrl(origin, original);
  if (!isNavigation(req)) {
    if (stepUp !== null) {
      return json(
        401,
        { error: 'step_up_required', reason: stepUp, message: 'Sign in again to use this app.', signIn: target, requestId: req.requestId },
        { 'www-authenticate': 'Bearer realm="gatehouse", error="insufficient_user_authentication"' },
      );
    }
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

