import { normalizeHost } from '../../routes/index.ts';
import type { Html } from '../../http/index.ts';
import { MAX_NAME_LENGTH, MAX_PASSWORDS_PER_USER } from '../app-passwords.ts';
import type { Session } from '../session.ts';
import type { AccountServices } from './handler.ts';
import { messageContent, newAppPasswordPage, totpEnrolmentPage } from './views.ts';

/**
 * What each form on the self-service page does. Adding a way in (a password, an authenticator
 * app, a passkey, an app password) needs the current password from built-in users, and a
 * sign-in of the last 15 minutes from users of an outside provider; taking one away needs only
 * the session and the form's CSRF token.
 */

export type ActionResult =
  | { kind: 'done'; notice: string }
  | { kind: 'page'; status: number; title: string; content: Html }
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'overview'; status: number; error: string }
  | { kind: 'signed-out' };

export interface ActionInput {
  readonly path: string;
  readonly form: URLSearchParams;
  readonly session: Session;
  readonly ip: string;
  readonly builtin: boolean;
  readonly csrf: string;
}

/** How recent a sign-in must be for users without a password here to add an app password. */
export const RECENT_SIGN_IN_SECONDS = 15 * 60;
const MAX_HOSTS = 20;

export async function runAction(ctx: AccountServices, input: ActionInput): Promise<ActionResult> {
  const { form, session } = input;
  const accounts = input.builtin ? ctx.accounts : null;
  const field = (name: string) => form.get(name) ?? '';

  /** Null when the current password is right, else the answer to give. */
  async function reauthenticate(json = false): Promise<ActionResult | null> {
    if (accounts === null) {
      if (ctx.now() / 1000 - session.iat <= RECENT_SIGN_IN_SECONDS) return null;
      return { kind: 'overview', status: 401, error: 'For this, sign in again first (your sign-in is more than 15 minutes old): sign out, sign back in, and try again.' };
    }
    const outcome = await accounts.checkPassword(session.sub, field('current'), input.ip);
    if (outcome === 'ok') return null;
    const error = outcome === 'locked' ? 'Too many wrong passwords; try again later.' : 'Your current password is not right, so nothing was changed.';
    const status = outcome === 'locked' ? 429 : 401;
    return json ? { kind: 'json', status, body: { error: 'reauthentication_failed', message: error } } : { kind: 'overview', status, error };
  }

  switch (input.path) {
    case '/account/password': {
      if (accounts === null) return notHere();
      const refused = await reauthenticate();
      if (refused !== null) return refused;
      if (field('password') !== field('confirm')) return { kind: 'overview', status: 400, error: 'The two new passwords differ; nothing was changed.' };
      const problem = await accounts.changePassword(session.sub, field('password'));
      return problem === null ? { kind: 'done', notice: 'password' } : { kind: 'overview', status: 400, error: `The new password was not accepted: ${problem}.` };
    }
    case '/account/totp': {
      if (accounts === null) return notHere();
      const refused = await reauthenticate();
      if (refused !== null) return refused;
      const enrolment = await accounts.beginTotp(session.sub);
      if (enrolment === null) return notHere();
      return { kind: 'page', status: 200, title: 'Set up your authenticator app', content: totpEnrolmentPage(enrolment, input.csrf, null) };
    }
    case '/account/totp/confirm': {
      if (accounts === null) return notHere();
      if (await accounts.confirmTotp(session.sub, field('code'))) return { kind: 'done', notice: 'totp' };
      return { kind: 'overview', status: 400, error: 'That code did not match (or the setup took over 10 minutes); the authenticator app was not set up. Start again.' };
    }
    case '/account/totp/remove': {
      if (accounts === null) return notHere();
      const refused = await reauthenticate();
      if (refused !== null) return refused;
      await accounts.removeTotp(session.sub);
      return { kind: 'done', notice: 'totp-removed' };
    }
    case '/account/passkeys/options': {
      if (accounts === null) return { kind: 'json', status: 404, body: { error: 'not_found', message: 'Passkeys are for built-in accounts.' } };
      const refused = await reauthenticate(true);
      if (refused !== null) return refused;
      const options = await accounts.passkeyRegistrationOptions(session.sub);
      return options === null ? { kind: 'json', status: 404, body: { error: 'not_found', message: 'The account is not available.' } } : { kind: 'json', status: 200, body: options };
    }
    case '/account/passkeys': {
      if (accounts === null) return notHere();
      let response: unknown;
      try {
        response = JSON.parse(field('credential'));
      } catch {
        return { kind: 'overview', status: 400, error: 'The passkey could not be read; nothing was added.' };
      }
      const problem = await accounts.registerPasskey(session.sub, response, field('name'));
      return problem === null ? { kind: 'done', notice: 'passkey' } : { kind: 'overview', status: 400, error: `The passkey was not added: ${problem}.` };
    }
    case '/account/passkeys/remove': {
      if (accounts === null) return notHere();
      accounts.removePasskey(session.sub, field('id'));
      return { kind: 'done', notice: 'passkey-removed' };
    }
    case '/account/app-passwords':
      return createAppPassword(ctx, input, reauthenticate);
    case '/account/app-passwords/revoke': {
      if (ctx.appPasswords.revoke(session.sub, field('id'))) ctx.logger.info({ event: 'account', user: session.sub, change: 'app password revoked' }, 'app password revoked');
      return { kind: 'done', notice: 'app-password-revoked' };
    }
    case '/account/sessions/revoke': {
      const target = ctx.userSessions.list(session.sub, (sid) => ctx.revocation.isRevoked(sid)).find((info) => info.sid === field('sid'));
      if (target !== undefined) ctx.revocation.revoke(target.sid, target.exp);
      return target?.sid === session.sid ? { kind: 'signed-out' } : { kind: 'done', notice: 'session-ended' };
    }
    case '/account/sign-out-everywhere': {
      const ended = ctx.userSessions.signOutEverywhere(session.sub);
      for (const info of ended) ctx.revocation.revoke(info.sid, info.exp);
      ctx.revocation.revoke(session.sid, session.exp);
      const providerSessions = (await accounts?.endSessions(session.sub)) ?? 0;
      ctx.logger.info({ event: 'sign_out_everywhere', user: session.sub, sessions: ended.length, providerSessions, ip: input.ip }, 'signed out everywhere');
      return { kind: 'signed-out' };
    }
    default:
      return { kind: 'page', status: 404, title: 'Not found', content: messageContent('Not found', 'There is nothing at this address.', { href: '/account', text: 'Back to your account' }) };
  }
}

