import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser, type Page } from '../helpers/browser.ts';
import { loopbackFetch } from '../helpers/http-sign-in.ts';
import { waitFor } from '../helpers/http.ts';
import { docker, ensureHttpbinStandIn, HTTPBIN_STAND_IN_IMAGE } from '../helpers/images.ts';
import { ensureSocketProxyBase } from '../helpers/socket-proxy-image.ts';
import { freePort } from '../integration/auth/support.ts';

/**
 * The README's quick start, for real: compose.example.yml brought up by Debian's docker-compose
 * (v1, which must read the same file as `docker compose`) with the README's start command, which
 * builds both Gatehouse images from this checkout, the built-in sign-in with examples/users.yml,
 * and Chromium signing in as the demo user. The built images get names of this run
 * (GATEHOUSE_IMAGE, GATEHOUSE_SOCKET_PROXY_IMAGE) so they can be removed afterwards; the httpbin
 * image (HTTPBIN_IMAGE) and the published port (GATEHOUSE_PORT) differ too.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const project = `ghqs${randomBytes(3).toString('hex')}`;
const GATEHOUSE_IMAGE = `gatehouse-test-quick-start:${project}`;
const SOCKET_PROXY_IMAGE = `gatehouse-test-quick-start-socket-proxy:${project}`;

let port: number;
let browser: Browser | undefined;
let page: Page;

async function compose(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('docker-compose', ['-f', 'compose.example.yml', '-p', project, ...args], {
    cwd: ROOT,
    env: { ...process.env, HTTPBIN_IMAGE: HTTPBIN_STAND_IN_IMAGE, GATEHOUSE_PORT: String(port), GATEHOUSE_IMAGE, GATEHOUSE_SOCKET_PROXY_IMAGE: SOCKET_PROXY_IMAGE },
    maxBuffer: 64 * 1024 * 1024,
  });
  return `${stdout}${stderr}`;
}

async function gatehouseLogs(): Promise<string> {
  return compose('logs', '--no-color', '--tail', '60', 'gatehouse').catch((error: unknown) => String(error));
}

const url = (host: string, path = '/') => `http://${host}:${port}${path}`;

beforeAll(async () => {
  port = await freePort();
  await ensureHttpbinStandIn();
  await ensureSocketProxyBase();
  // The README's start command (`up --build`), detached.
  await compose('up', '--build', '-d');
  // The route exists once the labelled container is discovered: sign-in required, not 404.
  await waitFor(
    async () => {
      const response = await loopbackFetch(url('httpbin.localhost'), { headers: { accept: 'application/json' } }).catch(() => null);
      return response?.status === 401 ? true : undefined;
    },
    'httpbin to be served by the containerised Gatehouse',
    90_000,
    500,
  ).catch(async (error: unknown) => {
    throw new Error(`${String(error)}\n${await gatehouseLogs()}`);
  });
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  // Containers, networks, the data volume and the image built above.
  await compose('down', '-v', '--timeout', '5');
  await Promise.allSettled([docker('rmi', GATEHOUSE_IMAGE), docker('rmi', SOCKET_PROXY_IMAGE)]);
}, 120_000);

async function bodyJson(target: Page): Promise<Record<string, unknown>> {
  return JSON.parse((await target.locator('body').textContent()) ?? '{}') as Record<string, unknown>;
}

describe('the compose quick start', () => {
  it("is started by the README's one command, which builds both images from the checkout under names that can be overridden", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(/Start \([^)]*\):\n\n```sh\n(.+)\n```/.exec(readme)?.[1]).toBe('docker compose -f compose.example.yml up --build');
    const file = await readFile(join(ROOT, 'compose.example.yml'), 'utf8');
    expect(file).toMatch(/^ {4}image: \$\{GATEHOUSE_IMAGE:-gatehouse:local\}\n {4}build: \.\n/m);
    expect(file).toMatch(/^ {4}image: \$\{GATEHOUSE_SOCKET_PROXY_IMAGE:-gatehouse-socket-proxy:local\}\n {4}build: \.\/socket-proxy\n/m);
    // The images this run started are the ones `--build` made from this checkout.
    expect((await docker('image', 'inspect', '--format', '{{.Id}}', GATEHOUSE_IMAGE)).trim()).toMatch(/^sha256:/);
    expect((await docker('image', 'inspect', '--format', '{{.Id}}', SOCKET_PROXY_IMAGE)).trim()).toMatch(/^sha256:/);
  });

  it('sends the browser to the built-in sign-in page, and on to httpbin as the demo user', async () => {
    await page.goto(url('httpbin.localhost'));
    await page.waitForURL((current) => current.host === `auth.localhost:${port}` && current.pathname.startsWith('/idp/interaction/'));
    expect(await page.title()).toBe('Sign in · Gatehouse');
    await page.getByLabel('Username or email').fill('demo');
    await page.getByLabel('Password').fill('gatehouse-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(url('httpbin.localhost'));
    const answer = await bodyJson(page);
    expect(answer['url']).toBe('/');
    expect(answer['headers']).toMatchObject({ 'X-Iap-Email': ['demo@example.com'], 'X-Iap-User': ['demo'], 'X-Iap-Groups': ['demo'] });

    await page.goto(url('httpbin.localhost', '/headers'));
    expect((await bodyJson(page))['headers']).toMatchObject({ 'X-Iap-Email': ['demo@example.com'], 'X-Iap-Name': ['Demo User'] });
  });

  it('signs out with one confirmation, after which the password is asked again', async () => {
    await page.goto(url('httpbin.localhost', '/.iap/sign_out'));
    expect(await page.locator('h1').textContent()).toBe('Sign out?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The built-in provider does not ask a second time.
    await page.waitForURL(url('auth.localhost', '/oauth2/signed_out'));
    expect(await page.locator('h1').textContent()).toBe('You are signed out');

    await page.goto(url('httpbin.localhost', '/headers'));
    await page.waitForURL((current) => current.host === `auth.localhost:${port}` && current.pathname.startsWith('/idp/interaction/'));
    expect(await page.locator('h1').textContent()).toBe('Sign in');
  });

  it('runs Gatehouse as a non-root user on a read-only root filesystem; users added with the CLI sign in without a restart', async () => {
    const id = (await compose('ps', '-q', 'gatehouse')).trim().split('\n').at(-1)!;
    const { stdout } = await run('docker', ['inspect', '-f', '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}', id]);
    expect(stdout.trim()).toBe('1000:1000 true');
    const { stdout: before } = await run('docker', ['exec', id, 'node', 'dist/cli/main.js', 'users', 'list']);
    expect(before).toBe('demo\tdemo@example.com\tdemo\n');

    // As the README shows it, with the password on stdin instead of typed twice.
    const added = await runWithInput('docker', ['exec', '-i', id, 'node', 'dist/cli/main.js', 'users', 'add', 'alex', '--email', 'alex@example.com', '--groups', 'demo'], 'alex-password-1\n');
    expect(added).toContain('added alex to /data/users.yml');

    const context = await browser!.newContext();
    try {
      const fresh = await context.newPage();
      await fresh.goto(url('httpbin.localhost', '/headers'));
      await fresh.getByLabel('Username or email').fill('alex');
      await fresh.getByLabel('Password').fill('alex-password-1');
      await fresh.getByRole('button', { name: 'Sign in' }).click();
      await fresh.waitForURL(url('httpbin.localhost', '/headers'));
      expect((await bodyJson(fresh))['headers']).toMatchObject({ 'X-Iap-Email': ['alex@example.com'] });
    } finally {
      await context.close();
    }
  });
});

function runWithInput(command: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(`${stdout}${stderr}`)));
    child.stdin?.end(input);
  });
}
