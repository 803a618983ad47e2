import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser, type BrowserContext, type Page } from '../helpers/browser.ts';
import type { TestUser } from '../helpers/oidc-provider.ts';
import { http } from '../helpers/http.ts';
import { startAuthStack, type AuthStack } from '../integration/auth/support.ts';

/**
 * Routes written in Pomerium's format, signed in to in headless Chromium against a real
 * provider, show the allow and deny Pomerium documents: a stricter sub-route wins whatever the
 * file order, `prefix` is a string prefix, websockets are off unless allowed, Host is the `to`
 * host, `${pomerium.jwt}` is substituted, and forged X-Pomerium-* headers never reach the app.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const bob: TestUser = { sub: 'u-bob', email: 'bob@example.test', name: 'Bob', groups: ['admins'], password: 'bob-pw' };

const POM = 'pom.e2e.gh.localhost';
const SOCKETS = 'sockets.e2e.gh.localhost';
const LABELS = 'labels.e2e.gh.localhost';

let stack: AuthStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice, bob],
    routes: [
      // The host-wide route comes first in the file; the stricter /admin route below must still win.
      {
        from: `http://${POM}`,
        allow_any_authenticated_user: true,
        pass_identity_headers: true,
        jwt_claims_headers: 'email,groups',
        set_request_headers: { Authorization: 'Bearer ${pomerium.jwt}' },
      },
      { from: `http://${POM}`, prefix: '/admin', allowed_users: ['bob@example.test'] },
      { from: `http://${SOCKETS}`, allow_any_authenticated_user: true, allow_websockets: true },
      // A route in Gatehouse's own keys: forged X-Pomerium-* is stripped there too.
      { from: `http://${LABELS}`, allow: '*' },
    ],
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.close();
});

async function signedIn(user: TestUser): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  // A hostile page (or client) sends Pomerium's identity headers itself on every request.
  await context.setExtraHTTPHeaders({ 'X-Pomerium-Claim-Email': 'ceo@example.test', 'X-Pomerium-Jwt-Assertion': 'forged', 'X_Pomerium_Claim_Groups': 'admins' });
  const page = await context.newPage();
  const target = stack.url(POM, '/');
  await page.goto(target);
  expect(page.url().startsWith(`${stack.op.issuer}/interaction/`)).toBe(true);
  await page.getByLabel('Username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(target);
  return page;
}

async function echoed(page: Page): Promise<{ url: string; headers: Record<string, string> }> {
  return JSON.parse((await page.locator('#echo').textContent()) ?? '{}') as { url: string; headers: Record<string, string> };
}

async function socketOutcome(page: Page, host: string): Promise<string> {
  return page.evaluate(async (url) => {
    return await new Promise<string>((resolve) => {
      const socket = new WebSocket(url);
      socket.onopen = () => {
        resolve('open');
        socket.close();
      };
      socket.onclose = (event) => resolve(`closed ${event.code}`);
    });
  }, `ws://${host}:${stack.port}/live`);
}

describe('Pomerium routes in a real browser', () => {
  let page: Page;

  beforeAll(async () => {
    page = await signedIn(alice);
  });

  it("sends Pomerium's headers, with ${pomerium.jwt} substituted and the forged ones gone; Host is the to host", async () => {
    const echo = await echoed(page);
    const upstreamHost = new URL(stack.upstream.origin).host;
    expect(echo.headers.host).toBe(upstreamHost);
    const jwt = echo.headers['x-pomerium-jwt-assertion'] as string;
    expect(jwt).not.toBe('forged');
    expect(echo.headers.authorization).toBe(`Bearer ${jwt}`);
    expect(echo.headers['x-pomerium-claim-email']).toBe('alice@example.test');
    expect(echo.headers['x-pomerium-claim-groups']).toBe('staff');
    expect(Object.keys(echo.headers).filter((name) => /pomerium/i.test(name)).sort()).toEqual([
      'x-pomerium-claim-email',
      'x-pomerium-claim-groups',
      'x-pomerium-jwt-assertion',
    ]);
    expect(Object.keys(echo.headers).filter((name) => name.startsWith('x-iap-'))).toEqual([]);
    // The assertion verifies against the JWKS Pomerium apps fetch, with Pomerium's claims.
    const jwks = await http(stack.port, `${POM}:${stack.port}`, '/.well-known/pomerium/jwks.json');
    expect(jwks.status).toBe(200);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(JSON.parse(jwks.body) as JSONWebKeySet), { issuer: POM, audience: POM });
    expect(payload).toMatchObject({ sub: 'u-alice', user: 'u-alice', email: 'alice@example.test', groups: ['staff'] });
  });

  it('refuses alice on the stricter /admin sub-route, and on /administrator: prefix is a string prefix', async () => {
    const other = await page.goto(stack.url(POM, '/other'));
    expect(other?.status()).toBe(200);
    for (const path of ['/admin', '/admin/users', '/administrator']) {
      const refused = await page.goto(stack.url(POM, path));
      expect(refused?.status(), path).toBe(403);
    }
  });

  it('lets bob through the /admin sub-route', async () => {
    const bobPage = await signedIn(bob);
    for (const path of ['/admin/users', '/administrator']) {
      const response = await bobPage.goto(stack.url(POM, path));
      expect(response?.status(), path).toBe(200);
      expect((await echoed(bobPage)).url).toBe(path);
    }
  });

  it('keeps websockets off unless the route allows them', async () => {
    await page.goto(stack.url(POM, '/'));
    const before = stack.upstream.websocketHandshakes.length;
    expect(await socketOutcome(page, POM)).toBe('closed 1006');
    expect(stack.upstream.websocketHandshakes.length).toBe(before);
    await page.goto(stack.url(SOCKETS, '/'));
    expect(await socketOutcome(page, SOCKETS)).toBe('open');
  });

  it('strips forged X-Pomerium-* on a route written in Gatehouse keys too', async () => {
    await page.goto(stack.url(LABELS, '/'));
    const echo = await echoed(page);
    expect(echo.headers['x-iap-email']).toBe('alice@example.test');
    expect(Object.keys(echo.headers).filter((name) => /pomerium/i.test(name))).toEqual([]);
  });

  it('answers /.pomerium/ and /.pomerium/jwt on the route host, as /.iap/ does', async () => {
    await page.goto(stack.url(POM, '/.pomerium/'));
    expect(await page.locator('#iap-email').textContent()).toBe('alice@example.test');
    // The browser's own cookies, as an app's script calling /.pomerium/jwt would send them.
    const cookie = (await page.context().cookies(stack.url(POM))).map((c) => `${c.name}=${c.value}`).join('; ');
    const response = await http(stack.port, `${POM}:${stack.port}`, '/.pomerium/jwt', { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/jwt');
    const token = response.body;
    expect(token.split('.')).toHaveLength(3);
    expect(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())).toMatchObject({ iss: POM, aud: POM, email: 'alice@example.test' });
    const anonymous = await http(stack.port, `${POM}:${stack.port}`, '/.pomerium/jwt');
    expect(anonymous.status).toBe(401);
    const user = await http(stack.port, `${POM}:${stack.port}`, '/.pomerium/user', { headers: { cookie } });
    expect(JSON.parse(user.body)).toMatchObject({ email: 'alice@example.test' });
    await page.goto(stack.url(POM, '/.pomerium/sign_out'));
    expect(await page.locator('h1').textContent()).toBe('Sign out?');
  });
});
