import type { GateRequest, GateResponse } from '../http/index.ts';
import { displayName, liveSession, queryParams, type IdentityContext } from './context.ts';
import { html, link, page, postButton, redirect } from './pages.ts';
import { clearSessionCookies, readSession, type Session } from './session.ts';
import { checkCsrfToken, clearIdTokenHint, createCsrfToken, createSignOutToken, readIdTokenHint, readSignOutToken } from './tokens.ts';

/**
 * Sign-out on a route host (`/.iap/sign_out`) and on the sign-in host (`/oauth2/sign_out`).
 * A GET only shows a confirmation page, so a link or an image elsewhere cannot sign anyone
 * out; the page's form POSTs with a CSRF token bound to the session and host. Signing out
 * revokes the session id, which every route host's cookie from the same sign-in shares, and
 * ends the provider's session: the built-in provider's on the server at once (wherever the
 * user signs out), an outside provider's through its end_session_endpoint.
 */

export const SIGNED_OUT_PATH = '/oauth2/signed_out';

export async function routeHostSignOut(ctx: IdentityContext, req: GateRequest, secure: boolean): Promise<GateResponse> {
  const session = liveSession(ctx, req, secure);
  const everywhere = `${ctx.settings.authUrl}/oauth2/sign_out`;
  const cleared = clearSessionCookies(req.headers.cookie, secure);
  if (req.method === 'POST') {
    if (session === null) return redirect(everywhere, cleared, 303);
    if (!checkCsrfToken(ctx.secrets.csrf, queryParams(req).get('csrf'), session.sid, req.host, ctx.now())) return staleForm(req, '/.iap/sign_out');
    revoke(ctx, req, session);
    await endProviderSession(ctx, req, session);
    const token = createSignOutToken(ctx.secrets.signout, session.sid, ctx.now());
    return redirect(`${everywhere}?token=${encodeURIComponent(token)}`, cleared, 303);
  }
  if (session === null) {
    return page(req, {
      status: 200,
      title: 'You are signed out of this app',
      message: 'This app has no session for you.',
      body: html`<p>${link(everywhere, 'Sign out of every app')}</p>`,
      json: { signedIn: false },
    });
  }
  return confirmation(ctx, req, session, '/.iap/sign_out');
}

export async function signInHostSignOut(ctx: IdentityContext, req: GateRequest): Promise<GateResponse> {
  const secure = ctx.settings.authSecure;
  const now = ctx.now();
  // Read even when revoked: a route host may have revoked it a moment ago on the user's behalf.
  const session = readSession(req.headers.cookie, { secure, keys: ctx.secrets.session, now, host: req.host });
  const live = session !== null && !ctx.revocation.isRevoked(session.sid) ? session : null;

  if (req.method === 'POST') {
    if (live === null) {
      const cookies = [...clearSessionCookies(req.headers.cookie, secure), clearIdTokenHint(secure)];
      return redirect(`${ctx.settings.authUrl}${SIGNED_OUT_PATH}`, cookies, 303);
    }
    if (!checkCsrfToken(ctx.secrets.csrf, queryParams(req).get('csrf'), live.sid, req.host, now)) return staleForm(req, '/oauth2/sign_out');
    return finish(ctx, req, live);
  }
  const handedOver = readSignOutToken(ctx.secrets.signout, queryParams(req).get('token'), now);
  if (handedOver !== null && (session === null || session.sid === handedOver)) return finish(ctx, req, session);
  if (live === null) return signedOutPage(ctx, req);
  return confirmation(ctx, req, live, '/oauth2/sign_out');
}

export function signedOutPage(ctx: IdentityContext, req: GateRequest): GateResponse {
  return page(req, {
    status: 200,
    title: 'You are signed out',
    message: 'Your Gatehouse session has ended.',
    body: html`<p>${link(`${ctx.settings.authUrl}/`, 'Sign in again')}</p>`,
    json: { signedIn: false },
  });
}

function confirmation(ctx: IdentityContext, req: GateRequest, session: Session, path: string): GateResponse {
  const csrf = createCsrfToken(ctx.secrets.csrf, session.sid, req.host, ctx.now());
  return page(req, {
    status: 200,
    title: 'Sign out?',
    message: `You are signed in as ${displayName(session)}. Signing out ends your session in every app behind this Gatehouse.`,
    body: postButton(`${path}?csrf=${encodeURIComponent(csrf)}`, 'Sign out'),
    json: { signedIn: true, user: displayName(session), signOut: { method: 'POST', action: `${path}?csrf=${csrf}` } },
  });
}

/** Revokes the session (when there is one), clears the sign-in host's cookies, then leaves for the provider. */
async function finish(ctx: IdentityContext, req: GateRequest, session: Session | null): Promise<GateResponse> {
  const secure = ctx.settings.authSecure;
  if (session !== null) revoke(ctx, req, session);
  const ended = session !== null && (await endProviderSession(ctx, req, session));
  const cookies = [...clearSessionCookies(req.headers.cookie, secure), clearIdTokenHint(secure)];
  const signedOut = `${ctx.settings.authUrl}${SIGNED_OUT_PATH}`;
  if (ended) return redirect(signedOut, cookies, 303);
  const hint = readIdTokenHint(ctx.secrets.signout, req.headers.cookie, session?.sid ?? null, ctx.now(), secure);
  // The provider the session came from; with one method, that one even when the session is gone.
  const methods = ctx.methods.list;
  const method = session?.provider ? ctx.methods.get(session.provider) : methods.length === 1 ? methods[0] : undefined;
  return redirect(method?.oidc.endSessionUrl(hint, signedOut) ?? signedOut, cookies, 303);
}

/** True when the provider's session is over without the browser visiting the provider. */
async function endProviderSession(ctx: IdentityContext, req: GateRequest, session: Session): Promise<boolean> {
  try {
    return await ctx.providerSessions.end(session.sid);
  } catch (error) {
    ctx.logger.error({ err: error, sub: session.sub, requestId: req.requestId }, 'could not end the provider session on the server; sending the browser to the provider instead');
    return false;
  }
}

function revoke(ctx: IdentityContext, req: GateRequest, session: Session): void {
  if (!ctx.revocation.isRevoked(session.sid)) {
    ctx.revocation.revoke(session.sid, session.exp);
    ctx.logger.info({ user: displayName(session), sub: session.sub, host: req.host, requestId: req.requestId }, 'signed out');
    ctx.audit?.record({ event: 'sign_out', user: displayName(session), sub: session.sub, host: req.host, requestId: req.requestId });
  }
}

function staleForm(req: GateRequest, path: string): GateResponse {
  return page(req, {
    status: 403,
    title: 'This sign-out form has expired',
    message: 'The sign-out request did not come from a current Gatehouse page, so nothing was changed.',
    body: html`<p>${link(path, 'Sign out again')}</p>`,
    code: 'csrf_failed',
  });
}
