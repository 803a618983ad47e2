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
import { getCookie } from './cookie.ts';
import { chooseMethod, LAST_METHOD_COOKIE, lastMethodCookie, offeredMethods, requirementsFor, sessionShortfall } from './chooser.ts';
import { choosePage, noMethodPage, secondFactorMissingPage } from './chooser-page.ts';
import type { SignInMethod } from './methods.ts';
import { usedSecondFactor } from './oidc-claims.ts';

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
  if (req.path.startsWith(CALLBACK_PREFIX)) return callback(ctx, req);
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
/** Named providers come back at `/oauth2/callback/<name>`. */
const CALLBACK_PREFIX = '/oauth2/callback/';
/** The chooser's choice on `/oauth2/start`. */
const PROVIDER_PARAM = 'provider';

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
  // What the app asks of a sign-in comes from the route table, never from the request.
  const access = requirementsFor(ctx.table, target, ctx.settings.authHost);
  const session = liveSession(ctx, req, secure);
  const shortfall = session === null ? null : sessionShortfall(session, access, Math.floor(ctx.now() / 1000));
  if (session !== null && shortfall === null) return handOff(ctx, session, returnTo, binding ?? '', []);
  if (params.get(RESUMED) === '1') {
    if (session !== null) {
      // Just signed in, and still not enough for the app (its rules changed meanwhile): a page, not another round.
      return secondFactorMissingPage(req, returnTo, shortfall, session.provider ?? '');
    }
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

  if (ctx.sharedStateAvailable?.() === false) return sharedStateDown(ctx, req);
  const offered = offeredMethods(
    ctx.methods.list.map((method) => method.name),
    access,
  );
  // Stepping up (a second factor, a fresher sign-in) stays with the method the user signed in with.
  const sameMethod = session !== null && shortfall !== 'provider' && offered.includes(session.provider ?? '') ? session.provider ?? null : null;
  let chosen: string;
  if (sameMethod !== null) {
    chosen = sameMethod;
  } else {
    const choice = chooseMethod(offered, params.get(PROVIDER_PARAM), getCookie(req.headers.cookie, LAST_METHOD_COOKIE) ?? null);
    if (choice.kind === 'none') return noMethodPage(req, access.providers);
    if (choice.kind === 'choose') {
      const startUrl = (name: string) =>
        `/oauth2/start?rd=${encodeURIComponent(returnTo)}&${BINDING_PARAM}=${encodeURIComponent(binding ?? '')}&${PROVIDER_PARAM}=${encodeURIComponent(name)}`;
      const methods = choice.methods.map((name) => ctx.methods.get(name) as SignInMethod);
      return choosePage(req, methods.map((method) => ({ name: method.name, label: method.label, href: startUrl(method.name), last: method.name === choice.last })));
    }
    chosen = choice.method;
  }
  const method = ctx.methods.get(chosen) as SignInMethod;
  const maxAge = access.maxAgeMs === null ? null : Math.max(0, Math.floor(access.maxAgeMs / 1000));

  let signIn: SignInStart;
  try {
    signIn = await method.oidc.beginSignIn({
      // A session that is not good enough for this app is replaced by a new sign-in at the provider, not reused there.
      reauthenticate: sameMethod !== null,
      acrValues: access.mfa && method.mfa.acr.length > 0 ? method.mfa.acr.join(' ') : null,
      maxAge,
    });
  } catch (error) {
    return providerFailure(ctx, req, error, [], returnTo);
  }
  const now = ctx.now();
  const flow = startFlow(
    ctx.secrets.flow,
    { returnTo, binding: binding ?? '', codeVerifier: signIn.codeVerifier, state: signIn.state, nonce: signIn.nonce, provider: method.name, requireMfa: access.mfa, maxAge },
    now,
    req.headers.cookie,
    secure,
  );
  ctx.logger.debug({ returnHost: new URL(returnTo).host, method: method.name, stepUp: shortfall, requestId: req.requestId }, 'sign-in started');
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
  const method = ctx.methods.get(taken.flow.provider);
  // The answer must come back where this flow's provider was told to send it: a code or token
  // delivered at another provider's callback is a mix-up, never redeemed.
  if (method === undefined || method.callbackPath !== req.path) {
    ctx.logger.warn({ method: taken.flow.provider, path: req.path, requestId: req.requestId }, 'sign-in answer arrived at another provider\'s callback; refused');
    return page(req, {
      status: 400,
      title: 'Sign-in failed',
      message: 'The answer from the identity provider arrived at the wrong address for this sign-in, so it was not accepted.',
      body: html`<p>${link(portalUrl(ctx), 'Start again')}</p>`,
      code: 'sign_in_failed',
      headers: { 'set-cookie': clearFlow },
    });
  }
  let user: SignedInUser;
  try {
    user = await method.oidc.finishSignIn(new URL(`${ctx.settings.authUrl}${method.callbackPath}${req.query}`), taken.flow);
  } catch (error) {
    return providerFailure(ctx, req, error, clearFlow, safeRedirectTarget(taken.flow.returnTo, knownOrigin(ctx), portalUrl(ctx)));
  }

  const mfa = usedSecondFactor(user, method.mfa);
  const session = createSession(
    {
      sub: user.sub,
      email: user.email,
      emailVerified: method.emailVerifiedRequired ? user.emailVerified : null,
      name: user.name,
      groups: user.groups,
      claims: user.claims,
      host: ctx.settings.authHost,
      provider: method.name,
      amr: user.amr,
      mfa,
      ...(user.authTime === null ? {} : { authTime: user.authTime }),
    },
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
  ctx.userSessions.record(session, { ip: req.remoteAddress, agent: String(req.headers['user-agent'] ?? '') });
  ctx.logger.info({ user: displayName(session), sub: session.sub, method: method.name, amr: user.amr, acr: user.acr, mfa, groups: session.groups.length, requestId: req.requestId }, 'signed in');
  ctx.audit?.record({ event: 'sign_in', user: displayName(session), sub: session.sub, requestId: req.requestId });
  const setCookies = [...clearFlow, ...cookies, ...(hint === null ? [] : [hint]), lastMethodCookie(method.name, secure)];
  if (taken.flow.requireMfa && !mfa) {
    // Stepping up again would only loop: the provider was asked for a second factor and did not use one.
    ctx.logger.warn({ user: displayName(session), method: method.name, amr: user.amr, acr: user.acr, requestId: req.requestId }, 'the app needs a second factor; the provider\'s sign-in did not use one');
    const retry = safeRedirectTarget(taken.flow.returnTo, knownOrigin(ctx), portalUrl(ctx));
    return secondFactorMissingPage(req, retry, 'mfa', method.label, setCookies);
  }
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

/**
 * Several replicas and Redis unreachable: a new sign-in could not be recorded for the other
 * replicas (nor its link used once), so none starts. Those already signed in carry on.
 */
export function sharedStateDown(ctx: IdentityContext, req: GateRequest): GateResponse {
  ctx.logger.warn({ requestId: req.requestId }, 'sign-in refused: shared state (Redis) unreachable');
  return page(req, {
    status: 503,
    title: 'Sign-in is paused',
    message: 'Gatehouse cannot reach its shared store right now, so it cannot sign anyone in. If you are already signed in, your apps keep working. Try again in a moment.',
    code: 'state_unavailable',
  });
}
