import type { Logger } from '../observability/index.ts';
import { hashPassword } from '../util/phc.ts';
import type { Authenticator } from './authenticator.ts';
import type { PasskeyInfo, Passkeys } from './passkeys.ts';
import { decodeBase32, generateTotpSecret, matchTotp, otpauthUri } from './totp.ts';
import { UsersFile } from './users-edit.ts';
import { findUser, type UsersSnapshot } from './users-file.ts';

/**
 * What the self-service page may do for a built-in user: read their profile, check their
 * password (throttled like the sign-in form, for re-authentication), change it, enrol or
 * remove TOTP, manage passkeys, and end their provider sessions. Changes go through the users
 * file (the same editor as the CLI, so the file stays readable and hashed things stay hashed),
 * which is then reloaded at once.
 */

export interface BuiltinProfile {
  readonly username: string;
  readonly email: string;
  readonly name: string;
  readonly groups: readonly string[];
  readonly totp: boolean;
}

export interface BuiltinIdentity {
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
  groups: string[];
  claims: Record<string, unknown>;
}

export interface TotpEnrolment {
  readonly secret: string;
  readonly uri: string;
  /** An SVG image of the URI as a QR code, for the page to show inline. */
  readonly qrSvg: string;
}

export interface BuiltinAccounts {
  /** The user as policies see them now; null when removed or disabled. */
  identity(username: string): BuiltinIdentity | null;
  profile(username: string): BuiltinProfile | null;
  checkPassword(username: string, password: string, ip: string): Promise<'ok' | 'wrong' | 'locked'>;
  /** Null when changed, else a problem to show. */
  changePassword(username: string, password: string): Promise<string | null>;
  beginTotp(username: string): Promise<TotpEnrolment | null>;
  /** True when the code matched the secret from `beginTotp` and it is now enrolled. */
  confirmTotp(username: string, code: string): Promise<boolean>;
  removeTotp(username: string): Promise<void>;
  passkeys(username: string): PasskeyInfo[];
  passkeyRegistrationOptions(username: string): Promise<unknown>;
  registerPasskey(username: string, response: unknown, name: string): Promise<string | null>;
  removePasskey(username: string, id: string): boolean;
  /** Ends every provider session of this user (sign out everywhere). */
  endSessions(username: string): number | Promise<number>;
}

export interface AccountOptions {
  users: () => UsersSnapshot;
  usersFile: string;
  reloadUsers: () => Promise<void>;
  authenticator: Authenticator;
  passkeys: Passkeys;
  endSessions: (username: string) => number | Promise<number>;
  logger: Logger;
  now: () => number;
}

export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1024;
const ENROLMENT_MS = 10 * 60_000;

export function createBuiltinAccounts(options: AccountOptions): BuiltinAccounts {
  const { logger, now } = options;
  const enrolling = new Map<string, { secret: string; until: number }>();
  const live = (username: string) => {
    const user = findUser(options.users(), username);
    return user === undefined || user.disabled || user.username.toLowerCase() !== username.toLowerCase() ? undefined : user;
  };

  async function edit(username: string, change: (file: UsersFile, key: string) => void): Promise<void> {
    const file = await UsersFile.open(options.usersFile);
    const key = file.find(username);
    if (key === null) throw new Error(`there is no user "${username}" in the users file`);
    change(file, key);
    await file.save();
    await options.reloadUsers();
  }

  return {
    identity(username) {
      const user = live(username);
      if (user === undefined) return null;
      return {
        sub: user.username,
        email: user.email,
        emailVerified: true,
        name: user.name,
        groups: [...user.groups],
        claims: { sub: user.username, email: user.email, email_verified: true, name: user.name, preferred_username: user.username, groups: [...user.groups] },
      };
    },
    profile(username) {
      const user = live(username);
      return user === undefined ? null : { username: user.username, email: user.email, name: user.name, groups: user.groups, totp: user.totp !== null };
    },
    async checkPassword(username, password, ip) {
      const outcome = await options.authenticator.checkPassword(username, password, ip);
      return outcome.kind === 'ok' ? (outcome.user.username.toLowerCase() === username.toLowerCase() ? 'ok' : 'wrong') : outcome.kind;
    },
    async changePassword(username, password) {
      if (password.length < MIN_PASSWORD_LENGTH) return `use at least ${MIN_PASSWORD_LENGTH} characters`;
      if (password.length > MAX_PASSWORD_LENGTH) return `use at most ${MAX_PASSWORD_LENGTH} characters`;
      const hash = await hashPassword(password);
      await edit(username, (file, key) => file.set(key, 'password', hash));
      logger.info({ event: 'account', user: username, change: 'password' }, 'password changed on the self-service page');
      return null;
    },
    async beginTotp(username) {
      const user = live(username);
      if (user === undefined) return null;
      const secret = generateTotpSecret();
      enrolling.set(user.username.toLowerCase(), { secret, until: now() + ENROLMENT_MS });
      const uri = otpauthUri({ issuer: 'Gatehouse', account: user.username, secret });
      const { toString: qr } = await import('qrcode');
      return { secret, uri, qrSvg: await qr(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) };
    },
    async confirmTotp(username, code) {
      const pending = enrolling.get(username.toLowerCase());
      if (pending === undefined || pending.until <= now()) return false;
      if (matchTotp(decodeBase32(pending.secret)!, code, now(), null) === null) return false;
      enrolling.delete(username.toLowerCase());
      await edit(username, (file, key) => file.set(key, 'totp', pending.secret));
      logger.info({ event: 'account', user: username, change: 'totp enrolled' }, 'TOTP enrolled on the self-service page');
      return true;
    },
    async removeTotp(username) {
      await edit(username, (file, key) => file.unset(key, 'totp'));
      logger.info({ event: 'account', user: username, change: 'totp removed' }, 'TOTP removed on the self-service page');
    },
    passkeys: (username) => options.passkeys.list(username),
    async passkeyRegistrationOptions(username) {
      const user = live(username);
      if (user === undefined) return null;
      return options.passkeys.registrationOptions({ username: user.username, name: user.name });
    },
    async registerPasskey(username, response, name) {
      const user = live(username);
      if (user === undefined) return 'the account is not available';
      const problem = await options.passkeys.register({ username: user.username, email: user.email }, response, name);
      if (problem === null) logger.info({ event: 'account', user: username, change: 'passkey added' }, 'passkey registered on the self-service page');
      return problem;
    },
    removePasskey(username, id) {
      const removed = options.passkeys.remove(username, id);
      if (removed) logger.info({ event: 'account', user: username, change: 'passkey removed' }, 'passkey removed on the self-service page');
      return removed;
    },
    endSessions: (username) => options.endSessions(username),
  };
}
