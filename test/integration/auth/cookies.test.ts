import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePurposeKeys } from '../../../src/auth/keys.ts';
import { seal } from '../../../src/auth/seal.ts';
import { createSession, sessionCookies } from '../../../src/auth/session.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { mintHandoff, startAuthStack, type AuthStack } from './support.ts';

/** Session cookies: what a broken or hostile cookie does (never a 500), and what upstreams see. */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const APP = 'app.cookies.gh.localhost';
const OTHER = 'other.cookies.gh.localhost';
const PUBLIC = 'public.cookies.gh.localhost';
const SECURE = 'secure.cookies.gh.localhost';

let stack: AuthStack;
let jar: CookieJar;
let appCookie: string;

const html = { accept: 'text/html' };

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice],
    routes: [
      { from: `http://${APP}`, allow: '*' },
      { from: `http://${OTHER}`, allow: 'group:admins' },
      { from: `http://${PUBLIC}`, public: 'true' },
      { from: `https://${SECURE}`, allow: '*' },
    ],
  });
  jar = new CookieJar();
  const result = await signInViaHttp(stack.url(APP, '/'), alice.email, alice.password, jar);
  expect(result.response.status).toBe(200);
  appCookie = `gatehouse_session=${jar.get('gatehouse_session', new URL(stack.url(APP)))!.value}`;
});

afterAll(async () => {
  await stack?.close();
});

function lastUpstreamRequest() {
  const request = stack.upstream.received.at(-1);
  expect(request).toBeDefined();
  return request!;
}

async function expectSignedOut(cookie: string): Promise<void> {
  const navigation = await loopbackFetch(stack.url(APP, '/page'), { headers: { ...html, cookie } });
  expect(navigation.status).toBe(302);
  expect(navigation.headers.get('location')).toMatch(/\/\.iap\/start\?rd=/);
  const api = await loopbackFetch(stack.url(APP, '/api'), { headers: { accept: 'application/json', cookie } });
  expect(api.status).toBe(401);
}

function sealedSession(keys = stack.keys('session'), options: { host?: string; issuedAt?: number; ttlMs?: number; groups?: string[] } = {}): string {
  const issuedAt = options.issuedAt ?? Date.now();
  const session = createSession(
    { sub: 'u-mallory', email: 'mallory@example.test', emailVerified: true, name: 'Mallory', groups: options.groups ?? [], claims: {}, host: options.host ?? APP },
    { now: issuedAt, ttlMs: options.ttlMs ?? 3_600_000 },
  );
  return seal(keys, session, issuedAt);
}

describe('broken and hostile session cookies mean "not signed in", never a 500', () => {
  it('accepts the real cookie (control)', async () => {
    const response = await loopbackFetch(stack.url(APP, '/control'), { headers: { accept: 'application/json', cookie: appCookie } });
    expect(response.status).toBe(200);
  });

  it.each([
    ['a flipped character', (value: string) => value.slice(0, 30) + (value[30] === 'A' ? 'B' : 'A') + value.slice(31)],
    ['a truncated value', (value: string) => value.slice(0, value.length - 10)],
    ['an appended character', (value: string) => `${value}A`],
    ['an empty value', () => ''],
    ['random text', () => 'not-a-sealed-token'],
    ['a JWE-looking value', () => 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIn0..aaaa.bbbb.cccc'],
    ['a wrong version', (value: string) => value.replace(/^v1\./, 'v2.')],
  ])('%s', async (_label, change) => {
    const value = appCookie.slice('gatehouse_session='.length);
    await expectSignedOut(`gatehouse_session=${change(value)}`);
  });

  it('an expired session (valid seal, past exp)', async () => {
    await expectSignedOut(`gatehouse_session=${sealedSession(undefined, { issuedAt: Date.now() - 7_200_000, ttlMs: 3_600_000 })}`);
  });

  it('a session sealed with another secret', async () => {
    await expectSignedOut(`gatehouse_session=${sealedSession(derivePurposeKeys([Buffer.alloc(32, 9)], 'session'))}`);
  });

  it('a session sealed with the right secret for another purpose', async () => {
    await expectSignedOut(`gatehouse_session=${sealedSession(stack.keys('flow'))}`);
  });

  it('a valid session of another host, copied over', async () => {
    await expectSignedOut(`gatehouse_session=${sealedSession(undefined, { host: OTHER })}`);
    const copied = await loopbackFetch(stack.url(OTHER, '/'), { headers: { accept: 'application/json', cookie: appCookie } });
    expect(copied.status).toBe(401);
  });

  it('oversized cookies: eight garbage chunks and a 12 KB value', async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => `gatehouse_session.${i}=${'A'.repeat(1_400)}`).join('; ');
    await expectSignedOut(chunks);
    await expectSignedOut(`gatehouse_session=${'B'.repeat(12_000)}`);
    await expectSignedOut(`gatehouse_session.0=${'C'.repeat(3_500)}; gatehouse_session.2=${'D'.repeat(3_500)}`);
  });

  it('a Cookie header too large for any server is refused cleanly', async () => {
    const response = await loopbackFetch(stack.url(APP, '/'), { headers: { ...html, cookie: `gatehouse_session=${'E'.repeat(70_000)}` } });
    expect(response.status).toBe(431);
  });

  it('a forged but well-formed session with a mismatched chunk set', async () => {
    const sealed = sealedSession();
    await expectSignedOut(`gatehouse_session.0=${sealed.slice(0, 20)}; gatehouse_session.1=${sealed.slice(25)}`);
  });
});

