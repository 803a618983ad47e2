import type { AuditEvent, AuditSink } from '../../../src/observability/index.ts';
import { Writable } from 'node:stream';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type Authenticator } from '../../../src/idp/authenticator.ts';
import { hashPassword } from '../../../src/idp/phc.ts';
import { createSignInThrottle, type ThrottleOptions } from '../../../src/idp/throttle.ts';
import { hotp, totpStep, decodeBase32 } from '../../../src/idp/totp.ts';
import { parseUsersFile, type UsersSnapshot } from '../../../src/idp/users-file.ts';

const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DP';
const NOW = 1_700_000_000_000;

describe('password and TOTP checks', () => {
  let users: UsersSnapshot;
  const logs: Array<Record<string, unknown>> = [];
  let time = NOW;

  beforeAll(async () => {
    // Default parameters on purpose: the timing comparison needs the real cost.
    const hash = await hashPassword('right password');
    const parsed = parseUsersFile(
      `users:
  alice:
    email: alice@example.com
    password: ${hash}
  tom:
    email: tom@example.com
    password: ${hash}
    totp: ${TOTP_SECRET}
  dora:
    email: dora@example.com
    password: ${hash}
    disabled: true
`,
      'users.yml',
    );
    if (!parsed.ok) throw new Error(parsed.error);
    users = parsed.users;
  });

  async function authenticator(limits: Partial<ThrottleOptions> = {}, audit?: AuditSink): Promise<Authenticator> {
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
          callback();
        },
      }),
    );
    const throttle = createSignInThrottle({ now: () => time, baseDelayMs: 0, maxDelayMs: 0, ...limits });
    return createAuthenticator({ users: () => users, throttle, logger, now: () => time, ...(audit ? { audit } : {}) });
  }

  it('accepts the right password by name or email and refuses everything else alike', async () => {
    const auth = await authenticator();
    expect(await auth.checkPassword('alice', 'right password', '10.0.0.1')).toMatchObject({ kind: 'ok', user: { username: 'alice' } });
    expect(await auth.checkPassword('ALICE@example.com', 'right password', '10.0.0.1')).toMatchObject({ kind: 'ok', user: { username: 'alice' } });
    expect(await auth.checkPassword('alice', 'Tr0ub4dor&3', '10.0.0.1')).toEqual({ kind: 'wrong' });
    expect(await auth.checkPassword('nobody', 'right password', '10.0.0.1')).toEqual({ kind: 'wrong' });
    expect(await auth.checkPassword('dora', 'right password', '10.0.0.1')).toEqual({ kind: 'wrong' });
    const reasons = logs.filter((l) => l['event'] === 'sign_in').map((l) => [l['outcome'], l['user'], l['ip'], l['reason']]);
    expect(reasons).toEqual([
      ['success', 'alice', '10.0.0.1', 'password'],
      ['success', 'alice', '10.0.0.1', 'password'],
      ['failure', 'alice', '10.0.0.1', 'wrong password'],
      ['failure', 'nobody', '10.0.0.1', 'unknown user'],
      ['failure', 'dora', '10.0.0.1', 'account disabled'],
    ]);
    expect(JSON.stringify(logs)).not.toMatch(/right password|Tr0ub4dor/);
  });

  it('takes as long for an unknown name as for a real one', async () => {
    const generous = { threshold: 100, lockMs: 60_000, maxLockMs: 60_000 };
    const auth = await authenticator({ perUser: generous, perIp: generous });
    const timed = async (login: string) => {
      const started = performance.now();
      await auth.checkPassword(login, 'not it', '10.0.0.2');
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      known.push(await timed(`alice`));
      unknown.push(await timed(`ghost${i}`));
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[2]!;
    // Both run one argon2 computation with the same parameters; without the dummy hash an unknown name would answer in microseconds.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    expect(median(unknown)).toBeLessThan(median(known) * 2);
  });

  it('asks for the TOTP code, accepts it once, and refuses its reuse', async () => {
    const auth = await authenticator();
    expect(await auth.checkPassword('tom', 'right password', '10.0.0.3')).toMatchObject({ kind: 'ok', user: { username: 'tom' } });
    const code = hotp(decodeBase32(TOTP_SECRET)!, totpStep(time));
    expect(await auth.checkTotp('tom', 'tom', '000000' === code ? '111111' : '000000', '10.0.0.3')).toEqual({ kind: 'wrong' });
    expect(await auth.checkTotp('tom', 'tom', code, '10.0.0.3')).toMatchObject({ kind: 'ok' });
    expect(await auth.checkTotp('tom', 'tom', code, '10.0.0.3')).toEqual({ kind: 'wrong' });
    time += 30_000;
    expect(await auth.checkTotp('tom', 'tom', hotp(decodeBase32(TOTP_SECRET)!, totpStep(time)), '10.0.0.3')).toMatchObject({ kind: 'ok' });
    const reasons = logs.filter((l) => l['event'] === 'sign_in' && l['step'] === 'totp').map((l) => l['reason']);
    expect(reasons).toEqual(['wrong code', 'password and TOTP', 'code already used', 'password and TOTP']);
  });

  it('locks after five failures and then does not even look at the password', async () => {
    const auth = await authenticator();
    for (let i = 0; i < 4; i += 1) expect(await auth.checkPassword('alice', `guess ${i}`, '10.0.0.4')).toEqual({ kind: 'wrong' });
    expect(await auth.checkPassword('alice', 'guess 4', '10.0.0.4')).toEqual({ kind: 'locked', retryAfterMs: 60_000 });
    const started = performance.now();
    expect(await auth.checkPassword('alice', 'right password', '10.0.0.5')).toEqual({ kind: 'locked', retryAfterMs: 60_000 });
    expect(performance.now() - started).toBeLessThan(50);
    expect(logs.some((l) => l['event'] === 'sign_in_locked' && l['user'] === 'alice')).toBe(true);
    time += 60_000;
    expect(await auth.checkPassword('alice', 'right password', '10.0.0.5')).toMatchObject({ kind: 'ok' });
  });

  it('records failures and the lock in the audit stream, never what was typed as the password', async () => {
    const events: AuditEvent[] = [];
    const auth = await authenticator({}, { record: (event) => events.push(event) });
    for (let i = 0; i < 5; i += 1) await auth.checkPassword('alice', `guess-${i}`, '10.0.0.6');
    await auth.checkPassword('alice', 'right password', '10.0.0.6');
    expect(events.map((e) => e.event)).toEqual(['sign_in_failed', 'sign_in_failed', 'sign_in_failed', 'sign_in_failed', 'sign_in_failed', 'locked', 'sign_in_failed']);
    expect(events[0]).toEqual({ event: 'sign_in_failed', user: 'alice', reason: 'password: wrong password', ip: '10.0.0.6' });
    expect(events[5]).toMatchObject({ event: 'locked', user: 'alice', ip: '10.0.0.6', retryAfterMs: 60_000 });
    expect(JSON.stringify(events)).not.toMatch(/guess-|right password/);
  });
});
