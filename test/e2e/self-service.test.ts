import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { launchBrowser, type Browser, type BrowserContext, type Page } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { usersYaml } from '../helpers/idp-app.ts';
import { decodeBase32, generateTotpSecret } from '../../src/idp/index.ts';
import { hotp, totpStep } from '../../src/idp/totp.ts';
import { freePort, startUpstream, type Upstream } from '../integration/auth/support.ts';

/**
 * The self-service page in headless Chromium against a real Gatehouse with the built-in
 * sign-in: a passkey registered with Chromium's virtual authenticator (the DevTools protocol's
 * WebAuthn domain: real ceremonies, real signatures), then used alone to sign in; and "sign
 * out everywhere" ending the sessions of two other browsers. `*.localhost` is a secure
 * context in Chromium, so WebAuthn works over plain http here.
 */

const id = randomBytes(3).toString('hex');
const TOTP_SECRET = generateTotpSecret();
const AUTH = `auth-${id}.gh.localhost`;
const APP = `app-${id}.gh.localhost`;

let dir: string;
let port: number;
let gh: TestGatehouse;
let upstream: Upstream;
let browser: Browser;
const authUrl = () => `http://${AUTH}:${port}`;
const appUrl = (path = '/') => `http://${APP}:${port}${path}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-self-service-'));
  await writeFile(
    join(dir, 'users.yml'),
    await usersYaml({
      alice: { email: 'alice@example.com', name: 'Alice', groups: ['demo'], password: 'alice-password' },
      carol: { email: 'carol@example.com', name: 'Carol', groups: ['demo'], password: 'carol-password' },
      tess: { email: 'tess@example.com', name: 'Tess', groups: ['demo'], password: 'tess-password', totp: TOTP_SECRET },
    }),
  );
  upstream = await startUpstream('app');
  await writeFile(join(dir, 'routes.yml'), stringify({ routes: [{ from: `http://${APP}`, to: upstream.origin, allow: 'group:demo' }] }));
  port = await freePort();
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_CONFIG: join(dir, 'routes.yml'),
    GATEHOUSE_AUTH_URL: authUrl(),
    GATEHOUSE_USERS_FILE: join(dir, 'users.yml'),
    GATEHOUSE_DATA_DIR: join(dir, 'data'),
  });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gh?.stop();
  await upstream?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

