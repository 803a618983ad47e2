import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Logger } from '../observability/index.ts';
import { readUrlEncodedForm } from '../http/index.ts';
import type { Authenticator } from './authenticator.ts';
import { lockedMessage, messagePage, signInPage, totpPage, WRONG_CODE, WRONG_PASSKEY, WRONG_PASSWORD, type HtmlPage, type PasskeyForm } from './pages.ts';
import type { Passkeys } from './passkeys.ts';
import { findUser, type UserRecord, type UsersSnapshot } from './users-file.ts';

/**
 * The provider's interaction endpoints: `GET|POST <prefix>/interaction/:uid` (the sign-in form)
 * and `POST <prefix>/interaction/:uid/totp` (the second step). The interaction itself is found
 * through oidc-provider's signed, SameSite=Lax interaction cookie and must carry the uid in the
 * URL; posts must also come from the sign-in origin. Together that makes the forms CSRF-safe
 * without a token of their own. Consent is implicit: Gatehouse is the only client.
 */

export interface InteractionOptions {
  provider: Provider;
  authenticator: Authenticator;
  passkeys: Passkeys;
  users: () => UsersSnapshot;
  logger: Logger;
  /** e.g. `http://auth.localhost:8080`. */
  authOrigin: string;
  prefix: string;
  scopes: readonly string[];
  now: () => number;
}

interface PendingSecondStep {
  username: string;
  login: string;
  expiresAt: number;
}

const UID = /^\/interaction\/([A-Za-z0-9_-]{1,128})(\/totp|\/passkey)?$/;
const MAX_CREDENTIAL_BYTES = 8 * 1024;

/**
 * RFC 8176 methods. A passkey is a hardware-bound key (`hwk`) used with user verification (a
 * PIN or biometric on the device), which is two factors on its own: `mfa`, as password + TOTP.
 */
const AMR = {
  password: ['pwd'],
  passwordAndTotp: ['pwd', 'otp', 'mfa'],
  passwordAndPasskey: ['pwd', 'hwk', 'user', 'mfa'],
  passkey: (verified: boolean) => (verified ? ['hwk', 'user', 'mfa'] : ['hwk', 'user']),
} as const;
const MAX_FORM_BYTES = 16 * 1024;
const SECOND_STEP_MS = 5 * 60_000;
const MAX_PENDING = 10_000;