describe('Gatehouse cookies never reach the upstream', () => {
  it('strips the session cookie and keeps every other cookie byte for byte, in order', async () => {
    const cookie = `theme=dark; ${appCookie}; sid=app-own-session; gatehouse_flow_abcdef12=x; gatehouse_loop=y; Pref="a b"`;
    const response = await loopbackFetch(stack.url(APP, '/cookies'), { headers: { accept: 'application/json', cookie } });
    expect(response.status).toBe(200);
    const seen = lastUpstreamRequest();
    expect(seen.headers.cookie).toBe('theme=dark; sid=app-own-session; Pref="a b"');
    expect(seen.rawHeaders.join('\n')).not.toContain('gatehouse_');
  });

  it('removes the Cookie header entirely when only Gatehouse cookies were sent', async () => {
    await loopbackFetch(stack.url(APP, '/only-ours'), { headers: { accept: 'application/json', cookie: appCookie } });
    const seen = lastUpstreamRequest();
    expect(seen.url).toBe('/only-ours');
    expect(seen.headers.cookie).toBeUndefined();
  });

  it('strips them on public routes too', async () => {
    await loopbackFetch(stack.url(PUBLIC, '/p'), { headers: { accept: 'application/json', cookie: `a=1; gatehouse_session=zzz; __Host-gatehouse_session.0=yyy` } });
    const seen = lastUpstreamRequest();
    expect(seen.url).toBe('/p');
    expect(seen.headers.cookie).toBe('a=1');
  });
});

describe('session fixation', () => {
  it('a sign-in through the provider issues a new session, whatever the browser carried before', async () => {
    const authUrl = new URL(stack.authUrl);
    const planted = sealedSession(undefined, { host: authUrl.hostname, issuedAt: Date.now() - 7_200_000, ttlMs: 3_600_000 });
    const fresh = new CookieJar();
    fresh.store(authUrl, [`gatehouse_session=${planted}; Path=/`]);
    fresh.store(new URL(stack.url(APP)), [`gatehouse_session=${'F'.repeat(200)}; Path=/`]);
    const result = await signInViaHttp(stack.url(APP, '/'), alice.email, alice.password, fresh);
    expect(result.submittedLogin).toBe(true);
    expect(result.response.status).toBe(200);
    expect(fresh.get('gatehouse_session', authUrl)?.value).not.toBe(planted);
    expect(fresh.get('gatehouse_session', new URL(stack.url(APP)))?.value).not.toBe('F'.repeat(200));
    const me = await loopbackFetch(stack.url(APP, '/.iap/user'), { headers: { cookie: fresh.header(new URL(stack.url(APP)))! } });
    expect(await me.json()).toMatchObject({ sub: 'u-alice' });
  });
});

describe('cookies on an https route', () => {
  it('sends the browser to sign in with the https URL it uses', async () => {
    const response = await loopbackFetch(stack.url(SECURE, '/x?y=1'), { headers: html });
    expect(response.status).toBe(302);
    const rd = new URL(response.headers.get('location')!).searchParams.get('rd');
    expect(rd).toBe(`https://${SECURE}:${stack.port}/x?y=1`);
    // The loop counter works over http too, whatever the route says.
    expect(response.headers.getSetCookie().find((c) => c.startsWith('gatehouse_loop='))).not.toMatch(/Secure/);
  });

  it('sets a __Host- session cookie with Secure', async () => {
    const now = Date.now();
    const session = createSession({ sub: 'u-alice', email: alice.email, emailVerified: true, name: 'Alice', groups: [], claims: {}, host: SECURE }, { now, ttlMs: 3_600_000 });
    const { host: _host, ...handed } = session;
    const minted = mintHandoff(stack, { session: handed, returnTo: `https://${SECURE}:${stack.port}/`, secure: true });
    const callback = new URL(minted.url);
    const response = await loopbackFetch(stack.url(SECURE, `${callback.pathname}${callback.search}`), { headers: { ...html, cookie: minted.cookie } });
    expect(response.status).toBe(302);
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-gatehouse_session=v1\.[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
    const value = cookie!.split(';')[0]!;
    const api = await loopbackFetch(stack.url(SECURE, '/api'), { headers: { accept: 'application/json', cookie: value } });
    expect(api.status).toBe(200);
    // The plain name means nothing on an https route.
    const plain = await loopbackFetch(stack.url(SECURE, '/api'), { headers: { accept: 'application/json', cookie: value.replace('__Host-', '') } });
    expect(plain.status).toBe(401);
  });
});
