import type { GateRequest, GateResponse } from '../http/index.ts';
import { normalizeHost } from '../routes/index.ts';
import { displayName, liveSession, queryParams, requestOrigin, routeHostScheme, routeHostSecure, signInUrl, type IdentityContext } from './context.ts';
import { consumeHandoff } from './handoff.ts';
import { html, json, link, methodNotAllowed, page, prefersJson, redirect } from './pages.ts';
import { sessionCookies } from './session.ts';
import { routeHostSignOut } from './sign-out.ts';
import { userDetails, userJson } from './user-info.ts';

/**
 * The paths Gatehouse answers itself on every route host, public routes included, before any
 * route is matched: the end of the sign-in handoff, who-am-I, sign-out and the JWKS.
 */

export const JWKS_PATH = '/.well-known/iap/jwks.json';
const PREFIX = '/.iap';

export function isRouteHostPath(path: string): boolean {
  return path === JWKS_PATH || path === PREFIX || path.startsWith(`${PREFIX}/`);
}

/** Null when the request is not for one of these paths on a route host. */
export function handleRouteHost(ctx: IdentityContext, req: GateRequest): GateResponse | null {
  if (!isRouteHostPath(req.path)) return null;
  const table = ctx.table;
  if (!table.byHost.has(req.host)) return null;
  const secure = routeHostSecure(table, req);
  const read = req.method === 'GET' || req.method === 'HEAD';

  if (req.path === '/.iap/sign_out') {
    return read || req.method === 'POST' ? routeHostSignOut(ctx, req, secure) : methodNotAllowed(req, 'GET, HEAD, POST');
  }
  if (!read) return methodNotAllowed(req, 'GET, HEAD');
  switch (req.path) {
    case JWKS_PATH:
      return jwksResponse(ctx);
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

export function jwksResponse(ctx: IdentityContext): GateResponse {
  return { kind: 'respond', status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }, body: JSON.stringify(ctx.signer.jwks()) };
}

/** `/.iap/callback?token=…`: the one-time handoff from the sign-in host becomes this host's own cookie. */
function finishHandoff(ctx: IdentityContext, req: GateRequest, secure: boolean): GateResponse {
  const token = queryParams(req).get('token');
  const now = ctx.now();
  const result = token === null ? ({ ok: false, reason: 'invalid' } as const) : consumeHandoff(ctx.secrets.handoff, token, req.host, now);
  if (!result.ok || ctx.revocation.isRevoked(result.session.sid)) {
    const reason = result.ok ? 'signed_out' : result.reason;
    ctx.logger.info({ host: req.host, reason, requestId: req.requestId }, 'sign-in handoff refused');
    return page(req, {
      status: 400,
      title: 'This sign-in link cannot be used',
      message: 'It has expired, was already used, or was made for another address. Open the app again to sign in.',
      body: html`<p>${link(`${ctx.settings.authUrl}/`, 'Go to the list of apps')}</p>`,
      code: 'handoff_refused',
    });
  }
  const cookies = sessionCookies(result.session, { secure, keys: ctx.secrets.session, now, existing: req.headers.cookie });
  if ('error' in cookies) {
    return page(req, { status: 431, title: 'Your session is too large', message: 'Your account carries too many groups or claims for a session cookie.', code: 'session_too_large' });
  }
  ctx.logger.info({ host: req.host, user: displayName(result.session), sub: result.session.sub, requestId: req.requestId }, 'signed in on route host');
  return redirect(sameHostTarget(result.returnTo, req.host) ?? '/', cookies);
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
    const target = signInUrl(ctx, `${requestOrigin(req, routeHostScheme(req, secure))}/.iap/`);
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