async function createAppPassword(ctx: AccountServices, input: ActionInput, reauthenticate: () => Promise<ActionResult | null>): Promise<ActionResult> {
  const { form, session } = input;
  const name = (form.get('name') ?? '').trim();
  if (name === '' || name.length > MAX_NAME_LENGTH) return { kind: 'overview', status: 400, error: `Give the app password a name of 1–${MAX_NAME_LENGTH} characters.` };
  const hosts: string[] = [];
  for (const raw of (form.get('hosts') ?? '').split(/[\s,]+/).filter((item) => item !== '')) {
    const host = normalizeHost(raw.replace(/^https?:\/\//i, '').replace(/\/.*$/, ''));
    if (!/^[a-z0-9.-]{1,253}$/.test(host)) return { kind: 'overview', status: 400, error: `"${raw.slice(0, 80)}" is not an app address; write host names such as git.example.com.` };
    if (!hosts.includes(host)) hosts.push(host);
  }
  if (hosts.length > MAX_HOSTS) return { kind: 'overview', status: 400, error: `Name at most ${MAX_HOSTS} app addresses.` };
  if (ctx.appPasswords.list(session.sub).length >= MAX_PASSWORDS_PER_USER) return { kind: 'overview', status: 400, error: `You have ${MAX_PASSWORDS_PER_USER} app passwords; revoke one first.` };
  const refused = await reauthenticate();
  if (refused !== null) return refused;
  const owner = { sub: session.sub, email: session.email, emailVerified: session.emailVerified, name: session.name, groups: [...session.groups], claims: { ...session.claims }, builtin: input.builtin };
  const created = await ctx.appPasswords.create(owner, name, hosts);
  ctx.logger.info({ event: 'account', user: session.sub, change: 'app password created', id: created.id, hosts }, 'app password created');
  const username = input.builtin ? session.sub : (session.email ?? session.sub);
  return { kind: 'page', status: 200, title: 'Your new app password', content: newAppPasswordPage(name, created.secret, username) };
}

function notHere(): ActionResult {
  return { kind: 'overview', status: 404, error: 'This account is managed by your sign-in provider; change it there.' };
}
