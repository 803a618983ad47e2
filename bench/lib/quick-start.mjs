import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import { freePort } from './processes.mjs';

/**
 * The quick start's memory as a user sees it: compose.example.yml brought up with the README's
 * command, `docker stats` of every container once idle, then after a sign-in through Chromium
 * and 10,000 signed-in requests. The figure the issue asks for is the sum of every container
 * except the app. Images: `images`, else GATEHOUSE_IMAGE and GATEHOUSE_SOCKET_PROXY_IMAGE when
 * set, otherwise both are built from this checkout (no registry needed). The app: HTTPBIN_IMAGE when set, else
 * busybox:local serving /etc on port 8080 (the app is not counted).
 */

const run = promisify(execFile);
const MIB = 2 ** 20;
const UNITS = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, kB: 1e3, MB: 1e6, GB: 1e9 };

export async function measureQuickStart({ root, dir, images = {}, requests = 10_000, concurrency = 10, log = () => {} }) {
  const project = `ghqsm${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const env = { ...process.env, GATEHOUSE_PORT: String(port) };
  if (images.gatehouse) env.GATEHOUSE_IMAGE = images.gatehouse;
  if (images.socketProxy) env.GATEHOUSE_SOCKET_PROXY_IMAGE = images.socketProxy;
  const built = [];
  if (!env.GATEHOUSE_IMAGE) {
    env.GATEHOUSE_IMAGE = `gatehouse-bench-quick-start:${project}`;
    log(`  building ${env.GATEHOUSE_IMAGE} from the Dockerfile…`);
    await docker(['build', '-q', '-t', env.GATEHOUSE_IMAGE, root]);
    built.push(env.GATEHOUSE_IMAGE);
  }
  if (!env.GATEHOUSE_SOCKET_PROXY_IMAGE) {
    env.GATEHOUSE_SOCKET_PROXY_IMAGE = `gatehouse-bench-socket-proxy:${project}`;
    log(`  building ${env.GATEHOUSE_SOCKET_PROXY_IMAGE} from socket-proxy/…`);
    await docker(['build', '-q', '-t', env.GATEHOUSE_SOCKET_PROXY_IMAGE, join(root, 'socket-proxy')]);
    built.push(env.GATEHOUSE_SOCKET_PROXY_IMAGE);
  }
  const files = ['-f', join(root, 'compose.example.yml')];
  let appPath = '/headers';
  if (!process.env.HTTPBIN_IMAGE) {
    const override = join(dir, 'quick-start-app.yml');
    writeFileSync(override, 'version: "3.8"\nservices:\n  httpbin:\n    image: busybox:local\n    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]\n    labels:\n      iap.port: "8080"\n');
    files.push('-f', override);
    appPath = '/hostname';
  }
  const compose = await composeCommand();
  const composeRun = (...args) => run(compose[0], [...compose.slice(1), ...files, '-p', project, ...args], { cwd: root, env, maxBuffer: 64 * MIB });
  const url = (host, path = '/') => `http://${host}:${port}${path}`;
  try {
    log(`  ${compose.join(' ')} -f compose.example.yml up -d (project ${project}, port ${port})`);
    await composeRun('up', '-d');
    await waitFor('the app behind the quick start', async () => (await get(port, 'httpbin.localhost', appPath)).status === 401, 120_000);
    await sleep(10_000);
    const idle = await stats(composeRun);

    log('  signing in as demo through Chromium…');
    const cookie = await signIn(url, appPath);
    const first = await get(port, 'httpbin.localhost', appPath, { cookie });
    if (first.status !== 200) throw new Error(`a signed-in request answered ${first.status}, not 200`);

    log(`  ${requests} signed-in requests, ${concurrency} at a time…`);
    let next = 0;
    const statuses = new Map();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < requests) {
          next += 1;
          const { status } = await get(port, 'httpbin.localhost', appPath, { cookie });
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    if (statuses.size !== 1 || !statuses.has(200)) throw new Error(`signed-in requests answered ${JSON.stringify(Object.fromEntries(statuses))}`);
    const after = await stats(composeRun);

    const containers = {};
    for (const [service, bytes] of Object.entries(after)) containers[service] = { idleBytes: idle[service] ?? null, afterLoadBytes: bytes };
    const totalWithoutAppBytes = Object.entries(after).filter(([service]) => service !== 'httpbin').reduce((sum, [, bytes]) => sum + bytes, 0);
    return { requests, containers, totalWithoutAppBytes, images: { gatehouse: env.GATEHOUSE_IMAGE, socketProxy: env.GATEHOUSE_SOCKET_PROXY_IMAGE } };
  } finally {
    await composeRun('down', '-v', '--timeout', '5').catch(() => undefined);
    for (const image of built) await docker(['rmi', image]).catch(() => undefined);
  }
}

/** service name → memory usage in bytes, as `docker stats` shows it (cgroup usage less page cache). */
async function stats(composeRun) {
  const ids = (await composeRun('ps', '-q')).stdout.trim().split('\n').filter(Boolean);
  const { stdout } = await docker(['stats', '--no-stream', '--format', '{{.ID}}\t{{.MemUsage}}', ...ids]);
  const byService = {};
  for (const line of stdout.trim().split('\n')) {
    const [id, usage] = line.split('\t');
    const { stdout: service } = await docker(['inspect', '-f', '{{index .Config.Labels "com.docker.compose.service"}}', id]);
    const [, value, unit] = /^([\d.]+)\s*([A-Za-z]+)/.exec(usage) ?? [];
    byService[service.trim()] = Number(value) * (UNITS[unit] ?? NaN);
  }
  return byService;
}

async function signIn(url, appPath) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url('httpbin.localhost', appPath));
    await page.getByLabel('Username or email').fill('demo');
    await page.getByLabel('Password').fill('gatehouse-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(url('httpbin.localhost', appPath));
    const cookies = await context.cookies(url('httpbin.localhost', appPath));
    return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  } finally {
    await browser.close();
  }
}

async function get(port, host, path, headers = {}) {
  const response = await request(`http://127.0.0.1:${port}${path}`, { headers: { host: `${host}:${port}`, accept: 'application/json', ...headers } });
  await response.body.dump();
  return { status: response.statusCode };
}

async function composeCommand() {
  try {
    await run('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    return ['docker-compose'];
  }
}

const docker = (args) => run('docker', args, { maxBuffer: 64 * MIB });

async function waitFor(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

