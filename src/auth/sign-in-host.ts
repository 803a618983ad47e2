import { isGatehouseError } from '../errors.ts';
import type { GateRequest, GateResponse } from '../http/index.ts';
import { normalizeHost } from '../routes/index.ts';
import { BINDING } from './browser-binding.ts';
import { displayName, liveSession, portalUrl, queryParams, routeHostStartUrl, type IdentityContext } from './context.ts';
import { startFlow, takeFlow } from './flow.ts';
import { createHandoff } from './handoff.ts';
import type { SignedInUser, SignInStart } from './oidc.ts';
import { html, link, methodNotAllowed, page, redirect } from './pages.ts';
import { portal } from './portal.ts';
import { safeRedirectTarget } from './redirect.ts';
import { isKnownOrigin, type Target } from './origins.ts';
import { BINDING_PARAM, JWKS_PATH, jwksResponse } from './route-host.ts';
import { createSession, sessionCookies, type Session } from './session.ts';
import { SIGNED_OUT_PATH, signedOutPage, signInHostSignOut } from './sign-out.ts';
import { idTokenHintCookie } from './tokens.ts';

/**
 * The sign-in host (GATEHOUSE_AUTH_URL): the one address registered at the identity provider.
 * It runs the authorization code flow, keeps its own session so that every further app is
 * single sign-on, and hands each app host a one-time token from which that host sets its own
 * host-only cookie. Everything on this host is answered by Gatehouse; nothing is proxied.
 */
export async function handleSignInHost(ctx: IdentityContext, req: GateRequest): Promise<GateResponse> {
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (req.path === '/oauth2/sign_out') return read || req.method === 'POST' ? signInHostSignOut(ctx, req) : methodNotAllowed(req, 'GET, HEAD, POST');
  if (!read) return methodNotAllowed(req, 'GET, HEAD');
  switch (req.path) {
    case '/':
      return portal(ctx, req);
    case '/oauth2/start':
      return start(ctx, req);
    case '/oauth2/callback':
      return callback(ctx, req);
    case SIGNED_OUT_PATH:
      return signedOutPage(ctx, req);
    case JWKS_PATH:
      return jwksResponse(ctx);
    default:
      return page(req, { status: 404, title: 'Not found', message: 'Gatehouse has nothing at this address.', code: 'not_found' });
  }
}

/** Marks the hop from a finished callback to the handoff (see `callback`). */
const RESUMED = 'resumed';

/** Origins a browser may be sent to: the sign-in URL's, and each route host's on Gatehouse's public ports. */
function knownOrigin(ctx: IdentityContext): (target: Target) => boolean {
  const table = ctx.table;
  return (target) => isKnownOrigin(ctx.frontDoor, table, target);
}

/**
 * `/oauth2/start?rd=…&bind=…`: straight back with a handoff when already signed in here, else
 * off to the provider. A route host target without the route host's binding is first sent
 * through that host's `/.iap/start`, so every handoff belongs to the browser that asked for it.
 */
async function start(ctx: IdentityContext, req: GateRequest): Promise<GateResponse> {
  const params = queryParams(req);
  const returnTo = safeRedirectTarget(params.get('rd') ?? undefined, knownOrigin(ctx), portalUrl(ctx));
  const target = new URL(returnTo);
  const toRouteHost = normalizeHost(target.host) !== ctx.settings.authHost;
  const binding = params.get(BINDING_PARAM);
  if (toRouteHost && (binding === null || !BINDING.test(binding))) {
    return redirect(routeHostStartUrl(target.origin, returnTo));
  }
  const secure = ctx.settings.authSecure;
  const session = liveSession(ctx, req, secure);
  if (session !== null) return handOff(ctx, session, returnTo, binding ?? '', []);
  if (params.get(RESUMED) === '1') {
    // Straight from a successful callback, yet without the cookie it set: going to the provider
    // again would loop. The browser is not keeping this host's cookies.
    ctx.logger.warn({ requestId: req.requestId }, 'the sign-in host session cookie did not come back after sign-in');
    return page(req, {
      status: 400,
      title: 'Sign-in did not stick',
      message: 'You signed in, but your browser did not keep the sign-in cookie. Check that cookies are allowed for this site, then try again.',
      body: html`<p>${link(returnTo, 'Try again')}</p>`,
      code: 'sign_in_loop',
    });
  }

  let signIn: SignInStart;
  try {
    signIn = await ctx.oidc.beginSignIn();
  } catch (error) {
    return providerFailure(ctx, req, error, [], returnTo);
  }
  const now = ctx.now();
  const flow = startFlow(
    ctx.secrets.flow,
    { returnTo, binding: binding ?? '', codeVerifier: signIn.codeVerifier, state: signIn.state, nonce: signIn.nonce },
    now,
    req.headers.cookie,
    secure,
  );
  ctx.logger.debug({ returnHost: new URL(returnTo).host, requestId: req.requestId }, 'sign-in started');
  return redirect(signIn.url, flow.setCookies);
}

