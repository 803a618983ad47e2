import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsrfToken, createSignOutToken } from '../../../src/auth/tokens.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from './support.ts';

/**
 * Sign-out: a GET only asks; the POST needs the CSRF token of this session and host; signing
 * out on one app revokes the session everywhere and ends the provider session too.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: [], password: 'alice-pw' };
const APP = 'app.signout.gh.localhost';
const OTHER = 'other.signout.gh.localhost';

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

async function signedIn(): Promise<CookieJar> {
  const jar = new CookieJar();
  expect((await signInViaHttp(stack.url(APP, '/'), alice.email, alice.password, jar)).response.status).toBe(200);
  expect((await signInViaHttp(stack.url(OTHER, '/'), alice.email, alice.password, jar)).response.status).toBe(200);
  return jar;
}

function cookieFor(jar: CookieJar, host: string): string {
  return jar.header(new URL(stack.url(host)))!;
}

async function status(host: string, cookie: string): Promise<number> {
  return (await loopbackFetch(stack.url(host, '/api'), { headers: { accept: 'application/json', cookie } })).status;
}

function csrfFrom(page: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  expect(action).toBeDefined();
  return new URL(action!.replaceAll('&amp;', '&'), 'http://x').searchParams.get('csrf')!;
}

describe('sign-out on a route host', () => {
  it('asks for confirmation on GET and changes nothing', async () => {
    const jar = await signedIn();
    const page = await loopbackFetch(stack.url(APP, '/.iap/sign_out'), { headers: { accept: 'text/html', cookie: cookieFor(jar, APP) } });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('Sign out?');
    expect(body).toContain('alice@example.test');
    expect(page.headers.getSetCookie()).toEqual([]);
    expect(await status(APP, cookieFor(jar, APP))).toBe(200);
  });

  it('refuses a POST without the CSRF token, or with one of another session or host', async () => {
    const jar = await signedIn();
    const cookie = cookieFor(jar, APP);
    const post = (query: string) => loopbackFetch(stack.url(APP, `/.iap/sign_out${query}`), { method: 'POST', headers: { accept: 'text/html', cookie } });
    expect((await post('')).status).toBe(403);
    expect((await post('?csrf=garbage')).status).toBe(403);
    const otherSession = createCsrfToken(stack.keys('csrf'), 'some-other-sid', APP, Date.now());
    expect((await post(`?csrf=${encodeURIComponent(otherSession)}`)).status).toBe(403);
    const page = await (await loopbackFetch(stack.url(OTHER, '/.iap/sign_out'), { headers: { accept: 'text/html', cookie: cookieFor(jar, OTHER) } })).text();
    expect((await post(`?csrf=${encodeURIComponent(csrfFrom(page))}`)).status).toBe(403);
    expect(await status(APP, cookie)).toBe(200);
  });

  it('signs out everywhere, clears the cookies and ends the provider session', async () => {
    const jar = await signedIn();
    const appCookie = cookieFor(jar, APP);
    const otherCookie = cookieFor(jar, OTHER);
    const authCookie = jar.header(new URL(stack.authUrl))!;
    const page = await (await loopbackFetch(stack.url(APP, '/.iap/sign_out'), { headers: { accept: 'text/html', cookie: appCookie } })).text();

    const posted = await loopbackFetch(stack.url(APP, `/.iap/sign_out?csrf=${encodeURIComponent(csrfFrom(page))}`), { method: 'POST', headers: { accept: 'text/html', cookie: appCookie } });
    expect(posted.status).toBe(303);
    expect(posted.headers.getSetCookie().some((c) => c.startsWith('gatehouse_session=;') && /Max-Age=0/.test(c))).toBe(true);
    const next = new URL(posted.headers.get('location')!);
    expect(next.origin).toBe(stack.authUrl);
    expect(next.pathname).toBe('/oauth2/sign_out');

    // The sign-in host takes the handed-over sign-out without asking again, and leaves for the provider.
    const atSignIn = await loopbackFetch(next, { headers: { accept: 'text/html', cookie: authCookie } });
    expect(atSignIn.status).toBe(303);
    expect(atSignIn.headers.getSetCookie().some((c) => c.startsWith('gatehouse_session=;'))).toBe(true);
    const endSession = new URL(atSignIn.headers.get('location')!);
    expect(endSession.origin).toBe(stack.op.issuer);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.authUrl}/oauth2/signed_out`);
    expect(endSession.searchParams.get('client_id')).toBe('gatehouse-tests');
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^eyJ/);

    // Every copy of the session is dead, on every host, even if a browser kept the old cookies.
    expect(await status(APP, appCookie)).toBe(401);
    expect(await status(OTHER, otherCookie)).toBe(401);
    const start = await loopbackFetch(`${stack.authUrl}/oauth2/start?rd=${encodeURIComponent(stack.url(APP, '/'))}&bind=${'b'.repeat(43)}`, { headers: { accept: 'text/html', cookie: authCookie } });
    expect(new URL(start.headers.get('location')!).origin).toBe(stack.op.issuer);

  });
});

describe('sign-out on the sign-in host', () => {
  it('asks on GET, ignores a forged hand-over token, and signs out on the POST', async () => {
    const jar = await signedIn();
    const authCookie = jar.header(new URL(stack.authUrl))!;
    const forged = await loopbackFetch(`${stack.authUrl}/oauth2/sign_out?token=v1.00000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAA`, { headers: { accept: 'text/html', cookie: authCookie } });
    expect(forged.status).toBe(200);
    const page = await forged.text();
    expect(page).toContain('Sign out?');
    expect(await status(APP, cookieFor(jar, APP))).toBe(200);

    const posted = await loopbackFetch(`${stack.authUrl}/oauth2/sign_out?csrf=${encodeURIComponent(csrfFrom(page))}`, { method: 'POST', headers: { accept: 'text/html', cookie: authCookie } });
    expect(posted.status).toBe(303);
    expect(new URL(posted.headers.get('location')!).origin).toBe(stack.op.issuer);
    expect(await status(APP, cookieFor(jar, APP))).toBe(401);
    expect(await status(OTHER, cookieFor(jar, OTHER))).toBe(401);
  });

  it('refuses a POST without the CSRF token, or with one of another session or host, and changes nothing', async () => {
    const jar = await signedIn();
    const authCookie = jar.header(new URL(stack.authUrl))!;
    const post = (query: string) => loopbackFetch(`${stack.authUrl}/oauth2/sign_out${query}`, { method: 'POST', headers: { accept: 'text/html', cookie: authCookie } });
    expect((await post('')).status).toBe(403);
    expect((await post('?csrf=garbage')).status).toBe(403);
    const authHost = new URL(stack.authUrl).hostname;
    expect((await post(`?csrf=${encodeURIComponent(createCsrfToken(stack.keys('csrf'), 'some-other-sid', authHost, Date.now()))}`)).status).toBe(403);
    // A route host's own confirmation form does not work here either.
    const routePage = await (await loopbackFetch(stack.url(APP, '/.iap/sign_out'), { headers: { accept: 'text/html', cookie: cookieFor(jar, APP) } })).text();
    expect((await post(`?csrf=${encodeURIComponent(csrfFrom(routePage))}`)).status).toBe(403);
    expect(await status(APP, cookieFor(jar, APP))).toBe(200);
    const start = await loopbackFetch(`${stack.authUrl}/oauth2/start?rd=${encodeURIComponent(stack.url(APP, '/'))}&bind=${'b'.repeat(43)}`, { headers: { accept: 'text/html', cookie: authCookie } });
    expect(new URL(start.headers.get('location')!).pathname).toBe('/.iap/callback');
  });

  it("takes a hand-over token only for the browser's own session: another session's token just asks", async () => {
    const jar = await signedIn();
    const authCookie = jar.header(new URL(stack.authUrl))!;
    // Genuine, sealed with the right key, but for a session this browser does not hold.
    const token = createSignOutToken(stack.keys('signout'), 'another-users-sid', Date.now());
    const response = await loopbackFetch(`${stack.authUrl}/oauth2/sign_out?token=${encodeURIComponent(token)}`, { headers: { accept: 'text/html', cookie: authCookie } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Sign out?');
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await status(APP, cookieFor(jar, APP))).toBe(200);
    const start = await loopbackFetch(`${stack.authUrl}/oauth2/start?rd=${encodeURIComponent(stack.url(APP, '/'))}&bind=${'b'.repeat(43)}`, { headers: { accept: 'text/html', cookie: authCookie } });
    expect(new URL(start.headers.get('location')!).pathname).toBe('/.iap/callback');
  });

  it('shows the signed-out page to a browser without a session', async () => {
    const response = await loopbackFetch(`${stack.authUrl}/oauth2/sign_out`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You are signed out');
    const post = await loopbackFetch(`${stack.authUrl}/oauth2/sign_out`, { method: 'POST', headers: { accept: 'text/html' } });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe(`${stack.authUrl}/oauth2/signed_out`);
  });
});

describe('the signed-out sessions list', () => {
  it('is saved in the data directory', async () => {
    await stack.gh.stop();
    const revoked = JSON.parse(await readFile(join(stack.dataDir, 'data', 'revoked.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(revoked).length).toBeGreaterThanOrEqual(2);
    for (const exp of Object.values(revoked)) expect(exp * 1000).toBeGreaterThan(Date.now());
  });
});
