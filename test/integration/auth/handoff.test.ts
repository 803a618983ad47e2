import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../../src/auth/session.ts';
import { http } from '../../helpers/http.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { logsWith, mintHandoff, startAuthStack, type AuthStack } from './support.ts';

/** The one-time token that carries a sign-in from the sign-in host to one route host. */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const APP = 'app.handoff.gh.localhost';
const OTHER = 'other.handoff.gh.localhost';

let stack: AuthStack;

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice],
    routes: [
      { from: `http://${APP}`, allow: '*' },
      { from: `http://${OTHER}`, allow: '*' },
    ],
  });
});

afterAll(async () => {
  await stack?.close();
});

/** Signs in up to the route host's callback and returns its URL, unused, with the browser's Cookie header for it. */
async function handoff(target: string, jar = new CookieJar()): Promise<{ url: URL; cookie: string }> {
  const result = await signInViaHttp(target, alice.email, alice.password, jar, { stopAt: (url) => url.pathname === '/.iap/callback' });
  expect(result.url.pathname).toBe('/.iap/callback');
  return { url: result.url, cookie: jar.header(result.url) ?? '' };
}

async function handoffUrl(target: string): Promise<URL> {
  return (await handoff(target)).url;
}

function sessionCookiesIn(response: Response): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith('gatehouse_session') && !/Max-Age=0/.test(cookie));
}

