import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcClient } from '../../src/auth/oidc.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.ts';

/** Proves the browser harness: Debian Chromium starts, and test host names reach local servers. */
describe('headless Chromium harness', () => {
  let browser: Browser;
  let server: Server;
  let port: number;
  let op: TestProvider;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url} ${req.headers.cookie ?? ''}`);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'set-cookie': '__Host-smoke=1; Path=/; Secure; HttpOnly; SameSite=Lax',
      });
      res.end(`<!doctype html><title>smoke</title><p id="greeting">Hello from ${req.headers.host}</p>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    browser = await launchBrowser();
    op = await startTestProvider({
      users: [{ sub: 'u-carol', email: 'carol@example.test', name: 'Carol', groups: ['ops'], password: 'carol-pw' }],
      clients: [{ clientId: 'smoke', clientSecret: 'smoke-secret', redirectUris: [`http://auth.gh.localhost:${port}/callback`] }],
    });
  });

  afterAll(async () => {
    await op?.close();
    await browser?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('opens a page on a *.localhost name and reads its text', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`http://app.gh.localhost:${port}/hello`);
      expect(response?.status()).toBe(200);
      expect(await page.locator('#greeting').textContent()).toBe(`Hello from app.gh.localhost:${port}`);
      // *.localhost is a secure context, so Secure and __Host- cookies work over plain http.
      expect(await page.evaluate('window.isSecureContext')).toBe(true);
      const cookies = await context.cookies(`http://app.gh.localhost:${port}/`);
      expect(cookies.map((c) => c.name)).toContain('__Host-smoke');
      await page.reload();
      expect(seen.filter((line) => line.includes(' /hello')).at(-1)).toBe(`app.gh.localhost:${port} /hello __Host-smoke=1`);
    } finally {
      await context.close();
    }
  });

  it('resolves *.test names to the loopback server too', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://whoami.example.test:${port}/`);
      expect(await page.locator('#greeting').textContent()).toBe(`Hello from whoami.example.test:${port}`);
    } finally {
      await context.close();
    }
  });

  it('signs in at the test OpenID Provider through its login form', async () => {
    const client = createOidcClient({
      issuer: op.issuer,
      clientId: 'smoke',
      clientSecret: 'smoke-secret',
      redirectUri: `http://auth.gh.localhost:${port}/callback`,
      scopes: 'openid email profile groups',
      groupsClaim: 'groups',
      logger: pino({ level: 'silent' }),
      allowHttp: true,
    });
    client.start();
    const context = await browser.newContext();
    try {
      const start = await client.beginSignIn();
      const page = await context.newPage();
      await page.goto(start.url);
      await page.getByLabel('Username').fill('carol@example.test');
      await page.getByLabel('Password').fill('carol-pw');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((url) => url.pathname === '/callback');
      expect(await page.locator('#greeting').textContent()).toBe(`Hello from auth.gh.localhost:${port}`);
      const user = await client.finishSignIn(new URL(page.url()), start);
      expect(user).toMatchObject({ sub: 'u-carol', email: 'carol@example.test', groups: ['ops'] });
    } finally {
      client.stop();
      await context.close();
    }
  });
});
