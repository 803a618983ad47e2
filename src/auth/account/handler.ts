import type { IncomingMessage, ServerResponse } from 'node:http';
import { PAGE_HEADERS, PASSKEY_SCRIPT, readUrlEncodedForm, withPasskeyScript, type RawHandler } from '../../http/index.ts';
import type { BuiltinAccounts } from '../../idp/index.ts';
import type { AppPasswords } from '../app-passwords.ts';
import { liveSession, type IdentityServices } from '../context.ts';
import { clearSessionCookies, type Session } from '../session.ts';
import { SIGNED_OUT_PATH } from '../sign-out.ts';
import { checkCsrfToken, clearIdTokenHint, createCsrfToken } from '../tokens.ts';
import { runAction, type ActionResult } from './actions.ts';
import { accountDocument, accountPage, ACCOUNT_PATH, messageContent, type RenderedPage } from './views.ts';

/**
 * The self-service page on the sign-in host, `/account`: profile, password, TOTP, passkeys,
 * app passwords, sessions and "sign out everywhere". It reads form bodies, so it is served
 * like the built-in provider, as a raw handler on the sign-in host. Every POST must come from
 * this very origin (Origin, or Sec-Fetch-Site for the rare browser that sends no Origin) and
 * carry the CSRF token bound to this session; sensitive changes also ask for the current
 * password (built-in users) or a recent sign-in (everyone else).
 */

export interface AccountServices extends IdentityServices {
  readonly appPasswords: AppPasswords;
  readonly accounts: BuiltinAccounts | null;
}

const MAX_FORM_BYTES = 64 * 1024;

export function createAccountHandler(ctx: AccountServices): RawHandler & { ownsPath(path: string): boolean } {
  const authOrigin = new URL(ctx.settings.authUrl).origin;
  const ownsPath = (path: string) => path === ACCOUNT_PATH || path.startsWith(`${ACCOUNT_PATH}/`);

  async function serve(req: IncomingMessage, res: ServerResponse, clientIp: string): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const session = liveSession(ctx, { headers: req.headers, host: ctx.settings.authHost }, ctx.settings.authSecure);
    if (method === 'GET' || method === 'HEAD') {
      if (path !== ACCOUNT_PATH) return send(res, notFound());
      if (session === null) return redirect(res, `${ctx.settings.authUrl}/oauth2/start?rd=${encodeURIComponent(`${ctx.settings.authUrl}${ACCOUNT_PATH}`)}`, 302);
      return send(res, overview(session, noticeFor(new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('done'))), method === 'HEAD');
    }
    if (method !== 'POST') return send(res, { ...message(405, 'Method not allowed', 'Use the forms on your account page.'), headers: { ...PAGE_HEADERS, allow: 'GET, HEAD, POST' } });
    if (!sameOrigin(req, authOrigin)) {
      ctx.logger.warn({ event: 'account', outcome: 'refused', reason: 'cross-site post', origin: req.headers.origin ?? null, ip: clientIp }, 'account form posted from another site; refused');
      return send(res, message(403, 'Request refused', 'This form can only be sent from your Gatehouse account page.'));
    }
    if (session === null) return send(res, message(401, 'You are signed out', 'Your session ended, so nothing was changed. Sign in again to manage your account.'));
    const form = await readUrlEncodedForm(req, MAX_FORM_BYTES);
    if (form === null) return send(res, message(400, 'Bad request', 'The form could not be read. Go back and try again.'));
    if (!checkCsrfToken(ctx.secrets.csrf, form.get('csrf'), session.sid, ctx.settings.authHost, ctx.now())) {
      return send(res, message(403, 'This form has expired', 'The request did not come from a current account page, so nothing was changed.'));
    }
    const result = await runAction(ctx, { path, form, session, ip: clientIp, builtin: isBuiltinSession(ctx, session), csrf: csrfFor(session) });
    return answer(res, req, session, result);
  }

  function csrfFor(session: Session): string {
    return createCsrfToken(ctx.secrets.csrf, session.sid, ctx.settings.authHost, ctx.now());
  }

  function overview(session: Session, notice: { kind: 'ok' | 'error'; text: string } | null): RenderedPage {
    const builtin = isBuiltinSession(ctx, session) ? ctx.accounts!.profile(session.sub) : null;
    const content = accountPage({
      user: session,
      builtin: builtin === null ? null : { profile: builtin, passkeys: ctx.accounts!.passkeys(session.sub) },
      appPasswords: ctx.appPasswords.list(session.sub),
      sessions: ctx.userSessions.list(session.sub, (sid) => ctx.revocation.isRevoked(sid)),
      currentSid: session.sid,
      csrf: csrfFor(session),
      notice,
      passkeyScript: PASSKEY_SCRIPT,
    });
    return accountDocument(200, 'Your account', content, builtin === null ? null : withPasskeyScript(PAGE_HEADERS['content-security-policy']!));
  }

  function answer(res: ServerResponse, req: IncomingMessage, session: Session, result: ActionResult): void {
    switch (result.kind) {
      case 'done':
        return redirect(res, `${ACCOUNT_PATH}?done=${result.notice}`, 303);
      case 'page':
        return send(res, accountDocument(result.status, result.title, result.content, null));
      case 'json':
        return sendJson(res, result.status, result.body);
      case 'signed-out': {
        const cookies = [...clearSessionCookies(req.headers.cookie, ctx.settings.authSecure), clearIdTokenHint(ctx.settings.authSecure)];
        return redirect(res, `${ctx.settings.authUrl}${SIGNED_OUT_PATH}`, 303, cookies);
      }
      case 'overview':
        return send(res, { ...overview(session, { kind: 'error', text: result.error }), status: result.status });
    }
  }

  return {
    ownsPath,
    handles: (host, path) => host === ctx.settings.authHost && ownsPath(path),
    handle(req, res, clientIp) {
      serve(req, res, clientIp).catch((error: unknown) => {
        ctx.logger.error({ err: error, path: req.url }, 'the account page failed');
        if (res.headersSent) res.destroy();
        else send(res, message(500, 'Something went wrong', 'Your account page failed. Try again in a moment.'));
      });
    },
  };
}

