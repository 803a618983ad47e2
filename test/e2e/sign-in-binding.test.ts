import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser, type BrowserContext, type Page } from '../helpers/browser.ts';
import type { TestUser } from '../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from '../integration/auth/support.ts';

/**
 * Nobody else can steer a sign-in, in headless Chromium: a callback link made in the attacker's
 * browser signs nobody else in (login CSRF), and a signed-in user sent to `/oauth2/start` with a
 * return address on another port of a known host name hands no token to whatever listens there.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: [], password: 'alice-pw' };
const mallory: TestUser = { sub: 'u-mallory', email: 'mallory@example.test', name: 'Mallory', groups: [], password: 'mallory-pw' };
const APP = 'app.binding.gh.localhost';
const AUTH = 'auth.binding.gh.localhost';

let stack: AuthStack;
let browser: Browser;
let listener: Server;
let listenerPort: number;
const caught: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  stack = await startAuthStack({ users: [alice, mallory], authHost: AUTH, routes: [{ from: `http://${APP}`, allow: '*' }] });
  // The attacker's server on another port of the same machine, so every *.localhost name reaches it.
  listener = createServer((req, res) => {
    caught.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>caught</title><p id="caught">caught</p>');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as AddressInfo).port;
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  listener?.closeAllConnections();
  await new Promise<void>((resolve) => listener?.close(() => resolve()) ?? resolve());
  await stack?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  return context.newPage();
}

async function logIn(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function echoedEmail(page: Page): Promise<string | undefined> {
  const echo = JSON.parse((await page.locator('#echo').textContent()) ?? '{}') as { headers?: Record<string, string> };
  return echo.headers?.['x-iap-email'];
}

async function sessionCookieOn(page: Page, host: string): Promise<boolean> {
  const cookies = await page.context().cookies(`http://${host}:${stack.port}/`);
  return cookies.some((cookie) => cookie.name === 'gatehouse_session' && cookie.value !== '');
}

describe('login CSRF', () => {
  it("a callback link from the attacker's browser does not sign the victim in as the attacker", async () => {
    // The attacker signs in as themselves and stops before the callback.
    const attacker = await newPage();
    let link: string | undefined;
    // The callback comes at the end of a redirect chain, which page.route does not see; the
    // DevTools Fetch domain pauses every request, redirects included.
    const devtools = await attacker.context().newCDPSession(attacker);
    devtools.on('Fetch.requestPaused', (event: { requestId: string; request: { url: string } }) => {
      link = event.request.url;
      void devtools.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'Aborted' });
    });
    await devtools.send('Fetch.enable', { patterns: [{ urlPattern: '*/.iap/callback?*', requestStage: 'Request' }] });
    await attacker.goto(stack.url(APP, '/inbox'));
    await logIn(attacker, mallory);
    await expect.poll(() => link, { timeout: 15_000 }).toBeDefined();
    expect(new URL(link!).origin).toBe(`http://${APP}:${stack.port}`);

    // The victim opens the link.
    const victim = await newPage();
    const response = await victim.goto(link!);
    expect(response?.status()).toBe(400);
    expect(await victim.locator('h1').textContent()).toContain('This sign-in link cannot be used');
    expect(await sessionCookieOn(victim, APP)).toBe(false);
    // The app still asks the victim to sign in: nobody is signed in in this browser.
    await victim.goto(stack.url(APP, '/inbox'));
    expect(victim.url().startsWith(`${stack.op.issuer}/interaction/`)).toBe(true);

    // The link was genuine: in the browser that started the sign-in it works (it was not used up).
    await devtools.send('Fetch.disable');
    await attacker.goto(link!);
    expect(attacker.url()).toBe(stack.url(APP, '/inbox'));
    expect(await echoedEmail(attacker)).toBe(mallory.email);
  });
});

describe('return addresses on another port', () => {
  let victim: Page;

  beforeAll(async () => {
    victim = await newPage();
    await victim.goto(stack.url(APP, '/'));
    await logIn(victim, alice);
    await victim.waitForURL(stack.url(APP, '/'));
    expect(await echoedEmail(victim)).toBe(alice.email);
  });

  it.each([
    ['another port of a route host', () => `http://${APP}:${listenerPort}/collect`],
    ['another port of the sign-in host', () => `http://${AUTH}:${listenerPort}/collect`],
    ['the route host on its default port', () => `http://${APP}/collect`],
  ])('%s receives nothing: the signed-in user lands on the portal', async (_label, target) => {
    caught.length = 0;
    for (const bind of ['', `&bind=${'A'.repeat(43)}`]) {
      await victim.goto(`${stack.authUrl}/oauth2/start?rd=${encodeURIComponent(target())}${bind}`);
      expect(new URL(victim.url()).origin).toBe(stack.authUrl);
      expect(new URL(victim.url()).pathname).toBe('/');
    }
    expect(caught).toEqual([]);
  });

  it('the same link on the real port still hands the session over', async () => {
    await victim.goto(`${stack.authUrl}/oauth2/start?rd=${encodeURIComponent(stack.url(APP, '/back'))}`);
    expect(victim.url()).toBe(stack.url(APP, '/back'));
    expect(await echoedEmail(victim)).toBe(alice.email);
  });
});
