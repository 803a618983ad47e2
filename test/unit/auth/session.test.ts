import { describe, expect, it } from 'vitest';
import {
  CHUNK_SIZE,
  clearSessionCookies,
  createSession,
  MAX_CHUNKS,
  readSession,
  sessionCookies,
  type Session,
} from '../../../src/auth/session.ts';
import { NOW, NOW_S, testKeys } from './fixtures.ts';

const keys = testKeys('session');
const HOST = 'app.example.com';

function session(overrides: Partial<Session> = {}): Session {
  return {
    sid: 'sid-1',
    sub: 'user-1',
    email: 'alice@corp.com',
    emailVerified: true,
    name: 'Alice',
    groups: ['admins'],
    claims: { dept: 'eng' },
    iat: NOW_S,
    exp: NOW_S + 3600,
    host: HOST,
    ...overrides,
  };
}

/** What a browser would send back for these Set-Cookie values. */
function cookieHeader(setCookies: readonly string[], others: string[] = []): string {
  return [...others, ...setCookies.map((c) => c.slice(0, c.indexOf(';')))].join('; ');
}

function cookies(s: Session, secure = true, existing?: string): string[] {
  const result = sessionCookies(s, { secure, keys, now: NOW, existing });
  if (!Array.isArray(result)) throw new Error('unexpected too_large');
  return result;
}

describe('sessionCookies', () => {
  it('https: one __Host- cookie, HttpOnly, SameSite=Lax, Path=/, Secure, no Domain, Max-Age from exp', () => {
    const [cookie, ...rest] = cookies(session());
    expect(rest).toEqual([]);
    expect(cookie).toMatch(/^__Host-gatehouse_session=v1\.[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookie).not.toMatch(/domain=/i);
  });

  it('http: the plain name and no Secure', () => {
    const [cookie] = cookies(session(), false);
    expect(cookie).toMatch(/^gatehouse_session=v1\.[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
  });

  it('round-trips through readSession', () => {
    const s = session();
    expect(readSession(cookieHeader(cookies(s)), { secure: true, keys, now: NOW, host: HOST })).toEqual(s);
    expect(readSession(cookieHeader(cookies(s, false)), { secure: false, keys, now: NOW, host: HOST })).toEqual(s);
  });

  it('splits a large session into numbered chunks that reassemble', () => {
    const s = session({ groups: Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`) });
    const set = cookies(s);
    expect(set.length).toBeGreaterThan(1);
    set.forEach((cookie, i) => {
      expect(cookie.startsWith(`__Host-gatehouse_session.${i}=`)).toBe(true);
      const value = cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf(';'));
      expect(value.length).toBeLessThanOrEqual(CHUNK_SIZE);
      expect(Buffer.byteLength(cookie)).toBeLessThan(4096);
    });
    expect(readSession(cookieHeader(set, ['app=1']), { secure: true, keys, now: NOW, host: HOST })).toEqual(s);
    // Chunks in any order in the header still reassemble by index.
    expect(readSession(cookieHeader([...set].reverse()), { secure: true, keys, now: NOW, host: HOST })).toEqual(s);
  });

  it('a missing chunk makes the session unreadable', () => {
    const set = cookies(session({ groups: Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`) }));
    expect(readSession(cookieHeader(set.slice(1)), { secure: true, keys, now: NOW, host: HOST })).toBeNull();
    expect(readSession(cookieHeader(set.slice(0, -1)), { secure: true, keys, now: NOW, host: HOST })).toBeNull();
  });

  it(`refuses more than ${MAX_CHUNKS} chunks with too_large`, () => {
    const huge = session({ groups: Array.from({ length: 1000 }, (_, i) => `group-with-a-rather-long-name-${i}`) });
    expect(sessionCookies(huge, { secure: true, keys, now: NOW })).toEqual({ error: 'too_large' });
  });

  it('expires leftover chunks of an earlier, larger session', () => {
    const big = cookies(session({ groups: Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`) }));
    const set = cookies(session(), true, cookieHeader(big, ['app=1']));
    expect(set[0]).toMatch(/^__Host-gatehouse_session=v1\./);
    const expired = set.slice(1).map((c) => c.slice(0, c.indexOf('=')));
    expect(expired).toEqual(big.map((c) => c.slice(0, c.indexOf('='))));
    for (const cookie of set.slice(1)) expect(cookie).toContain('Max-Age=0');
  });

  it('expires the single cookie of an earlier session when switching to chunks', () => {
    const small = cookies(session());
    const set = cookies(session({ groups: Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`) }), true, cookieHeader(small));
    expect(set.at(-1)).toMatch(/^__Host-gatehouse_session=; .*Max-Age=0/);
  });
});

