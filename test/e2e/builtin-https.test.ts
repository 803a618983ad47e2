import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { usersYaml } from '../helpers/idp-app.ts';
import { createTestCa } from '../helpers/test-ca.ts';
import { freePort, startUpstream, type Upstream } from '../integration/auth/support.ts';
import { writePair } from '../integration/tls/support.ts';

/**
 * The built-in sign-in behind Gatehouse's own HTTPS listener, as browsers reach it: over HTTP/2,
 * where the provider gets Node's HTTP/2 compatibility request and response objects.
 */

const AUTH = 'auth.tls.gh.localhost';
const APP = 'app.tls.gh.localhost';

let dir: string;
let port: number;
let gh: TestGatehouse;
let upstream: Upstream;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-builtin-tls-'));
  const ca = createTestCa();
  await mkdir(join(dir, 'tls'));
  await writePair(join(dir, 'tls'), 'site.crt', 'site.key', ca.issue({ names: [AUTH, APP] }));
  await writeFile(join(dir, 'users.yml'), await usersYaml({ demo: { email: 'demo@example.com', groups: ['demo'], password: 'demo-password' } }));
  upstream = await startUpstream('upstream');
  await writeFile(join(dir, 'routes.yml'), stringify({ routes: [{ from: `https://${APP}`, to: upstream.origin, allow: 'group:demo' }] }));
  port = await freePort();
  gh = await startTestGatehouse({
    GATEHOUSE_HTTPS_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_TLS_DIR: join(dir, 'tls'),
    GATEHOUSE_CONFIG: join(dir, 'routes.yml'),
    GATEHOUSE_AUTH_URL: `https://${AUTH}:${port}`,
    GATEHOUSE_USERS_FILE: join(dir, 'users.yml'),
    GATEHOUSE_DATA_DIR: join(dir, 'data'),
  });
  // The test CA is not in Chromium's store; the certificate itself is checked by the TLS tests.
  browser = await launchBrowser({ extraArgs: ['--ignore-certificate-errors'] });
});

afterAll(async () => {
  await browser?.close();
  await gh?.stop();
  await upstream?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('built-in sign-in over HTTPS', () => {
  it('serves the sign-in page over HTTP/2 with secure cookies and signs the user in to the app', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`https://${APP}:${port}/report`);
      await page.waitForURL((url) => url.host === `${AUTH}:${port}` && url.pathname.startsWith('/idp/interaction/'));
      expect(await page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")).toBe('h2');
      const idpCookies = (await context.cookies(`https://${AUTH}:${port}/idp/`)).filter((cookie) => cookie.name.startsWith('gatehouse_idp_'));
      expect(idpCookies.length).toBeGreaterThan(0);
      expect(idpCookies.every((cookie) => cookie.secure && cookie.httpOnly)).toBe(true);

      await page.getByLabel('Username or email').fill('demo');
      await page.getByLabel('Password').fill('demo-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`https://${APP}:${port}/report`);
      // The browser also asks for /favicon.ico, in any order: pick the app's own request.
      const received = upstream.received.find((request) => request.url === '/report');
      expect(received, `the app saw ${upstream.received.map((request) => request.url).join(', ')}`).toBeDefined();
      expect(received!.headers['x-iap-email']).toBe('demo@example.com');
      const idpRequests = gh.logs.filter((line) => line.msg === 'request' && line.host === AUTH && String(line.path).startsWith('/idp/'));
      expect(idpRequests.map((line) => line.status)).toEqual(expect.arrayContaining([200, 303]));
    } finally {
      await context.close();
    }
  });
});
