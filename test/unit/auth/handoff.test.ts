import { describe, expect, it } from 'vitest';
import { consumeHandoff, createHandoff, HANDOFF_LIFETIME_SECONDS, parseUsedHandoff, type HandoffPlace, type UsedHandoffs } from '../../../src/auth/handoff.ts';
import { seal } from '../../../src/auth/seal.ts';
import type { Session } from '../../../src/auth/session.ts';
import { openMemoryState } from '../../../src/state/index.ts';
import { NOW, NOW_S, testKeys } from './fixtures.ts';

const keys = testKeys('handoff');
const HOST = 'app.example.com';
const ORIGIN = 'https://app.example.com';
const BINDING = 'b'.repeat(43);
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

const usedMap = (): UsedHandoffs => openMemoryState({ now: () => NOW }).map('used-handoffs', { maxEntries: 1000, parse: parseUsedHandoff });
const at = (origin = ORIGIN, holds: (binding: string) => boolean = (binding) => binding === BINDING): HandoffPlace => ({ origin, host: new URL(origin).hostname, holds });

function handoff(returnTo = `${ORIGIN}/dashboard?x=1`, binding = BINDING, k = keys): string {
  return createHandoff(k, { session, returnTo, binding }, NOW);
}

describe('handoff tokens', () => {
  it('carry the session to the origin they name, once', () => {
    const token = handoff();
    expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(consumeHandoff(keys, token, at(), usedMap(), NOW + 1_000)).toEqual({
      ok: true,
      session: { ...session, host: HOST },
      returnTo: 'https://app.example.com/dashboard?x=1',
    });
  });

  it('are refused the second time (replay)', () => {
    const used = usedMap();
    const token = handoff();
    expect(consumeHandoff(keys, token, at(), used, NOW).ok).toBe(true);
    expect(consumeHandoff(keys, token, at(), used, NOW + 1)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('are refused on another host, and that attempt does not use them up', () => {
    const used = usedMap();
    const token = handoff();
    expect(consumeHandoff(keys, token, at('https://evil.example.com'), used, NOW)).toEqual({ ok: false, reason: 'wrong_host' });
    expect(consumeHandoff(keys, token, { ...at(), host: 'APP.example.com' }, used, NOW)).toEqual({ ok: false, reason: 'wrong_host' });
    expect(consumeHandoff(keys, token, at(), used, NOW).ok).toBe(true);
  });

  it.each([
    ['another port', 'https://app.example.com:8443'],
    ['another scheme', 'http://app.example.com'],
    ['the default port spelled out differently', 'http://app.example.com:443'],
  ])('are refused at %s of the same host name, without being used up', (_label, origin) => {
    const used = usedMap();
    const token = handoff();
    expect(consumeHandoff(keys, token, at(origin), used, NOW)).toEqual({ ok: false, reason: 'wrong_origin' });
    expect(consumeHandoff(keys, token, at(), used, NOW).ok).toBe(true);
  });

  it('keep a port in the origin they were made for', () => {
    const token = handoff('http://app.example.com:8080/x');
    expect(consumeHandoff(keys, token, at('http://app.example.com'), usedMap(), NOW)).toEqual({ ok: false, reason: 'wrong_origin' });
    expect(consumeHandoff(keys, token, at('http://app.example.com:8080'), usedMap(), NOW).ok).toBe(true);
  });

  it('are refused in a browser that does not hold the binding, without being used up', () => {
    const used = usedMap();
    const token = handoff();
    expect(consumeHandoff(keys, token, at(ORIGIN, () => false), used, NOW)).toEqual({ ok: false, reason: 'other_browser' });
    const asked: string[] = [];
    expect(consumeHandoff(keys, token, at(ORIGIN, (binding) => (asked.push(binding), binding === BINDING)), used, NOW).ok).toBe(true);
    expect(asked).toEqual([BINDING]);
  });

  it(`expire after ${HANDOFF_LIFETIME_SECONDS} seconds`, () => {
    const token = handoff();
    expect(consumeHandoff(keys, token, at(), usedMap(), NOW + HANDOFF_LIFETIME_SECONDS * 1000)).toEqual({ ok: false, reason: 'expired' });
    const fresh = handoff();
    expect(consumeHandoff(keys, fresh, at(), usedMap(), NOW + HANDOFF_LIFETIME_SECONDS * 1000 - 1).ok).toBe(true);
  });

  it('are invalid when tampered with, truncated, or sealed with another key or purpose', () => {
    const token = handoff();
    const tampered = token.slice(0, 30) + (token[30] === 'A' ? 'B' : 'A') + token.slice(31);
    expect(consumeHandoff(keys, tampered, at(), usedMap(), NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(consumeHandoff(keys, token.slice(0, -2), at(), usedMap(), NOW)).toEqual({ ok: false, reason: 'invalid' });
    const foreign = handoff(`${ORIGIN}/`, BINDING, testKeys('handoff'));
    expect(consumeHandoff(keys, foreign, at(), usedMap(), NOW)).toEqual({ ok: false, reason: 'invalid' });
    const sessionPurpose = handoff(`${ORIGIN}/`, BINDING, testKeys('session'));
    expect(consumeHandoff(keys, sessionPurpose, at(), usedMap(), NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(consumeHandoff(keys, '', at(), usedMap(), NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('are invalid when the sealed payload is not a handoff', () => {
    const notHandoff = seal(keys, { exp: NOW_S + 60, host: HOST }, NOW);
    expect(consumeHandoff(keys, notHandoff, at(), usedMap(), NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('each token is unique, so two sign-ins to one host both work', () => {
    const used = usedMap();
    const one = handoff();
    const two = handoff();
    expect(one).not.toBe(two);
    expect(consumeHandoff(keys, one, at(), used, NOW).ok).toBe(true);
    expect(consumeHandoff(keys, two, at(), used, NOW).ok).toBe(true);
  });

  it('remember a used id until the token expires, then let it go', () => {
    const used = usedMap();
    expect(consumeHandoff(keys, handoff(), at(), used, NOW).ok).toBe(true);
    expect(used.size).toBe(1);
    expect([...used.entries()].map(([, value]) => value)).toEqual([1]);
  });
});