describe('readSession', () => {
  const read = (header: string | undefined, overrides: Partial<{ now: number; host: string; secure: boolean }> = {}) =>
    readSession(header, { secure: true, keys, now: NOW, host: HOST, ...overrides });

  it('is null without cookies', () => {
    expect(read(undefined)).toBeNull();
    expect(read('')).toBeNull();
    expect(read('app=1; other=2')).toBeNull();
  });

  it('rejects a session bound to another host', () => {
    expect(read(cookieHeader(cookies(session({ host: 'other.example.com' }))))).toBeNull();
  });

  it('rejects an expired session even when the cookie is still sent (Max-Age extended)', () => {
    const header = cookieHeader(cookies(session({ exp: NOW_S + 5 })));
    expect(read(header)).not.toBeNull();
    expect(read(header, { now: NOW + 5_000 })).toBeNull();
  });

  it('ignores the cookie of the other scheme', () => {
    expect(read(cookieHeader(cookies(session(), false)))).toBeNull();
  });

  it('rejects a tampered cookie, a cookie from another key and garbage', () => {
    const [cookie] = cookies(session());
    const value = (cookie as string).slice((cookie as string).indexOf('=') + 1, (cookie as string).indexOf(';'));
    const flipped = value.slice(0, -3) + (value.at(-3) === 'A' ? 'B' : 'A') + value.slice(-2);
    expect(read(`__Host-gatehouse_session=${flipped}`)).toBeNull();
    const foreign = sessionCookies(session(), { secure: true, keys: testKeys('session'), now: NOW }) as string[];
    expect(read(cookieHeader(foreign))).toBeNull();
    expect(read('__Host-gatehouse_session=garbage')).toBeNull();
    expect(read('__Host-gatehouse_session.0=garbage; __Host-gatehouse_session.1=more')).toBeNull();
  });

  it('rejects a well-sealed payload that is not a session', async () => {
    const { seal } = await import('../../../src/auth/seal.ts');
    expect(read(`__Host-gatehouse_session=${seal(keys, { exp: NOW_S + 60, sub: 'x', host: HOST }, NOW)}`)).toBeNull();
  });

  it('rejects a sealed flow token presented as a session', async () => {
    const { seal } = await import('../../../src/auth/seal.ts');
    const flowKeys = testKeys('flow');
    expect(read(`__Host-gatehouse_session=${seal(flowKeys, session(), NOW)}`)).toBeNull();
  });

  it('serves repeat reads from the cache, but never past exp and never for another host', () => {
    const s = session({ sid: 'cached', exp: NOW_S + 1 });
    const header = cookieHeader(cookies(s));
    const first = read(header, { now: NOW });
    expect(first).toEqual(s);
    expect(read(header, { now: NOW + 500 })).toBe(first);
    expect(read(header, { now: NOW + 999, host: 'other.example.com' })).toBeNull();
    expect(read(header, { now: NOW + 1_000 })).toBeNull();
  });

  it('returns frozen sessions so a cached one cannot be changed by a caller', () => {
    const got = read(cookieHeader(cookies(session())));
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got?.groups)).toBe(true);
  });
});

describe('clearSessionCookies', () => {
  it('expires the session cookie and every chunk present, leaving other cookies alone', () => {
    const set = cookies(session({ groups: Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`) }));
    const cleared = clearSessionCookies(cookieHeader(set, ['app=1']), true);
    const names = cleared.map((c) => c.slice(0, c.indexOf('=')));
    expect(names.sort()).toEqual(['__Host-gatehouse_session', ...set.map((c) => c.slice(0, c.indexOf('=')))].sort());
    for (const cookie of cleared) expect(cookie).toMatch(/=; Path=\/; Max-Age=0; .*HttpOnly; SameSite=Lax; Secure$/);
  });

  it('always expires the base cookie, with the http name on http', () => {
    expect(clearSessionCookies(undefined, false)).toEqual([
      'gatehouse_session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
    ]);
  });
});

describe('createSession', () => {
  it('issues a random sid, iat/exp in seconds from the TTL, filtered claims', () => {
    const made = createSession(
      {
        sub: 'u',
        email: null,
        emailVerified: null,
        name: null,
        groups: ['g'],
        claims: { dept: 'eng', access_token: 'at', id_token: 'it', refresh_token: 'rt', nonce: 'n', big: 'x'.repeat(5000) },
        host: HOST,
      },
      { now: NOW, ttlMs: 14 * 3_600_000 },
    );
    expect(made.sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(made.iat).toBe(NOW_S);
    expect(made.exp).toBe(NOW_S + 14 * 3600);
    expect(made.claims).toEqual({ dept: 'eng' });
    const { sid, ...fields } = made;
    expect(createSession(fields, { now: NOW, ttlMs: 1000 }).sid).not.toBe(sid);
    expect(createSession({ ...fields, sid }, { now: NOW, ttlMs: 1000 }).sid).toBe(sid);
  });
});
