import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';
import { usersYaml } from '../helpers/idp-app.ts';
import { docker } from '../helpers/images.ts';
import { createTestCa } from '../helpers/test-ca.ts';
import { freePort, startUpstream, type Upstream } from '../integration/auth/support.ts';
import { CookieJar, signInViaHttp } from '../helpers/http-sign-in.ts';

/**
 * The admin status page in Chromium, read from the running table: routes with their state and
 * owner, rejected labels with did-you-mean, conflicts, the networks chosen, certificates with
 * their expiry, discovery health and recent refusals with the deciding entry. Labels are hostile:
 * a `<script>` in one must render as text and never run. `gatehouse routes` and `explain` read
 * the same running instance.
 */

const run = promisify(execFile);
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const APP = 'app.status.localhost';
const FILE_HOST = 'dup.status.localhost';

let browser: Browser;
let gh: TestGatehouse;
let upstream: Upstream;
let workDir: string;
let port: number;
const containers: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  workDir = await mkdtemp(join(tmpdir(), 'gh-status-'));
  upstream = await startUpstream('status-app');
  port = await freePort();
  const ca = createTestCa();
  const certificate = ca.issue({ names: [APP], notAfter: new Date(Date.now() + 10 * 86_400_000) });
  await writeFile(join(workDir, 'app.crt'), certificate.certPem);
  await writeFile(join(workDir, 'app.key'), certificate.keyPem);
  const routesFile = join(workDir, 'routes.yml');
  // Two file routes on one address: the second is a conflict.
  await writeFile(routesFile, stringify({ routes: [{ from: `http://${FILE_HOST}`, to: upstream.origin, public: true }, { from: `http://${FILE_HOST}`, to: upstream.origin, public: true }] }));
  const usersFile = join(workDir, 'users.yml');
  await writeFile(usersFile, await usersYaml({ bob: { email: 'bob@example.com', groups: ['staff'], password: 'bob-password' } }));
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_CONFIG: routesFile,
    GATEHOUSE_TLS_DIR: workDir,
    GATEHOUSE_HTTPS_LISTEN: '127.0.0.1:0',
    GATEHOUSE_HTTP_REDIRECT: 'false',
    GATEHOUSE_AUTH_URL: `http://auth.status.localhost:${port}`,
    GATEHOUSE_USERS_FILE: usersFile,
    GATEHOUSE_DATA_DIR: join(workDir, 'data'),
  });
  const p = gh.prefix;
  const good = [`${p}.from=http://${APP}`, `${p}.name=${HOSTILE}`, `${p}.allow=*`, `${p}.deny=group:staff`, `${p}.port=80`];
  const typo = [`${p}.from=http://typo.status.localhost`, `${p}.allwo=${HOSTILE}`];
  for (const labels of [good, typo]) {
    containers.push(await docker('run', '-d', ...labels.flatMap((label) => ['--label', label]), 'busybox:local', 'sleep', '600'));
  }
  await waitFor(async () => ((await http(port, APP, '/', { headers: { accept: 'application/json' } })).status === 401 ? true : undefined), 'the labelled container to be published');
  // A refusal to list: bob is signed in, and denied by group:staff.
  const refused = await signInViaHttp(`http://${APP}:${port}/secret`, 'bob', 'bob-password', new CookieJar());
  expect(refused.response.status).toBe(403);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (containers.length > 0) await docker('rm', '-f', ...containers).catch(() => undefined);
  await gh?.stop();
  await upstream?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('the admin status page', () => {
  it('shows the running table, rejections, conflicts, networks, certificates, discovery and refusals; hostile labels stay text', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      const response = await page.goto(`http://127.0.0.1:${gh.adminPort}/status`);
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('Status · Gatehouse');
      const routes = page.locator('h2#routes + table');
      const appRow = routes.locator('tr', { hasText: APP });
      expect(await appRow.count()).toBe(1);
      expect(await appRow.textContent()).toContain('live');
      expect(await appRow.textContent()).toContain('allow *; deny group:staff');
      expect(await routes.locator('tr', { hasText: FILE_HOST }).textContent()).toContain('the routes file');

      const rejected = await page.locator('h2#rejected + table').textContent();
      expect(rejected).toContain(`${gh.prefix}.allwo`);
      expect(rejected).toMatch(/did you mean .*allow/);
      expect(await page.locator('h2#conflicts + table').textContent()).toContain(FILE_HOST);
      expect(await page.locator('h2#networks + table').textContent()).toMatch(new RegExp(`${APP}.*bridge`));
      expect(await page.locator('h2#certificates + table').textContent()).toMatch(new RegExp(`${APP}.*\\((9|10) days\\)`));
      expect(await page.locator('#discovery-state').textContent()).toBe('up');
      const refusals = await page.locator('h2#refusals + table').textContent();
      expect(refusals).toContain('bob@example.com');
      expect(refusals).toContain(`GET ${APP}/secret`);
      expect(refusals).toContain('denied by group:staff');

      // The hostile label is shown as the text it is, and nothing of it ran.
      expect(await page.locator('body').textContent()).toContain(HOSTILE);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.locator('main script, main img').count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    } finally {
      await context.close();
    }
  });

  it('is not reachable through the proxy listener', async () => {
    const response = await http(port, `127.0.0.1:${port}`, '/status');
    expect(response.status).toBe(404);
  });
});

describe('the commands read the running instance', () => {
  const cliEnv = () => ({ ...process.env, GATEHOUSE_LABEL_PREFIX: gh.prefix, GATEHOUSE_CONFIG: join(workDir, 'routes.yml'), GATEHOUSE_ADMIN_URL: `http://127.0.0.1:${gh.adminPort}` });

  it('gatehouse routes says it read the running Gatehouse, and prints its table', async () => {
    const result = await run(process.execPath, ['dist/cli/main.js', 'routes', '--json'], { env: cliEnv() }).catch((error: { stdout: string; stderr: string; code: number }) => error);
    expect(result.stderr).toContain(`read from the running Gatehouse at http://127.0.0.1:${gh.adminPort}`);
    const report = JSON.parse(result.stdout) as { routes: Array<{ urls: string[]; state: string }>; rejected: Array<{ code: string }> };
    expect(report.routes.find((r) => r.urls.includes(`http://${APP}/`))?.state).toBe('live');
    expect(report.rejected.map((issue) => issue.code)).toEqual(expect.arrayContaining(['unknown_key', 'conflict']));
  });

  it('gatehouse routes falls back to building the table, and says so, when the instance reads other labels', async () => {
    const result = await run(process.execPath, ['dist/cli/main.js', 'routes', '--json'], { env: { ...cliEnv(), GATEHOUSE_LABEL_PREFIX: `${gh.prefix}x` } }).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(result.stderr).toMatch(/reads other settings.*building the table from Docker/);
  });

  it('gatehouse explain names the route, the deciding entry and where the request goes', async () => {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli/main.js', 'explain', '--user', 'bob@example.com', '--groups', 'staff', `http://${APP}/secret`], { env: cliEnv() });
    expect(stderr).toContain('asked the running Gatehouse');
    expect(stdout).toContain('decision: refused (denied, entry "group:staff")');
    expect(stdout).toContain('answer:   403');
    expect(stdout).toMatch(/goes to: {2}http:\/\/[\d.]+:80 on network bridge/);
    const local = await run(process.execPath, ['dist/cli/main.js', 'explain', '--local', '--user', 'carol@example.com', `http://${APP}/`], { env: cliEnv() });
    expect(local.stdout).toContain('decision: allowed (allowed, entry "*")');
  });
});
