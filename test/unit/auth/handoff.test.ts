import { describe, expect, it } from 'vitest';
import { consumeHandoff, createHandoff, HANDOFF_LIFETIME_SECONDS } from '../../../src/auth/handoff.ts';
import { seal } from '../../../src/auth/seal.ts';
import type { Session } from '../../../src/auth/session.ts';
import { NOW, NOW_S, testKeys } from './fixtures.ts';

const keys = testKeys('handoff');
const HOST = 'app.example.com';
const session: Omit<Session, 'host'> = {
  sid: 'sid-1',
  sub: 'user-1',
  email: 'alice@corp.com',
  emailVerified: true,
  name: 'Alice',
  groups: ['admins'],
  claims: { dept: 'eng' },
  iat: NOW_S,
  exp: NOW_S + 3600,
};

function handoff(host = HOST): string {
  return createHandoff(keys, { session, host, returnTo: `https://${host}/dashboard?x=1` }, NOW);
}

describe('handoff tokens', () => {
  it('carry the session to the named host once', () => {
    const token = handoff();
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(consumeHandoff(keys, token, HOST, NOW + 1_000)).toEqual({
      ok: true,
      session: { ...session, host: HOST },
      returnTo: 'https://app.example.com/dashboard?x=1',
    });
  });

  it('are refused the second time (replay)', () => {
    const token = handoff();
    expect(consumeHandoff(keys, token, HOST, NOW).ok).toBe(true);
    expect(consumeHandoff(keys, token, HOST, NOW + 1)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('are refused on another host, and that attempt does not use them up', () => {
    const token = handoff();
    expect(consumeHandoff(keys, token, 'evil.example.com', NOW)).toEqual({ ok: false, reason: 'wrong_host' });
    expect(consumeHandoff(keys, token, 'APP.example.com', NOW)).toEqual({ ok: false, reason: 'wrong_host' });
    expect(consumeHandoff(keys, token, HOST, NOW).ok).toBe(true);
  });

  it(`expire after ${HANDOFF_LIFETIME_SECONDS} seconds`, () => {
    const token = handoff();
    expect(consumeHandoff(keys, token, HOST, NOW + HANDOFF_LIFETIME_SECONDS * 1000)).toEqual({ ok: false, reason: 'expired' });
    const fresh = handoff();
    expect(consumeHandoff(keys, fresh, HOST, NOW + HANDOFF_LIFETIME_SECONDS * 1000 - 1).ok).toBe(true);
  });

  it('are invalid when tampered with, truncated, or sealed with another key or purpose', () => {
    const token = handoff();
    const tampered = token.slice(0, 30) + (token[30] === 'A' ? 'B' : 'A') + token.slice(31);
    expect(consumeHandoff(keys, tampered, HOST, NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(consumeHandoff(keys, token.slice(0, -2), HOST, NOW)).toEqual({ ok: false, reason: 'invalid' });
    const foreign = createHandoff(testKeys('handoff'), { session, host: HOST, returnTo: '/' }, NOW);
    expect(consumeHandoff(keys, foreign, HOST, NOW)).toEqual({ ok: false, reason: 'invalid' });
    const sessionPurpose = createHandoff(testKeys('session'), { session, host: HOST, returnTo: '/' }, NOW);
    expect(consumeHandoff(keys, sessionPurpose, HOST, NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(consumeHandoff(keys, '', HOST, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('are invalid when the sealed payload is not a handoff', () => {
    const notHandoff = seal(keys, { exp: NOW_S + 60, host: HOST }, NOW);
    expect(consumeHandoff(keys, notHandoff, HOST, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('each token is unique, so two sign-ins to one host both work', () => {
    const one = handoff();
    const two = handoff();
    expect(one).not.toBe(two);
    expect(consumeHandoff(keys, one, HOST, NOW).ok).toBe(true);
    expect(consumeHandoff(keys, two, HOST, NOW).ok).toBe(true);
  });

  it('replay memory is per key set', () => {
    const other = testKeys('handoff');
    const token = createHandoff(other, { session, host: HOST, returnTo: '/' }, NOW);
    expect(consumeHandoff(other, token, HOST, NOW).ok).toBe(true);
    expect(consumeHandoff(other, token, HOST, NOW)).toEqual({ ok: false, reason: 'replayed' });
  });
});
