import { isGatehouseError } from '../errors.ts';
import type { GateRequest, GateResponse } from '../http/index.ts';
import { normalizeHost } from '../routes/index.ts';
import { displayName, liveSession, queryParams, requestOrigin, routeHostScheme, routeHostSecure, routeHostStartUrl, signInUrl, START_PATH, type IdentityContext } from './context.ts';
import { originOf } from './origins.ts';
import { clearBinding, holdsBinding, startBinding } from './browser-binding.ts';
import { consumeHandoff } from './handoff.ts';
import { html, json, link, methodNotAllowed, page, prefersJson, redirect } from './pages.ts';
import { sessionCookies } from './session.ts';
import { routeHostSignOut } from './sign-out.ts';
import { userDetails, userJson } from './user-info.ts';

/**
 * The paths Gatehouse answers itself on every route host, public routes included, before any
 * route is matched: the start and the end of the sign-in handoff, who-am-I, sign-out and the JWKS.
 */

export const JWKS_PATH = '/.well-known/iap/jwks.json';
const PREFIX = '/.iap';
/** Pomerium's spelling of the same endpoints, which apps moved from Pomerium still call. */
const POMERIUM_JWKS_PATH = '/.well-known/pomerium/jwks.json';
const POMERIUM_PREFIX = '/.pomerium';
const POMERIUM_JWT_PATH = '/.pomerium/jwt';

export function isRouteHostPath(path: string): boolean {
  return (
    path === JWKS_PATH ||
    path === PREFIX ||
    path.startsWith(`${PREFIX}/`) ||
    path === POMERIUM_JWKS_PATH ||
    path === POMERIUM_PREFIX ||
    path.startsWith(`${POMERIUM_PREFIX}/`)
  );
}

/** `/.pomerium/…` → the `/.iap/…` endpoint that answers it; Gatehouse's own paths unchanged. */
function ownPath(path: string): string {
  if (path === POMERIUM_JWKS_PATH) return JWKS_PATH;
  if (path === POMERIUM_PREFIX || path.startsWith(`${POMERIUM_PREFIX}/`)) return PREFIX + path.slice(POMERIUM_PREFIX.length);
  return path;
}

/** The query parameter that carries the binding to the sign-in host's `/oauth2/start`. */
export const BINDING_PARAM = 'bind';

/** Null when the request is not for one of these paths on a route host. */
export function handleRouteHost(ctx: IdentityContext, req: GateRequest): GateResponse | Promise<GateResponse> | null {
  if (!isRouteHostPath(req.path)) return null;
  const table = ctx.table;
  if (!table.byHost.has(req.host)) return null;
  const secure = routeHostSecure(table, req);
  const read = req.method === 'GET' || req.method === 'HEAD';
  const path = ownPath(req.path);

  if (path === '/.iap/sign_out') {
    return read || req.method === 'POST' ? routeHostSignOut(ctx, req, secure) : methodNotAllowed(req, 'GET, HEAD, POST');
  }
  if (!read) return methodNotAllowed(req, 'GET, HEAD');
  if (req.path === POMERIUM_JWT_PATH) return pomeriumJwt(ctx, req, secure);
  switch (path) {
    case JWKS_PATH:
      return jwksResponse(ctx);
    case START_PATH:
      return startSignIn(ctx, req, secure);
    case '/.iap/callback':
      return finishHandoff(ctx, req, secure);
    case '/.iap':
    case '/.iap/':
      return whoAmI(ctx, req, secure);
    case '/.iap/user': {
      const session = liveSession(ctx, req, secure);
      return session === null ? json(401, { signedIn: false }) : json(200, userJson(session));
    }
    default:
      return page(req, { status: 404, title: 'Not found', message: 'Gatehouse has nothing at this address.', code: 'not_found' });
  }
}

/**
 * `/.pomerium/jwt`: the signed-in user's assertion for this host, in Pomerium's form, as
 * Pomerium serves it to the app's own scripts; 401 without a session.
 */
async function pomeriumJwt(ctx: IdentityContext, req: GateRequest, secure: boolean): Promise<GateResponse> {
  const session = liveSession(ctx, req, secure);
  if (session === null) return json(401, { signedIn: false });
  const token = ctx.signer.signCached(session, req.host, req.host)?.token ?? (await ctx.signer.sign(session, req.host, req.host));
  return { kind: 'respond', status: 200, headers: { 'content-type': 'application/jwt', 'cache-control': 'no-store' }, body: token };
}

export function jwksResponse(ctx: IdentityContext): GateResponse {
  return { kind: 'respond', status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }, body: JSON.stringify(ctx.signer.jwks()) };
}