export function createInteractionHandler(options: InteractionOptions) {
  const { provider, authenticator, passkeys, logger, prefix } = options;
  const pending = new Map<string, PendingSecondStep>();

  function expired(): HtmlPage {
    return messagePage(400, 'Sign-in expired', 'This sign-in page is no longer valid (it expired or was opened in another browser). Go back to the application and sign in again.', {
      href: `${options.authOrigin}/`,
      text: 'Start again',
    });
  }

  async function finish(req: IncomingMessage, res: ServerResponse, user: UserRecord, amr: string[], clientId: string, requested: string): Promise<void> {
    const grant = new provider.Grant({ accountId: user.username, clientId });
    grant.addOIDCScope(allowedScopes(requested, options.scopes));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: user.username, amr, remember: true }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  async function run(req: IncomingMessage, res: ServerResponse, path: string, ip: string): Promise<HtmlPage | null> {
    const match = UID.exec(path);
    if (match === null) return messagePage(404, 'Not found', 'There is nothing at this address.');
    const [, uid = '', totpStep] = match;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      const refused = messagePage(405, 'Method not allowed', 'Use the sign-in form.');
      refused.headers['allow'] = 'GET, HEAD, POST';
      return refused;
    }
    if (method === 'POST' && !fromSignInOrigin(req, options.authOrigin)) {
      logger.warn({ event: 'sign_in', outcome: 'failure', ip, reason: 'cross-site form post', origin: req.headers.origin ?? null }, 'sign-in form posted from another site; refused');
      return messagePage(403, 'Request refused', 'This form can only be sent from the Gatehouse sign-in page.');
    }
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return expired();
      throw error;
    }
    if (details.uid !== uid) return expired();
    const clientId = String(details.params['client_id'] ?? '');
    const requested = String(details.params['scope'] ?? 'openid');
    const action = `${prefix}/interaction/${uid}`;

    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      if (accountId === undefined) return expired();
      const grant = (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId });
      grant.addOIDCScope(allowedScopes(requested, options.scopes));
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      return null;
    }
    if (details.prompt.name !== 'login') return messagePage(400, 'Sign-in cannot continue', `Unexpected step "${details.prompt.name}". Go back to the application and sign in again.`);

    const waiting = takePending(uid, false);
    const secondStep = async (pending: PendingSecondStep, error: string | null, status?: number): Promise<HtmlPage> => {
      const user = findUser(options.users(), pending.username);
      const ownPasskeys = passkeys.list(pending.username).length > 0;
      const passkey: PasskeyForm | undefined = ownPasskeys ? { action: `${action}/passkey`, options: await passkeys.authenticationOptions(uid, pending.username), label: 'Use your passkey' } : undefined;
      return totpPage({ action: user?.totp === null || user === undefined ? null : `${action}/totp`, error, ...(status === undefined ? {} : { status }), ...(passkey === undefined ? {} : { passkey }) });
    };
    const firstStep = async (username: string, error: string | null, status?: number): Promise<HtmlPage> =>
      signInPage({ action, username, error, ...(status === undefined ? {} : { status }), passkey: { action: `${action}/passkey`, options: await passkeys.authenticationOptions(uid), label: 'Use a passkey' } });
    if (method !== 'POST') return waiting === undefined ? firstStep('', null) : secondStep(waiting, null);
    const form = await readUrlEncodedForm(req, MAX_FORM_BYTES);
    if (form === null) return messagePage(400, 'Bad request', 'The sign-in form could not be read. Go back and try again.');

    if (totpStep === '/passkey') {
      const credential = parseCredential(form.get('credential'));
      // Alone (a discoverable credential names its user), or as the second step of this user.
      const outcome = credential === null ? null : await passkeys.authenticate(uid, credential, waiting?.username);
      const user = outcome === null ? undefined : findUser(options.users(), outcome.username);
      // The passkey's user must still be there, enabled, and the same person (same email): not a later user of that name.
      if (outcome === null || user === undefined || user.disabled || user.username.toLowerCase() !== outcome.username || user.email.toLowerCase() !== outcome.email) {
        logger.warn({ event: 'sign_in', outcome: 'failure', step: 'passkey', user: waiting?.username ?? null, ip, reason: outcome === null ? 'passkey not verified' : 'account not available' }, 'sign-in failure (passkey)');
        return waiting === undefined ? firstStep('', WRONG_PASSKEY, 401) : secondStep(waiting, WRONG_PASSKEY, 401);
      }
      if (waiting !== undefined) takePending(uid, true);
      logger.info({ event: 'sign_in', outcome: 'success', step: 'passkey', user: user.username, ip, reason: waiting === undefined ? 'passkey' : 'password and passkey' }, 'sign-in success (passkey)');
      await finish(req, res, user, waiting === undefined ? [...AMR.passkey(outcome.userVerified)] : [...AMR.passwordAndPasskey], clientId, requested);
      return null;
    }

    if (totpStep === undefined) {
      const login = (form.get('username') ?? '').trim();
      const outcome = await authenticator.checkPassword(login, form.get('password') ?? '', ip);
      if (outcome.kind === 'locked') return firstStep(login, lockedMessage(outcome.retryAfterMs), 429);
      if (outcome.kind === 'wrong') return firstStep(login, WRONG_PASSWORD, 401);
      // A second factor when TOTP is enrolled, or when the app asked for one (acr_values) and the user has a passkey.
      const wantsSecondFactor = String(details.params['acr_values'] ?? '').trim() !== '' && passkeys.list(outcome.user.username).length > 0;
      if (outcome.user.totp !== null || wantsSecondFactor) {
        const pending = { username: outcome.user.username, login, expiresAt: options.now() + SECOND_STEP_MS };
        remember(uid, pending);
        return secondStep(pending, null);
      }
      await finish(req, res, outcome.user, [...AMR.password], clientId, requested);
      return null;
    }

    if (waiting === undefined) return firstStep('', 'Your sign-in took too long. Enter your password again.', 400);
    const outcome = await authenticator.checkTotp(waiting.login, waiting.username, form.get('code') ?? '', ip);
    if (outcome.kind === 'locked') {
      takePending(uid, true);
      return firstStep(waiting.login, lockedMessage(outcome.retryAfterMs), 429);
    }
    if (outcome.kind === 'wrong') return secondStep(waiting, WRONG_CODE, 401);
    takePending(uid, true);
    await finish(req, res, outcome.user, [...AMR.passwordAndTotp], clientId, requested);
    return null;
  }

  function takePending(uid: string, remove: boolean): PendingSecondStep | undefined {
    const entry = pending.get(uid);
    if (entry === undefined) return undefined;
    if (remove || entry.expiresAt <= options.now()) pending.delete(uid);
    return entry.expiresAt > options.now() ? entry : undefined;
  }

  function remember(uid: string, entry: PendingSecondStep): void {
    if (pending.size >= MAX_PENDING) {
      const now = options.now();
      for (const [key, value] of pending) if (value.expiresAt <= now) pending.delete(key);
      const oldest = pending.keys().next();
      if (pending.size >= MAX_PENDING && oldest.done !== true) pending.delete(oldest.value);
    }
    pending.set(uid, entry);
  }

  return async function handleInteraction(req: IncomingMessage, res: ServerResponse, path: string, ip: string): Promise<void> {
    try {
      const page = await run(req, res, path, ip);
      if (page !== null) send(res, req.method === 'HEAD', page);
    } catch (error) {
      logger.error({ err: error, path }, 'the sign-in page failed');
      if (res.headersSent) res.destroy();
      else send(res, false, messagePage(500, 'Something went wrong', 'The sign-in page failed. Try again in a moment.'));
    }
  };
}

/** Browsers send Origin on every form post; Sec-Fetch-Site covers the rare one that does not. */
export function fromSignInOrigin(req: IncomingMessage, authOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === authOrigin;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

function parseCredential(text: string | null): unknown {
  if (text === null || text.length === 0 || text.length > MAX_CREDENTIAL_BYTES) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

function allowedScopes(requested: string, supported: readonly string[]): string {
  return requested.split(/\s+/).filter((scope) => supported.includes(scope)).join(' ');
}

function send(res: ServerResponse, head: boolean, page: HtmlPage): void {
  res.writeHead(page.status, page.headers);
  res.end(head ? undefined : page.body);
}