/**
 * Whether this session belongs to a built-in user (the users file), whose password, TOTP and
 * passkeys this page manages: the session names the method it was made with. A session from
 * before methods were recorded counts only where the built-in users are the one method.
 */
export function isBuiltinSession(ctx: AccountServices, session: Session): boolean {
  if (ctx.accounts === null) return false;
  if (session.provider === undefined || session.provider === '') return ctx.settings.methods.length === 1 && ctx.settings.methods[0]?.kind === 'builtin';
  return ctx.settings.methods.some((method) => method.kind === 'builtin' && method.name === session.provider);
}

/** The outcome messages an action may leave for the page after its redirect: fixed texts, chosen by code. */
const NOTICES: Record<string, { kind: 'ok' | 'error'; text: string }> = {
  password: { kind: 'ok', text: 'Your password was changed.' },
  totp: { kind: 'ok', text: 'Your authenticator app is set up.' },
  'totp-removed': { kind: 'ok', text: 'The authenticator app was removed.' },
  passkey: { kind: 'ok', text: 'Your passkey was added.' },
  'passkey-removed': { kind: 'ok', text: 'The passkey was removed.' },
  'app-password-revoked': { kind: 'ok', text: 'The app password was revoked; it stops working at once.' },
  'session-ended': { kind: 'ok', text: 'That session was signed out.' },
};

function noticeFor(code: string | null): { kind: 'ok' | 'error'; text: string } | null {
  return code === null ? null : (NOTICES[code] ?? null);
}

function sameOrigin(req: IncomingMessage, authOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === authOrigin;
  const site = req.headers['sec-fetch-site'];
  return site === 'same-origin';
}

function message(status: number, title: string, text: string): RenderedPage {
  return accountDocument(status, title, messageContent(title, text, { href: ACCOUNT_PATH, text: 'Back to your account' }), null);
}

function notFound(): RenderedPage {
  return message(404, 'Not found', 'There is nothing at this address.');
}

function send(res: ServerResponse, page: RenderedPage, head = false): void {
  res.writeHead(page.status, page.headers);
  res.end(head ? undefined : page.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(JSON.stringify(body));
}

function redirect(res: ServerResponse, location: string, status: 302 | 303, cookies: string[] = []): void {
  res.writeHead(status, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}) });
  res.end();
}
