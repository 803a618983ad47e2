import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditSink, Logger } from '../observability/index.ts';
import { hashPassword, parsePhc, verifyPhc, type PhcHash } from './phc.ts';
import { addressKey, type SignInThrottle } from './throttle.ts';
import { matchTotp } from './totp.ts';
import { findUser, type UserRecord, type UsersSnapshot } from './users-file.ts';

/**
 * The checks behind the sign-in form: throttling first, then the password (always one argon2
 * computation, against a dummy hash when the name is unknown, so the answer takes as long
 * either way), then the TOTP code. Every outcome is logged with the name typed, the client
 * IP and the reason; never with what was typed as the password or code.
 */

export type PasswordOutcome =
  | { kind: 'ok'; user: UserRecord }
  | { kind: 'wrong' }
  | { kind: 'locked'; retryAfterMs: number };

export type TotpOutcome = { kind: 'ok'; user: UserRecord } | { kind: 'wrong' } | { kind: 'locked'; retryAfterMs: number };

export interface Authenticator {
  checkPassword(login: string, password: string, ip: string): Promise<PasswordOutcome>;
  /** `login` is what was typed at the password step; the throttle counts both steps together. */
  checkTotp(login: string, username: string, code: string, ip: string): Promise<TotpOutcome>;
}

export interface AuthenticatorOptions {
  users: () => UsersSnapshot;
  throttle: SignInThrottle;
  logger: Logger;
  now: () => number;
  /** Password hashes computed at once (each takes 64 MiB); more wait their turn. */
  maxConcurrentHashes?: number;
  /** Failures and locks, for the audit stream (never what was typed as the password or code). */
  audit?: AuditSink;
}

const MAX_LOGIN_LENGTH = 256;
const MAX_PASSWORD_LENGTH = 1024;

export async function createAuthenticator(options: AuthenticatorOptions): Promise<Authenticator> {
  const { logger, throttle, now } = options;
  const dummy = parsePhc(await hashPassword(randomBytes(16).toString('hex')));
  if (!dummy.ok) throw new Error(`internal: the dummy password hash does not parse (${dummy.problem})`);
  const dummyHash: PhcHash = dummy.value;
  const limit = createLimiter(options.maxConcurrentHashes ?? 2);
  const lastTotpStep = new Map<string, number>();

  function log(outcome: 'success' | 'failure', step: 'password' | 'totp', login: string, ip: string, reason: string, level: 'info' | 'warn' = 'info'): void {
    logger[level]({ event: 'sign_in', outcome, step, user: login.slice(0, 64), ip, reason }, `sign-in ${outcome} (${reason})`);
    if (outcome === 'failure') options.audit?.record({ event: 'sign_in_failed', user: login.slice(0, 64), reason: `${step}: ${reason}`, ip });
  }

  async function failed(login: string, ip: string): Promise<PasswordOutcome & TotpOutcome> {
    const result = throttle.failure(accountKey(options.users(), login), addressKey(ip));
    if (result.status.locked) {
      logger.warn({ event: 'sign_in_locked', user: login.slice(0, 64), ip, scope: result.status.scope, retryAfterMs: result.status.retryAfterMs }, 'too many failed sign-ins; temporarily locked');
      options.audit?.record({ event: 'locked', user: login.slice(0, 64), ip, scope: result.status.scope, retryAfterMs: result.status.retryAfterMs });
      return { kind: 'locked', retryAfterMs: result.status.retryAfterMs };
    }
    await sleep(result.delayMs);
    return { kind: 'wrong' };
  }

  return {
    async checkPassword(login, password, ip) {
      const status = throttle.status(accountKey(options.users(), login), addressKey(ip));
      if (status.locked) {
        log('failure', 'password', login, ip, `locked (${status.scope})`, 'warn');
        return { kind: 'locked', retryAfterMs: status.retryAfterMs };
      }
      const user = login.length > MAX_LOGIN_LENGTH ? undefined : findUser(options.users(), login);
      const stored = user?.password ?? dummyHash;
      const matches = password.length <= MAX_PASSWORD_LENGTH && (await limit(() => verifyPhc(password, stored)));
      if (user === undefined || user.disabled || !matches) {
        const reason = user === undefined ? 'unknown user' : user.disabled ? 'account disabled' : 'wrong password';
        log('failure', 'password', login, ip, reason, 'warn');
        return failed(login, ip);
      }
      if (user.totp === null) {
        throttle.success(accountKey(options.users(), login));
        log('success', 'password', user.username, ip, 'password');
      } else {
        log('success', 'password', user.username, ip, 'password correct; TOTP code required');
      }
      return { kind: 'ok', user };
    },

    async checkTotp(login, username, code, ip) {
      const status = throttle.status(accountKey(options.users(), login), addressKey(ip));
      if (status.locked) {
        log('failure', 'totp', username, ip, `locked (${status.scope})`, 'warn');
        return { kind: 'locked', retryAfterMs: status.retryAfterMs };
      }
      // The file may have changed since the password step: the user must still exist and be enabled.
      const user = findUser(options.users(), username);
      if (user === undefined || user.disabled || user.totp === null) {
        log('failure', 'totp', username, ip, 'account no longer available', 'warn');
        return failed(login, ip);
      }
      const key = user.username.toLowerCase();
      const step = matchTotp(user.totp, code, now(), lastTotpStep.get(key) ?? null);
      if (step === null) {
        const replay = matchTotp(user.totp, code, now(), null) !== null;
        log('failure', 'totp', user.username, ip, replay ? 'code already used' : 'wrong code', 'warn');
        return failed(login, ip);
      }
      lastTotpStep.set(key, step);
      throttle.success(accountKey(options.users(), login));
      log('success', 'totp', user.username, ip, 'password and TOTP');
      return { kind: 'ok', user };
    },
  };
}

/**
 * The throttling key of a login: the account it names, whichever of its name or email was
 * typed and in whatever case, so a lock on `bob` also holds for `BOB` and `bob@example.com`.
 * Unknown names are counted by their folded text, exactly like real ones.
 */
export function accountKey(users: UsersSnapshot, login: string): string {
  const user = login.length > MAX_LOGIN_LENGTH ? undefined : findUser(users, login);
  if (user !== undefined) return `account:${user.username.toLowerCase()}`;
  return `name:${login.trim().toLowerCase().slice(0, MAX_LOGIN_LENGTH)}`;
}

function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so no newcomer slips in between.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}