describe('sign-in handoff', () => {
  it('sets the session once, then refuses the same token (replay)', async () => {
    const { url, cookie } = await handoff(`http://${APP}:${stack.port}/start`);
    const first = await loopbackFetch(url, { headers: { accept: 'text/html', cookie } });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe(`http://${APP}:${stack.port}/start`);
    expect(sessionCookiesIn(first)).toHaveLength(1);

    const replay = await loopbackFetch(url, { headers: { accept: 'text/html', cookie } });
    expect(replay.status).toBe(400);
    expect(sessionCookiesIn(replay)).toEqual([]);
    expect(await replay.text()).toContain('This sign-in link cannot be used');
    expect(logsWith(stack.gh, 'sign-in handoff refused').at(-1)).toMatchObject({ reason: 'replayed', host: APP });
  });

  it('refuses a token made for another host', async () => {
    const { url, cookie } = await handoff(`http://${APP}:${stack.port}/`);
    const elsewhere = new URL(url);
    elsewhere.hostname = OTHER;
    const response = await loopbackFetch(elsewhere, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(sessionCookiesIn(response)).toEqual([]);
    expect(logsWith(stack.gh, 'sign-in handoff refused').at(-1)).toMatchObject({ reason: 'wrong_host', host: OTHER });
    // The token is still good where it belongs.
    const home = await loopbackFetch(url, { headers: { accept: 'text/html', cookie } });
    expect(home.status).toBe(302);
  });

  it('refuses a token presented under another origin of the same host name, without using it up', async () => {
    const { url, cookie } = await handoff(`http://${APP}:${stack.port}/`);
    const path = `${url.pathname}${url.search}`;
    // The same listener, addressed as another port: the origin the browser sees is not the token's.
    const elsewhere = await http(stack.port, `${APP}:${stack.port + 1}`, path, { headers: { accept: 'text/html', cookie } });
    expect(elsewhere.status).toBe(400);
    expect(logsWith(stack.gh, 'sign-in handoff refused').at(-1)).toMatchObject({ reason: 'wrong_origin', host: APP });
    const home = await loopbackFetch(url, { headers: { accept: 'text/html', cookie } });
    expect(home.status).toBe(302);
  });

  it('refuses a token in a browser without the nonce of the sign-in it belongs to, without using it up', async () => {
    const { url, cookie } = await handoff(`http://${APP}:${stack.port}/`);
    const without = await loopbackFetch(url, { headers: { accept: 'text/html' } });
    expect(without.status).toBe(400);
    expect(logsWith(stack.gh, 'sign-in handoff refused').at(-1)).toMatchObject({ reason: 'other_browser' });
    const other = await handoff(`http://${APP}:${stack.port}/`);
    const swapped = await loopbackFetch(url, { headers: { accept: 'text/html', cookie: other.cookie } });
    expect(swapped.status).toBe(400);
    const home = await loopbackFetch(url, { headers: { accept: 'text/html', cookie } });
    expect(home.status).toBe(302);
    expect(home.headers.getSetCookie().some((c) => c.startsWith('gatehouse_bind=;') && /Max-Age=0/.test(c))).toBe(true);
  });

  it.each([
    ['a missing token', () => '/.iap/callback'],
    ['an empty token', () => '/.iap/callback?token='],
    ['a tampered token', (token: string) => `/.iap/callback?token=${encodeURIComponent(token.slice(0, -3) + (token.endsWith('A') ? 'BBB' : 'AAA'))}`],
    ['a truncated token', (token: string) => `/.iap/callback?token=${encodeURIComponent(token.slice(0, 40))}`],
    ['garbage', () => `/.iap/callback?token=${'x'.repeat(10_000)}`],
  ])('refuses %s with a 400 page, never a 500', async (_label, pathFor) => {
    const url = await handoffUrl(`http://${APP}:${stack.port}/`);
    const token = url.searchParams.get('token')!;
    const response = await loopbackFetch(`http://${APP}:${stack.port}${pathFor(token)}`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(sessionCookiesIn(response)).toEqual([]);
  });

  it('refuses an expired token', async () => {
    const now = Date.now();
    const session = createSession({ sub: 'u-alice', email: alice.email, emailVerified: true, name: 'Alice', groups: [], claims: {}, host: APP }, { now, ttlMs: 3_600_000 });
    const { host: _host, ...handed } = session;
    const minted = mintHandoff(stack, { session: handed, returnTo: `http://${APP}:${stack.port}/`, now: now - 120_000 });
    const response = await loopbackFetch(minted.url, { headers: { accept: 'text/html', cookie: minted.cookie } });
    expect(response.status).toBe(400);
    expect(logsWith(stack.gh, 'sign-in handoff refused').at(-1)).toMatchObject({ reason: 'expired' });
  });

  it('refuses a token sealed with another secret', async () => {
    const now = Date.now();
    const { derivePurposeKeys } = await import('../../../src/auth/keys.ts');
    const foreign = derivePurposeKeys([Buffer.alloc(32, 7)], 'handoff');
    const session = createSession({ sub: 'u-mallory', email: 'mallory@example.test', emailVerified: true, name: null, groups: [], claims: {}, host: APP }, { now, ttlMs: 3_600_000 });
    const { host: _host, ...handed } = session;
    const minted = mintHandoff({ keys: () => foreign }, { session: handed, returnTo: `http://${APP}:${stack.port}/` });
    const response = await loopbackFetch(minted.url, { headers: { accept: 'text/html', cookie: minted.cookie } });
    expect(response.status).toBe(400);
  });

  it('never sends the browser to a return URL on another origin, even from a valid token', async () => {
    const now = Date.now();
    const session = createSession({ sub: 'u-alice', email: alice.email, emailVerified: true, name: 'Alice', groups: [], claims: {}, host: APP }, { now, ttlMs: 3_600_000 });
    const { host: _host, ...handed } = session;
    // A token for this origin whose return URL was changed to another one (as a bug elsewhere might).
    const minted = mintHandoff(stack, { session: handed, returnTo: `http://${APP}:${stack.port}/` });
    const other = mintHandoff(stack, { session: handed, returnTo: 'https://evil.example/' });
    const response = await loopbackFetch(`http://${APP}:${stack.port}${new URL(other.url).pathname}${new URL(other.url).search}`, { headers: { accept: 'text/html', cookie: other.cookie } });
    expect(response.status).toBe(400);
    expect(logsWith(stack.gh, 'sign-in handoff refused').at(-1)).toMatchObject({ reason: 'wrong_host' });
    const good = await loopbackFetch(minted.url, { headers: { accept: 'text/html', cookie: minted.cookie } });
    expect(good.status).toBe(302);
    expect(good.headers.get('location')).toBe(`http://${APP}:${stack.port}/`);
  });
});
