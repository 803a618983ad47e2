import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';
import { usersYaml } from '../helpers/idp-app.ts';
import { docker } from '../helpers/images.ts';
import { startCaddy, startNginx, type ForwardAuthSite, type OuterProxy } from '../helpers/outer-proxies.ts';
import { freePort, startUpstream, type Upstream } from '../integration/auth/support.ts';

/**
 * Real Caddy (`forward_auth`) and real nginx (`auth_request`) in front of Gatehouse, configured
 * as the README says, with Chromium signing in at the built-in provider. The deciding labels sit
 * on the app containers (`iap.mode=forward_auth`); the outer proxy forwards to the app itself.
 */

const USERS = {
  alice: { email: 'alice@example.com', name: 'Alice', groups: ['staff'], password: 'alice-password' },
};

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const kind of ['caddy', 'nginx'] as const) {
  describe(`${kind} in front of Gatehouse in forward-auth mode`, () => {
    const APP = `app.${kind}.fwd.localhost`;
    const ADMIN = `admin.${kind}.fwd.localhost`;
    const AUTH = `auth.${kind}.fwd.localhost`;
    let gh: TestGatehouse;
    let outer: OuterProxy;
    let upstream: Upstream;
    let workDir: string;
    const containers: string[] = [];
    const url = (host: string, path = '/') => `http://${host}:${outer.port}${path}`;

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), `gh-fwd-${kind}-`));
      upstream = await startUpstream(`${kind}-app`);
      const outerPort = await freePort();
      const ghPort = await freePort();
      const usersFile = join(workDir, 'users.yml');
      await writeFile(usersFile, await usersYaml(USERS));
      gh = await startTestGatehouse({
        GATEHOUSE_LISTEN: `127.0.0.1:${ghPort}`,
        // The browser reaches the sign-in host through the outer proxy, on its port.
        GATEHOUSE_AUTH_URL: `http://${AUTH}:${outerPort}`,
        GATEHOUSE_USERS_FILE: usersFile,
        GATEHOUSE_DATA_DIR: join(workDir, 'data'),
        GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1',
      });
      const p = gh.prefix;
      // The apps' own containers carry the deciding labels; nothing on them says how to reach them.
      for (const labels of [
        [`${p}.from=http://${APP}`, `${p}.mode=forward_auth`, `${p}.allow=group:staff`, `${p}.bypass=/public/`],
        [`${p}.from=http://${ADMIN}`, `${p}.mode=forward_auth`, `${p}.allow=group:ops`],
      ]) {
        containers.push(await docker('run', '-d', '--network', 'none', ...labels.flatMap((label) => ['--label', label]), 'busybox:local', 'sleep', '600'));
      }
      await waitFor(async () => ((await http(ghPort, ADMIN, '/')).status === 421 ? true : undefined), 'both labelled containers to be published');
      const site: ForwardAuthSite = { appHosts: [APP, ADMIN], authHost: AUTH, gatehouse: `127.0.0.1:${ghPort}`, upstream: new URL(upstream.origin).host };
      outer = kind === 'caddy' ? await startCaddy(outerPort, site) : await startNginx(outerPort, site);
    });

    afterAll(async () => {
      await outer?.stop();
      if (containers.length > 0) await docker('rm', '-f', ...containers).catch(() => undefined);
      await gh?.stop();
      await upstream?.close();
      if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
    });

    it('signs a browser in and the app receives the identity; a refusal is a 403 from the outer proxy', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(url(APP, '/hello?x=1'));
        await expect.poll(() => page.title(), { message: await outer.output() }).toBe('Sign in · Gatehouse');
        expect(new URL(page.url()).host).toBe(`${AUTH}:${outer.port}`);
        await page.getByLabel('Username or email').fill('alice');
        await page.getByLabel('Password').fill('not-the-password');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await expect.poll(() => page.getByRole('alert').textContent()).toBe('Wrong username or password.');
        await page.getByLabel('Username or email').fill('alice');
        await page.getByLabel('Password').fill('alice-password');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(url(APP, '/hello?x=1'));
        expect(await page.locator('#app').textContent()).toBe(`${kind}-app`);
        const seen = upstream.received.filter((r) => r.url === '/hello?x=1').at(-1);
        expect(seen?.headers['x-iap-user']).toBe('alice');
        expect(seen?.headers['x-iap-email']).toBe('alice@example.com');
        expect(seen?.headers['x-iap-groups']).toBe('staff');

        // Single sign-on to the second app: no password, then its own labels refuse alice.
        const refused = await page.goto(url(ADMIN, '/settings'));
        expect(refused?.status()).toBe(403);
        expect(new URL(page.url()).host).toBe(`${ADMIN}:${outer.port}`);
        // Caddy passes Gatehouse's page on; nginx's auth_request keeps only the status (its own 403 page).
        expect(await page.locator('h1').textContent()).toContain(kind === 'caddy' ? 'No access' : '403 Forbidden');
        expect(upstream.received.some((r) => r.headers.host?.startsWith(ADMIN))).toBe(false);

        // Signing out on the app host goes through the outer proxy's /.iap/* rule too.
        await page.goto(url(APP, '/.iap/sign_out'));
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForLoadState('load');
        const events = await waitFor(async () => {
          const lines = (await readFile(join(workDir, 'data', 'audit.jsonl'), 'utf8').catch(() => ''))
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>);
          return lines.some((line) => line.event === 'sign_out') ? lines : undefined;
        }, 'the sign-out in the audit stream');
        // In order; the browser may add a refused /favicon.ico of its own.
        const firsts = ['sign_in_failed', 'sign_in', 'refused', 'sign_out'].map((name) => events.findIndex((line) => line.event === name));
        expect(firsts.every((index, i) => index >= 0 && (i === 0 || index > (firsts[i - 1] as number)))).toBe(true);
        expect(events.find((line) => line.event === 'sign_in_failed')).toMatchObject({ user: 'alice', ip: '127.0.0.1' });
        expect(events.find((line) => line.event === 'refused')).toMatchObject({ via: 'forward_auth', host: ADMIN, path: '/settings', user: 'alice@example.com', reason: 'not_allowed' });
        expect(events.find((line) => line.event === 'sign_out')).toMatchObject({ host: APP, user: 'alice@example.com' });
        expect(JSON.stringify(events)).not.toMatch(/alice-password|not-the-password|gatehouse_session|eyJ/);
        const back = await page.goto(url(APP, '/hello?x=1'));
        expect(new URL(page.url()).host).toBe(`${AUTH}:${outer.port}`);
        expect(back?.status()).toBe(200);
      } finally {
        await context.close();
      }
    });

    it('answers an API client without a session with 401, and a forged identity header never reaches the app', async () => {
      const api = await http(outer.port, `${APP}:${outer.port}`, '/api', { headers: { accept: 'application/json' } });
      expect(api.status).toBe(401);
      const before = upstream.received.length;
      const open = await http(outer.port, `${APP}:${outer.port}`, '/public/logo', { headers: { 'x-iap-user': 'root', 'x-iap-email': 'root@example.com' } });
      expect(open.status).toBe(200);
      const seen = upstream.received.slice(before).find((r) => r.url === '/public/logo');
      expect(seen).toBeDefined();
      expect(seen?.headers['x-iap-user'] ?? '').toBe('');
      expect(seen?.headers['x-iap-email'] ?? '').toBe('');
    });
  });
}