/** `/oauth2/callback`: the provider's answer, checked against this browser's flow cookie. */
async function callback(ctx: IdentityContext, req: GateRequest): Promise<GateResponse> {
  const secure = ctx.settings.authSecure;
  const now = ctx.now();
  const state = queryParams(req).get('state');
  const taken = state === null || state === '' ? null : takeFlow(ctx.secrets.flow, state, req.headers.cookie, now, secure);
  if (taken === null) {
    ctx.logger.info({ hasState: state !== null && state !== '', requestId: req.requestId }, 'sign-in callback without a matching sign-in in progress');
    return page(req, {
      status: 400,
      title: 'Sign-in failed',
      message: 'This browser has no matching sign-in in progress: it may have expired, finished already, or been started elsewhere.',
      body: html`<p>${link(portalUrl(ctx), 'Start again')}</p>`,
      code: 'sign_in_failed',
    });
  }

  const clearFlow = [taken.clearCookie];
  let user: SignedInUser;
  try {
    user = await ctx.oidc.finishSignIn(new URL(`${ctx.settings.authUrl}/oauth2/callback${req.query}`), taken.flow);
  } catch (error) {
    return providerFailure(ctx, req, error, clearFlow, safeRedirectTarget(taken.flow.returnTo, knownOrigin(ctx), portalUrl(ctx)));
  }

  const session = createSession(
    { sub: user.sub, email: user.email, emailVerified: user.emailVerified, name: user.name, groups: user.groups, claims: user.claims, host: ctx.settings.authHost },
    { now, ttlMs: ctx.settings.sessionTtlMs },
  );
  const cookies = sessionCookies(session, { secure, keys: ctx.secrets.session, now, existing: req.headers.cookie });
  if ('error' in cookies) {
    ctx.logger.warn({ user: displayName(session), groups: session.groups.length, requestId: req.requestId }, 'session too large for its cookies; sign-in refused');
    return page(req, {
      status: 431,
      title: 'Your session is too large',
      message: 'Your account carries too many groups or claims to fit in a session cookie. Ask whoever runs this server to limit the groups your provider sends.',
      code: 'session_too_large',
      headers: { 'set-cookie': clearFlow },
    });
  }
  const hint = idTokenHintCookie(ctx.secrets.signout, { sid: session.sid, idToken: user.idToken, exp: session.exp }, now, secure);
  ctx.providerSessions.remember(session.sid, user.idToken, session.exp);
  ctx.logger.info({ user: displayName(session), sub: session.sub, groups: session.groups.length, requestId: req.requestId }, 'signed in');
  ctx.audit?.record({ event: 'sign_in', user: displayName(session), sub: session.sub, requestId: req.requestId });
  const setCookies = [...clearFlow, ...cookies, ...(hint === null ? [] : [hint])];
  // The route table may have changed while the user was at the provider: check the target again.
  const returnTo = safeRedirectTarget(taken.flow.returnTo, knownOrigin(ctx), portalUrl(ctx));
  if (normalizeHost(new URL(returnTo).host) === ctx.settings.authHost) return redirect(returnTo, setCookies);
  // With a large group list the session cookies and the handoff token are several kilobytes
  // each: set the cookies here and hand off from /oauth2/start, so no response carries both.
  const bound = `${BINDING_PARAM}=${encodeURIComponent(taken.flow.binding)}`;
  return redirect(`${ctx.settings.authUrl}/oauth2/start?rd=${encodeURIComponent(returnTo)}&${bound}&${RESUMED}=1`, setCookies);
}

/** Sends the browser to `returnTo`, through the route host's `/.iap/callback` when it is another host. */
function handOff(ctx: IdentityContext, session: Session, returnTo: string, binding: string, setCookies: string[]): GateResponse {
  const target = new URL(returnTo);
  const host = normalizeHost(target.host);
  if (host === ctx.settings.authHost) return redirect(returnTo, setCookies);
  const { host: _signInHost, ...handed } = session;
  const token = createHandoff(ctx.secrets.handoff, { session: handed, returnTo, binding }, ctx.now());
  return redirect(`${target.origin}/.iap/callback?token=${encodeURIComponent(token)}`, setCookies);
}

/** `retry` is where "Start again" leads: the app the user came for, which sends them back to sign in. */
function providerFailure(ctx: IdentityContext, req: GateRequest, error: unknown, setCookies: string[], retry: string): GateResponse {
  const headers = setCookies.length > 0 ? { 'set-cookie': setCookies } : undefined;
  const again = html`<p>${link(retry, 'Start again')}</p>`;
  if (isGatehouseError(error, 'IDP_UNREACHABLE')) {
    ctx.logger.warn({ err: error.message, requestId: req.requestId }, 'identity provider unreachable');
    return page(req, {
      status: 503,
      title: 'Identity provider unreachable',
      message: 'Gatehouse cannot reach the identity provider right now, so nobody can sign in. Apps you are already signed in to keep working. Try again in a moment.',
      body: again,
      code: 'idp_unreachable',
      headers: { ...headers, 'retry-after': '5' },
    });
  }
  if (isGatehouseError(error, 'SIGN_IN_FAILED')) {
    ctx.logger.warn({ err: error.message, requestId: req.requestId }, 'sign-in failed');
    ctx.audit?.record({ event: 'sign_in_failed', user: null, reason: 'the answer from the identity provider did not pass the checks', ip: req.remoteAddress, requestId: req.requestId });
    return page(req, { status: 400, title: 'Sign-in failed', message: 'The answer from the identity provider did not pass Gatehouse\'s checks, so you were not signed in.', body: again, code: 'sign_in_failed', ...(headers ? { headers } : {}) });
  }
  throw error;
}