/**
 * `/.iap/start?rd=…`: gives this browser its sign-in nonce on this host, then goes to the
 * sign-in host with the nonce's hash. `rd` must be on this very origin; anything else returns
 * to this host's root.
 */
function startSignIn(ctx: IdentityContext, req: GateRequest, secure: boolean): GateResponse {
  const origin = requestOrigin(req, routeHostScheme(req, secure));
  const rd = queryParams(req).get('rd');
  const returnTo = rd !== null && originOf(rd) === originOf(origin) ? rd : `${origin}/`;
  const { binding, setCookie } = startBinding(secure);
  return redirect(`${signInUrl(ctx, returnTo)}&${BINDING_PARAM}=${binding}`, [setCookie]);
}

/** `/.iap/callback?token=…`: the one-time handoff from the sign-in host becomes this host's own cookie. */
async function finishHandoff(ctx: IdentityContext, req: GateRequest, secure: boolean): Promise<GateResponse> {
  const token = queryParams(req).get('token');
  const now = ctx.now();
  const place = {
    origin: originOf(requestOrigin(req, routeHostScheme(req, secure))) ?? '',
    host: req.host,
    holds: (binding: string) => holdsBinding(req.headers.cookie, secure, binding),
  };
  const result = token === null ? ({ ok: false, reason: 'invalid' } as const) : consumeHandoff(ctx.secrets.handoff, token, place, ctx.usedHandoffs, now);
  if (!result.ok || ctx.revocation.isRevoked(result.session.sid)) return handoffRefused(ctx, req, result.ok ? 'signed_out' : result.reason);
  // The use is on disk (or, with several replicas, claimed in Redis) before the session cookie leaves,
  // so neither a restart nor another replica can make the link work again.
  try {
    await ctx.usedHandoffs.flush();
  } catch (error) {
    if (isGatehouseError(error) && error.code === 'STATE_CONFLICT') return handoffRefused(ctx, req, 'used_on_another_replica');
    ctx.logger.error({ err: error, host: req.host, requestId: req.requestId }, 'cannot record a used sign-in link; sign-in refused');
    const shared = ctx.sharedStateAvailable !== undefined;
    return page(req, {
      status: 503,
      title: 'Sign-in is unavailable',
      message: shared ? 'Gatehouse cannot reach its shared store right now. Try again in a moment.' : 'Gatehouse cannot write to its data directory right now. Try again in a moment.',
      code: 'state_unavailable',
    });
  }
  const cookies = sessionCookies(result.session, { secure, keys: ctx.secrets.session, now, existing: req.headers.cookie });
  if ('error' in cookies) {
    return page(req, { status: 431, title: 'Your session is too large', message: 'Your account carries too many groups or claims for a session cookie.', code: 'session_too_large' });
  }
  ctx.logger.info({ host: req.host, user: displayName(result.session), sub: result.session.sub, requestId: req.requestId }, 'signed in on route host');
  return redirect(sameHostTarget(result.returnTo, req.host) ?? '/', [...cookies, clearBinding(secure)]);
}

/** The handoff's return URL, only if it points back at this host (it always should). */
function sameHostTarget(returnTo: string, host: string): string | null {
  try {
    return normalizeHost(new URL(returnTo).host) === host ? returnTo : null;
  } catch {
    return null;
  }
}

function whoAmI(ctx: IdentityContext, req: GateRequest, secure: boolean): GateResponse {
  const session = liveSession(ctx, req, secure);
  if (session === null) {
    const origin = requestOrigin(req, routeHostScheme(req, secure));
    const target = routeHostStartUrl(origin, `${origin}/.iap/`);
    return page(req, {
      status: 401,
      title: 'You are not signed in',
      message: 'This app has no session for you.',
      body: html`<p>${link(target, 'Sign in')}</p>`,
      json: { signedIn: false, signIn: target },
    });
  }
  if (prefersJson(req.headers.accept)) return json(200, userJson(session));
  return page(req, {
    status: 200,
    title: 'You are signed in',
    message: `Signed in as ${displayName(session)}.`,
    body: html`${userDetails(session)}<p>${link('/.iap/sign_out', 'Sign out')} · ${link(`${ctx.settings.authUrl}/`, 'All apps')}</p>`,
  });
}

function handoffRefused(ctx: IdentityContext, req: GateRequest, reason: string): GateResponse {
  ctx.logger.info({ host: req.host, reason, requestId: req.requestId }, 'sign-in handoff refused');
  return page(req, {
    status: 400,
    title: 'This sign-in link cannot be used',
    message:
      'It has expired, was already used, was made for another address, or was started in another browser. ' +
      'Open the app again to sign in (and check that this browser keeps cookies for it).',
    body: html`<p>${link(`${ctx.settings.authUrl}/`, 'Go to the list of apps')}</p>`,
    code: 'handoff_refused',
  });
}
