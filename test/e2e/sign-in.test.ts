import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser, type BrowserContext, type Page } from '../helpers/browser.ts';
import type { TestUser } from '../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from '../integration/auth/support.ts';

/**
 * The whole sign-in in headless Chromium: a real provider with a login form, a real Gatehouse,
 * real upstreams that echo what they received, and websockets through Gatehouse.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice Example', groups: ['admins', 'staff'], password: 'alice-pw' };
const bob: TestUser = { sub: 'u-bob', email: 'bob@example.test', name: 'Bob', groups: ['staff'], password: 'bob-pw' };
const mallory: TestUser = { sub: 'u-mallory', email: 'mallory@elsewhere.test', name: 'Mallory', groups: ['admins'], password: 'mallory-pw' };

const APP = 'app.e2e.gh.localhost';
const SECOND = 'second.e2e.gh.localhost';
const ADMINS = 'admins.e2e.gh.localhost';
const DOMAIN = 'domain.e2e.gh.localhost';
const EMAIL = 'email.e2e.gh.localhost';
const WS = 'ws.e2e.gh.localhost';
const PUBLIC = 'public.e2e.gh.localhost';

let stack: AuthStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice, bob, mallory],
    routes: [
      { from: `http://${APP}`, allow: '*', name: 'App' },
      { from: `http://${SECOND}`, allow: '*', name: 'Second' },
      { from: `http://${ADMINS}`, allow: 'group:admins', name: 'Admins' },
      { from: `http://${DOMAIN}`, allow: '@example.test', name: 'Domain' },
      { from: `http://${EMAIL}`, allow: 'bob@example.test', name: 'Email' },
      { from: `http://${WS}`, allow: '*', websockets: 'true', name: 'Socket' },
      { from: `http://${PUBLIC}`, public: 'true', name: 'Public' },
    ],
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await stack?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}

/** Fills the provider's login form, which must be the page shown now. */
async function logIn(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function isProviderLogin(page: Page): boolean {
  return page.url().startsWith(`${stack.op.issuer}/interaction/`);
}

async function echoed(page: Page): Promise<{ url: string; headers: Record<string, string> }> {
  return JSON.parse((await page.locator('#echo').textContent()) ?? '{}') as { url: string; headers: Record<string, string> };
}

describe('sign-in in a real browser', () => {
  let page: Page;

  beforeAll(async () => {
    page = await newPage();
  });

  it('goes through the provider login and lands on the original URL with path and query', async () => {
    const target = stack.url(APP, '/reports/q3?tab=summary&sort=desc');
    await page.goto(target);
    expect(isProviderLogin(page)).toBe(true);
    await logIn(page, alice);
    await page.waitForURL(target);
    const echo = await echoed(page);
    expect(echo.url).toBe('/reports/q3?tab=summary&sort=desc');
    expect(echo.headers['x-iap-email']).toBe('alice@example.test');
    expect(echo.headers['x-iap-user']).toBe('u-alice');
    expect(echo.headers['x-iap-groups']).toBe('admins,staff');
    expect(echo.headers['x-iap-jwt-assertion']).toMatch(/^eyJ/);
    expect(echo.headers.cookie).toBeUndefined();
    const cookies = await page.context().cookies(stack.url(APP));
    expect(cookies.find((c) => c.name === 'gatehouse_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', domain: APP });
  });

  it('signs in to a second app host without a second prompt', async () => {
    const providerVisits: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${stack.op.issuer}/interaction/`)) providerVisits.push(request.url());
    });
    await page.goto(stack.url(SECOND, '/hello'));
    await page.waitForURL(stack.url(SECOND, '/hello'));
    expect(providerVisits).toEqual([]);
    expect((await echoed(page)).headers['x-iap-email']).toBe('alice@example.test');
  });

  it('lets alice in by group and domain, and refuses her where only bob is allowed', async () => {
    await page.goto(stack.url(ADMINS, '/'));
    expect(await page.locator('#app').textContent()).toBe('upstream');
    await page.goto(stack.url(DOMAIN, '/'));
    expect(await page.locator('#app').textContent()).toBe('upstream');
    const refused = await page.goto(stack.url(EMAIL, '/'));
    expect(refused?.status()).toBe(403);
    expect(await page.locator('h1').textContent()).toContain('No access to this app');
    expect(await page.locator('main').textContent()).toContain('alice@example.test');
    expect(await page.content()).not.toContain('bob@example.test');
    await expect(page.getByRole('link', { name: 'Sign out' }).getAttribute('href')).resolves.toBe('/.iap/sign_out');
  });

  it('shows who is signed in at /.iap/', async () => {
    await page.goto(stack.url(APP, '/.iap/'));
    expect(await page.locator('#iap-email').textContent()).toBe('alice@example.test');
    expect(await page.locator('#iap-user').textContent()).toBe('u-alice');
    expect(await page.locator('#iap-groups').textContent()).toBe('admins, staff');
  });

  it('opens a websocket through Gatehouse after sign-in, with the identity on the handshake', async () => {
    await page.goto(stack.url(WS, '/'));
    const before = stack.upstream.websocketHandshakes.length;
    const reply = await page.evaluate(async (url) => {
      return await new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.onopen = () => socket.send('ping from the page');
        socket.onmessage = (event) => {
          resolve(String(event.data));
          socket.close();
        };
        socket.onerror = () => reject(new Error('websocket failed'));
      });
    }, `ws://${WS}:${stack.port}/live`);
    expect(reply).toBe('echo:ping from the page');
    const handshake = stack.upstream.websocketHandshakes[before]!;
    expect(handshake.url).toBe('/live');
    expect(handshake.headers['x-iap-email']).toBe('alice@example.test');
    expect(handshake.headers.cookie).toBeUndefined();
  });

  it('signs out (also at the provider), after which the app asks to sign in again', async () => {
    await page.goto(stack.url(APP, '/.iap/sign_out'));
    expect(await page.locator('h1').textContent()).toBe('Sign out?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider confirms its own sign-out, then returns to Gatehouse's signed-out page.
    await page.waitForURL((url) => url.origin === stack.op.issuer);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${stack.authUrl}/oauth2/signed_out`);
    expect(await page.locator('h1').textContent()).toBe('You are signed out');

    await page.goto(stack.url(SECOND, '/again'));
    expect(isProviderLogin(page)).toBe(true);
    const cookies = await page.context().cookies([stack.url(APP), stack.authUrl]);
    expect(cookies.filter((c) => c.name.startsWith('gatehouse_session'))).toEqual([]);
  });
});

describe('refusals in a real browser', () => {
  it('shows the 403 page to a user the group rule refuses, naming the user', async () => {
    const page = await newPage();
    await page.goto(stack.url(ADMINS, '/secret'));
    await logIn(page, bob);
    await page.waitForURL(stack.url(ADMINS, '/secret'));
    expect(await page.locator('h1').textContent()).toContain('No access to this app');
    expect(await page.locator('main').textContent()).toContain('bob@example.test');
    expect(await page.content()).not.toContain('group:admins');
    expect(stack.upstream.received.some((r) => r.url === '/secret')).toBe(false);
    // Bob's email rule and domain rule still let him in elsewhere.
    await page.goto(stack.url(EMAIL, '/'));
    expect(await page.locator('#app').textContent()).toBe('upstream');
    await page.goto(stack.url(DOMAIN, '/'));
    expect(await page.locator('#app').textContent()).toBe('upstream');
  });

  it('refuses a domain rule to a user from another domain', async () => {
    const page = await newPage();
    await page.goto(stack.url(DOMAIN, '/'));
    await logIn(page, mallory);
    await page.waitForURL(stack.url(DOMAIN, '/'));
    expect(await page.locator('main').textContent()).toContain('mallory@elsewhere.test');
    expect(await page.locator('h1').textContent()).toContain('No access to this app');
    await page.goto(stack.url(ADMINS, '/'));
    expect(await page.locator('#app').textContent()).toBe('upstream');
  });

  it('refuses a websocket before sign-in, without contacting the upstream', async () => {
    const page = await newPage();
    // A page of a public app: no session anywhere in this browser.
    await page.goto(stack.url(PUBLIC, '/'));
    expect(await page.locator('#app').textContent()).toBe('upstream');
    const before = stack.upstream.websocketHandshakes.length;
    const outcome = await page.evaluate(async (url) => {
      return await new Promise<string>((resolve) => {
        const socket = new WebSocket(url);
        socket.onopen = () => resolve('open');
        socket.onclose = (event) => resolve(`closed ${event.code}`);
      });
    }, `ws://${WS}:${stack.port}/live`);
    expect(outcome).toBe('closed 1006');
    expect(stack.upstream.websocketHandshakes.length).toBe(before);
  });
});