async function signInWithPassword(page: Page, username: string, password: string): Promise<void> {
  await page.waitForURL((url) => url.pathname.startsWith('/idp/interaction/'));
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Asked from the app's own page, as its scripts would (Chromium resolves `*.localhost`; Node may not). */
async function fetchFromApp(page: Page, path: string): Promise<{ status: number; body: string }> {
  return page.evaluate(async (target) => {
    const response = await fetch(target, { headers: { accept: 'application/json' }, redirect: 'manual' });
    return { status: response.status, body: await response.text() };
  }, path);
}

describe('passkeys', () => {
  it('registers a passkey on the self-service page, then signs in with it alone', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
      await page.goto(`${authUrl()}/account`);
      await signInWithPassword(page, 'alice', 'alice-password');
      await page.waitForURL(`${authUrl()}/account`);
      expect(await page.title()).toBe('Your account · Gatehouse');

      await page.getByLabel('Name for the new passkey').fill('Virtual key');
      await page.locator('#passkey-current').fill('alice-password');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await page.waitForURL(`${authUrl()}/account?done=passkey`);
      expect(await page.getByRole('status').textContent()).toBe('Your passkey was added.');
      expect(await page.locator('#passkeys table').textContent()).toContain('Virtual key');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.isResidentCredential).toBe(true);
      expect(credentials[0]!.rpId).toBe(AUTH);

      // A fresh start in the same browser (same authenticator): no cookies, no provider session.
      await context.clearCookies();
      await page.goto(appUrl('/passkey-only'));
      await page.waitForURL((url) => url.pathname.startsWith('/idp/interaction/'));
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await page.waitForURL(appUrl('/passkey-only'));
      const received = upstream.received.findLast((request) => request.url === '/passkey-only');
      expect(received?.headers['x-iap-user']).toBe('alice');
      const user = JSON.parse((await fetchFromApp(page, '/.iap/user')).body) as Record<string, unknown>;
      expect((user['claims'] as Record<string, unknown>)['amr']).toEqual(['hwk', 'user', 'mfa']);
      const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(used[0]!.signCount).toBeGreaterThan(credentials[0]!.signCount);
    } finally {
      await context.close();
    }
  });

  it('takes a passkey instead of the TOTP code after the password', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await addVirtualAuthenticator(page);
      await page.goto(`${authUrl()}/account`);
      await signInWithPassword(page, 'tess', 'tess-password');
      await page.getByLabel('6-digit code').fill(hotp(decodeBase32(TOTP_SECRET)!, totpStep(Date.now())));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${authUrl()}/account`);
      await page.getByLabel('Name for the new passkey').fill('Second factor');
      await page.locator('#passkey-current').fill('tess-password');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await page.waitForURL(`${authUrl()}/account?done=passkey`);

      await context.clearCookies();
      await page.goto(appUrl('/second-factor'));
      await signInWithPassword(page, 'tess', 'tess-password');
      await page.getByRole('button', { name: 'Use your passkey' }).click();
      await page.waitForURL(appUrl('/second-factor'));
      const user = JSON.parse((await fetchFromApp(page, '/.iap/user')).body) as Record<string, unknown>;
      expect(user['sub']).toBe('tess');
      expect((user['claims'] as Record<string, unknown>)['amr']).toEqual(['pwd', 'hwk', 'user', 'mfa']);
    } finally {
      await context.close();
    }
  });

  it('refuses a passkey the server does not know, with the password form still there', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
      // A resident credential for this RP that was never registered at Gatehouse.
      const { privateKey } = await import('node:crypto').then((crypto) => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
      await cdp.send('WebAuthn.addCredential', {
        authenticatorId,
        credential: {
          credentialId: randomBytes(16).toString('base64'),
          isResidentCredential: true,
          rpId: AUTH,
          privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
          userHandle: Buffer.from('alice').toString('base64'),
          signCount: 0,
        },
      });
      await page.goto(appUrl('/forged'));
      await page.waitForURL((url) => url.pathname.startsWith('/idp/interaction/'));
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await expect.poll(() => page.getByRole('alert').first().textContent()).toBe('That passkey was not accepted. Try again, or use your password.');
      expect(upstream.received.some((request) => request.url === '/forged')).toBe(false);
      expect(await page.getByLabel('Password').isVisible()).toBe(true);
    } finally {
      await context.close();
    }
  });
});

describe('sign out everywhere', () => {
  it('ends the sessions of two other browsers, at the apps and at the sign-in page', async () => {
    const contexts: BrowserContext[] = [];
    try {
      const pages: Page[] = [];
      for (let i = 0; i < 3; i += 1) {
        const context = await browser.newContext();
        contexts.push(context);
        const page = await context.newPage();
        await page.goto(appUrl(`/before-${i}`));
        await signInWithPassword(page, 'carol', 'carol-password');
        await page.waitForURL(appUrl(`/before-${i}`));
        pages.push(page);
      }
      const [first, second, third] = pages as [Page, Page, Page];
      await first.goto(`${authUrl()}/account`);
      expect(await first.locator('#sessions tbody tr').count()).toBe(3);
      await first.getByRole('button', { name: 'Sign out everywhere' }).click();
      await first.waitForURL(`${authUrl()}/oauth2/signed_out`);

      for (const [i, page] of [second, third].entries()) {
        expect((await fetchFromApp(page, '/after')).status, `browser ${i + 2} at the app`).toBe(401);
        // Their provider sessions ended too: the next visit asks for the password again.
        await page.goto(appUrl(`/after-${i}`));
        await page.waitForURL((url) => url.pathname.startsWith('/idp/interaction/'));
        expect(await page.getByLabel('Password').isVisible()).toBe(true);
      }
      expect(upstream.received.some((request) => request.url.startsWith('/after'))).toBe(false);
      // And the browser that clicked is signed out too.
      await first.goto(`${authUrl()}/account`);
      await first.waitForURL((url) => url.pathname.startsWith('/idp/interaction/'));
    } finally {
      await Promise.all(contexts.map((context) => context.close()));
    }
  });
});
