import { describe, expect, it } from 'vitest';
import { openAppPasswords, type AppPasswordOwner } from '../../../src/auth/app-passwords.ts';
import { createCredentialThrottle, type FailureCount } from '../../../src/auth/credential-throttle.ts';
import { identifyByCredentials, readAuthorization } from '../../../src/auth/request-credentials.ts';
import { openUserSessions, type SessionInfo } from '../../../src/auth/user-sessions.ts';
import { openMemoryState } from '../../../src/state/index.ts';
import { hashPassword } from '../../../src/util/phc.ts';

const CHEAP = { memoryKiB: 1024, passes: 1, parallelism: 1 };
const OWNER: AppPasswordOwner = { sub: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice', groups: ['devs'], claims: {}, builtin: true };

function passwords(now = () => 1_000_000) {
  const state = openMemoryState({ now });
  const store = openAppPasswords({
    store: state.map('app-passwords', { maxEntries: 100, parse: (value) => value as never }),
    now,
    hash: (secret) => hashPassword(secret, CHEAP),
  });
  return { store, state };
}

describe('app passwords', () => {
  it('verifies the secret shown once, lists without hashes, and refuses other text', async () => {
    const { store } = passwords();
    const { id, secret } = await store.create(OWNER, 'git', ['git.example.com']);
    expect(secret).toMatch(new RegExp(`^gh_${id}_[a-z2-7]{32}$`));
    expect((await store.verify(secret))?.owner.sub).toBe('alice');
    expect(await store.verify(`${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`)).toBeNull();
    expect(await store.verify(`gh_${'a'.repeat(10)}_${'a'.repeat(32)}`)).toBeNull();
    expect(await store.verify('hunter2')).toBeNull();
    expect(store.list('alice')).toEqual([{ id, name: 'git', hosts: ['git.example.com'], created: 1_000_000 }]);
    expect(JSON.stringify(store.list('alice'))).not.toContain('argon2');
    expect(store.list('bob')).toEqual([]);
  });

  it('stores only an argon2id hash', async () => {
    const { store, state } = passwords();
    const { id, secret } = await store.create(OWNER, 'x', []);
    const stored = state.map<{ hash: string }>('app-passwords', { maxEntries: 100, parse: (value) => value as never }).get(id);
    expect(stored?.hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(JSON.stringify(stored)).not.toContain(secret.split('_')[2]);
  });

  it('remembers a verified secret briefly, and forgets it at once when revoked', async () => {
    let now = 1_000_000;
    const { store, state } = passwords(() => now);
    const map = state.map<{ hash: string }>('app-passwords', { maxEntries: 100, parse: (value) => value as never });
    const { id, secret } = await store.create(OWNER, 'git', []);
    expect(await store.verify(secret)).not.toBeNull();
    // The stored hash no longer matches: only the remembered check can still say yes.
    map.set(id, { ...map.get(id)!, hash: await hashPassword('something else', CHEAP) }, Date.UTC(9999, 0, 1));
    expect(await store.verify(secret)).not.toBeNull();
    now += 61_000;
    expect(await store.verify(secret)).toBeNull();

    const second = await store.create(OWNER, 'webdav', []);
    expect(await store.verify(second.secret)).not.toBeNull();
    expect(store.revoke('bob', second.id)).toBe(false);
    expect(store.revoke('alice', second.id)).toBe(true);
    expect(await store.verify(second.secret)).toBeNull();
  });
});

describe('readAuthorization', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  it.each([
    [`Basic ${b64('alice:pa:ss')}`, { scheme: 'basic', username: 'alice', password: 'pa:ss' }],
    [`basic ${b64('alice:')}`, { scheme: 'basic', username: 'alice', password: '' }],
    [`Basic ${b64('no-colon')}`, { scheme: 'basic', malformed: true }],
    ['Basic !!!', { scheme: 'basic', malformed: true }],
    ['Bearer abc.def.ghi', { scheme: 'bearer', token: 'abc.def.ghi' }],
    ['Bearer a b', { scheme: 'bearer', malformed: true }],
    ['Bearer', { scheme: 'bearer', malformed: true }],
    ['Digest x', null],
    [undefined, null],
  ])('%s', (header, expected) => {
    expect(readAuthorization(header)).toEqual(expected);
  });
});

describe('credential throttle', () => {
  it('locks an address after its limit and an account after its own, until the window ends', () => {
    let now = 0;
    const state = openMemoryState({ now: () => now });
    const throttle = createCredentialThrottle({ store: state.map<FailureCount>('f', { maxEntries: 100, parse: (value) => value as never }), now: () => now, maxPerAddress: 3, maxPerAccount: 2, windowMs: 1000 });
    throttle.failure('10.0.0.1', 'Alice');
    expect(throttle.status('10.0.0.1', 'alice')).toEqual({ locked: false });
    throttle.failure('10.0.0.2', 'alice');
    // The account is locked from every address, whatever the case of the name.
    expect(throttle.status('10.0.0.3', 'ALICE')).toEqual({ locked: true, retryAfterMs: 1000 });
    expect(throttle.status('10.0.0.3', 'bob')).toEqual({ locked: false });
    throttle.failure('10.0.0.1', null);
    throttle.failure('10.0.0.1', null);
    expect(throttle.status('10.0.0.1', null).locked).toBe(true);
    now = 1001;
    expect(throttle.status('10.0.0.1', 'alice')).toEqual({ locked: false });
  });
});

describe('user sessions', () => {
  it('lists a user\'s sessions and cuts every earlier one on "sign out everywhere"', () => {
    let now = 100_000;
    const state = openMemoryState({ now: () => now });
    const sessions = openUserSessions({
      sessions: state.map<SessionInfo>('s', { maxEntries: 100, parse: (value) => value as never }),
      cuts: state.map<number>('c', { maxEntries: 100, parse: (value) => value as never }),
      sessionTtlMs: 3_600_000,
      now: () => now,
    });
    const session = (sid: string, sub: string, iat: number) => ({ sid, sub, iat, exp: iat + 3600, email: null, emailVerified: null, name: null, groups: [], claims: {}, host: 'auth' });
    sessions.record(session('a', 'alice', 90), { ip: '10.0.0.1', agent: 'x' });
    sessions.record(session('b', 'alice', 95), { ip: '10.0.0.2', agent: 'y' });
    sessions.record(session('c', 'bob', 95), { ip: '10.0.0.3', agent: 'z' });
    expect(sessions.list('alice', () => false).map((info) => info.sid)).toEqual(['b', 'a']);
    expect(sessions.list('alice', (sid) => sid === 'b').map((info) => info.sid)).toEqual(['a']);
    expect(sessions.isCut({ sub: 'alice', iat: 90 })).toBe(false);

    expect(sessions.signOutEverywhere('alice').map((info) => info.sid).sort()).toEqual(['a', 'b']);
    expect(sessions.isCut({ sub: 'alice', iat: 99 })).toBe(true);
    // Bob, and sessions made after the click, are untouched.
    expect(sessions.isCut({ sub: 'bob', iat: 95 })).toBe(false);
    now = 101_000;
    expect(sessions.isCut({ sub: 'alice', iat: 101 })).toBe(false);
    expect(sessions.list('alice', () => false)).toEqual([]);
  });
});

describe('identifyByCredentials', () => {
  const silent = { warn: () => undefined, info: () => undefined } as unknown as Parameters<typeof identifyByCredentials>[0]['logger'];
  const route = (basicAuth: boolean, bearer = false) => ({ basicAuth, bearer }) as unknown as Parameters<typeof identifyByCredentials>[2];
  const request = (authorization: string, host = 'git.example.com') =>
    ({ headers: { authorization }, remoteAddress: '10.0.0.9', host, requestId: 'r' }) as unknown as Parameters<typeof identifyByCredentials>[1];
  const basicHeader = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

  async function setup(users: Record<string, { email: string } | null>) {
    const now = () => 1_000_000;
    const state = openMemoryState({ now });
    const { store } = passwords(now);
    const services = {
      appPasswords: store,
      throttle: createCredentialThrottle({ store: state.map<FailureCount>('f', { maxEntries: 100, parse: (value) => value as never }), now, maxPerAddress: 3 }),
      bearerJwt: null,
      builtinUser: (name: string) => {
        const user = users[name];
        return user === undefined || user === null ? null : { sub: name, email: user.email, emailVerified: true, name, groups: ['devs'], claims: {} };
      },
      logger: silent,
    };
    return { services, store };
  }

  it("follows the built-in user as the users file has them now, and refuses a later user of the same name", async () => {
    const users: Record<string, { email: string } | null> = { alice: { email: 'alice@example.com' } };
    const { services, store } = await setup(users);
    const { secret } = await store.create(OWNER, 'git', []);
    const ok = await identifyByCredentials(services, request(basicHeader('Alice@Example.com', secret)), route(true));
    expect(ok).toMatchObject({ kind: 'ok', identity: { sub: 'alice', via: 'app_password', groups: ['devs'] } });
    users['alice'] = { email: 'someone-else@example.com' };
    expect((await identifyByCredentials(services, request(basicHeader('alice', secret)), route(true))).kind).toBe('refused');
    users['alice'] = null;
    expect((await identifyByCredentials(services, request(basicHeader('alice', secret)), route(true))).kind).toBe('refused');
  });

  it('counts only on routes that take the scheme, and stops checking once locked', async () => {
    const { services, store } = await setup({ alice: { email: 'alice@example.com' } });
    const { secret } = await store.create(OWNER, 'git', ['git.example.com']);
    expect(await identifyByCredentials(services, request(basicHeader('alice', secret)), route(false, true))).toEqual({ kind: 'none' });
    expect((await identifyByCredentials(services, request(`Bearer ${secret}`), route(false, true))).kind).toBe('ok');
    expect((await identifyByCredentials(services, request(basicHeader('alice', secret), 'dav.example.com'), route(true))).kind).toBe('refused');
    expect((await identifyByCredentials(services, request('Bearer not-a-jwt'), route(false, true))).kind).toBe('refused');
    await identifyByCredentials(services, request(basicHeader('alice', 'wrong')), route(true));
    const locked = await identifyByCredentials(services, request(basicHeader('alice', secret)), route(true));
    expect(locked).toMatchObject({ kind: 'refused', scheme: 'basic' });
    expect((locked as { retryAfterMs: number | null }).retryAfterMs).toBeGreaterThan(0);
  });
});
