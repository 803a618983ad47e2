import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../helpers/browser.ts';
import { buildGatehouseImage, GATEHOUSE_ROOT } from '../../helpers/gatehouse-image.ts';
import { http, waitFor } from '../../helpers/http.ts';
import { CookieJar, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { usersYaml } from '../../helpers/idp-app.ts';
import { freePort } from '../../helpers/free-port.ts';
import { docker } from '../../helpers/images.ts';
import { ensureRedisImage, REDIS_IMAGE } from '../../helpers/redis-image.ts';
import { ensureSocketProxyImage, SOCKET_PROXY_TEST_IMAGE } from '../../helpers/socket-proxy-image.ts';
import { ensureWhoamiImage, WHOAMI_IMAGE, whoamiPeer } from '../../helpers/whoami-image.ts';

/**
 * examples/swarm/stack.yml deployed as written with `docker stack deploy` on a single-node swarm,
 * with only its documented overrides (images, names, port, users file) and secrets: three
 * Gatehouse replicas sharing the stack's redis-server, the socket proxy, and a whoami app that
 * answers the address of the replica that forwarded each request.
 *
 * Clients reach the replicas through a layer-4 balancer on the stack's "apps" network (see
 * mesh-stand-in.mjs): where the kernel has IPVS, "through the mesh" is the stack's own published
 * port; where it has none (Swarm then cannot forward a published port at all), the stand-in takes
 * its place. The stand-in also reaches each replica on its own port, so the test can ask one.
 */

const id = randomBytes(3).toString('hex');
const stack = `ghst${id}`;
const image = `gatehouse-test-stack:${id}`;
const standIn = `${stack}-mesh`;
const SECRETS = ['gatehouse-redis-url', 'gatehouse-secret'];
const ipvs = existsSync('/proc/net/ip_vs');
const JSON_ACCEPT = { accept: 'application/json' };

let workDir: string;
let initialised = false;
let hadGatewayBridge = true;
let front = 0;
let meshPort = 0;
const pinned: number[] = [];
let browser: Browser | undefined;
const appHost = () => `whoami.${stack}.gh.localhost:${front}`;
const appUrl = (path = '/cgi-bin/whoami') => `http://${appHost()}${path}`;

beforeAll(async () => {
  await Promise.all([buildGatehouseImage(image), ensureSocketProxyImage(), ensureRedisImage(), ensureWhoamiImage()]);
  hadGatewayBridge = (await docker('network', 'ls', '--format', '{{.Name}}')).split('\n').includes('docker_gwbridge');
  if ((await docker('info', '--format', '{{.Swarm.LocalNodeState}}')) !== 'active') {
    await docker('swarm', 'init').catch(() => docker('swarm', 'init', '--advertise-addr', '127.0.0.1'));
    initialised = true;
  }
  workDir = await mkdtemp(join(tmpdir(), 'gh-stack-'));
  const usersFile = join(workDir, 'users.yml');
  await writeFile(
    usersFile,
    await usersYaml({
      demo: { email: 'demo@example.com', groups: ['demo'], password: 'demo-password' },
      victim: { email: 'victim@example.com', groups: ['demo'], password: 'victim-password' },
    }),
  );
  // The secrets as the stack file's header creates them.
  await dockerWithInput(`redis://:${randomBytes(24).toString('hex')}@redis:6379/0`, 'secret', 'create', SECRETS[0]!, '-');
  await dockerWithInput(randomBytes(32).toString('base64'), 'secret', 'create', SECRETS[1]!, '-');
  meshPort = await freePort();
  const standInPort = await freePort();
  front = ipvs ? meshPort : standInPort;
  await dockerEnv(
    {
      GATEHOUSE_IMAGE: image,
      GATEHOUSE_SOCKET_PROXY_IMAGE: SOCKET_PROXY_TEST_IMAGE,
      REDIS_IMAGE,
      WHOAMI_IMAGE,
      GATEHOUSE_PORT: String(meshPort),
      GATEHOUSE_AUTH_URL: `http://auth.${stack}.gh.localhost:${front}`,
      WHOAMI_FROM: `http://whoami.${stack}.gh.localhost:${front}`,
      GATEHOUSE_USERS_YML: usersFile,
    },
    'stack', 'deploy', '-c', join(GATEHOUSE_ROOT, 'examples/swarm/stack.yml'), stack,
  );
  await docker(
    'run', '-d', '--name', standIn, '--network', `${stack}_apps`,
    '-p', `127.0.0.1:${standInPort}:8080`, '-p', '127.0.0.1::8081', '-p', '127.0.0.1::8082', '-p', '127.0.0.1::8083',
    '-v', `${join(import.meta.dirname, 'mesh-stand-in.mjs')}:/mesh-stand-in.mjs:ro`,
    '-e', `TARGET=tasks.${stack}_gatehouse`, '-e', 'PINNED=3',
    'node:24-bookworm-slim', 'node', '/mesh-stand-in.mjs',
  );
  for (const port of [8081, 8082, 8083]) pinned.push(Number((await docker('port', standIn, `${port}/tcp`)).split('\n')[0]!.split(':').pop()));
  await allReplicasServing();
  browser = await launchBrowser();
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await docker('rm', '-f', standIn).catch(() => undefined);
  await docker('stack', 'rm', stack).catch(() => undefined);
  // The stack's networks and volume go once its tasks have stopped.
  await waitFor(
    async () => ((await docker('network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`)) === '' ? true : undefined),
    'the stack networks to go', 90_000, 500,
  ).catch(() => undefined);
  await waitFor(async () => ((await docker('volume', 'rm', `${stack}_redis-data`).then(() => true, (e: unknown) => /no such volume/i.test(String(e)))) ? true : undefined), 'the Redis volume to be free', 30_000, 500).catch(() => undefined);
  await Promise.allSettled(SECRETS.map((name) => docker('secret', 'rm', name)));
  if (initialised) {
    await waitFor(async () => ((await docker('swarm', 'leave', '--force').then(() => true, () => false)) ? true : undefined), 'leaving the swarm', 60_000, 1_000);
    if (!hadGatewayBridge) await docker('network', 'rm', 'docker_gwbridge').catch(() => undefined);
  }
  await docker('rmi', image).catch(() => undefined);
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}, 240_000);

/**
 * Three replicas healthy, Swarm's DNS (what the stand-in balances over) listing exactly their
 * addresses, and every port reaching a Gatehouse that serves the app's route (401 without a session).
 */
async function allReplicasServing(): Promise<void> {
  await waitFor(async () => {
    const healthy = await healthyReplicaAddresses();
    if (healthy.length !== 3) return undefined;
    // Looked up as the stand-in looks it up.
    const script = `require('node:dns').lookup('tasks.${stack}_gatehouse', { all: true, family: 4 }, (e, found) => console.log(e ? '' : found.map((f) => f.address).join(' ')))`;
    const listed = (await docker('exec', standIn, 'node', '-e', script)).split(' ').filter(Boolean);
    if (new Set(listed).size !== 3 || !healthy.every((address) => listed.includes(address))) return undefined;
    for (const port of [front, ...pinned]) if ((await http(port, appHost(), '/cgi-bin/whoami', { headers: JSON_ACCEPT }).catch(() => null))?.status !== 401) return undefined;
    return true;
  }, 'three healthy Gatehouse replicas to serve the stack', 300_000, 1_000);
}

/** The apps-network addresses of the Gatehouse containers whose health check passes. */
async function healthyReplicaAddresses(): Promise<string[]> {
  const containers = await gatehouseContainers();
  if (containers.length === 0) return [];
  const lines = await docker('inspect', '-f', `{{.State.Health.Status}} {{(index .NetworkSettings.Networks "${stack}_apps").IPAddress}}`, ...containers);
  return lines.split('\n').filter((line) => line.startsWith('healthy ')).map((line) => line.split(' ')[1]!);
}

async function get(port: number, cookie: string | undefined, path = '/cgi-bin/whoami') {
  return http(port, appHost(), path, { headers: { ...JSON_ACCEPT, ...(cookie === undefined ? {} : { cookie }) } });
}

/** Signs out through the confirmation page and its form, on one replica. */
async function signOut(port: number, cookie: string): Promise<void> {
  const page = await http(port, appHost(), '/.iap/sign_out', { headers: { accept: 'text/html', cookie } });
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  expect(action, page.body).toBeDefined();
  const posted = await http(port, appHost(), action!.replaceAll('&amp;', '&'), { method: 'POST', headers: { accept: 'text/html', cookie } });
  expect(posted.status).toBe(303);
}

async function httpSignIn(user = 'demo', password = 'demo-password', connectPort?: number) {
  const jar = new CookieJar();
  const result = await signInViaHttp(appUrl(), user, password, jar, { headers: { connection: 'close' }, connectPort });
  return { result, cookie: jar.header(new URL(appUrl())) };
}

/** /readyz of one running replica, read inside its container (the admin listener is on its loopback). */
async function readyz(container: string): Promise<{ identity: { sharedState?: { state: string } } }> {
  return JSON.parse(await docker('exec', container, 'node', '-e', "fetch('http://127.0.0.1:9090/readyz').then(async (r) => console.log(await r.text()))")) as never;
}

async function gatehouseContainers(): Promise<string[]> {
  return (await docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_gatehouse`)).split('\n').filter(Boolean);
}

describe('examples/swarm/stack.yml: three Gatehouse replicas sharing the stack Redis', () => {
  it('a browser signs in through the mesh, and its session is accepted by all three replicas over fresh connections', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await page.goto(appUrl());
      await page.getByLabel('Username or email').fill('demo');
      await page.getByLabel('Password').fill('demo-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(appUrl());
      expect(await page.textContent('body')).toMatch(/RemoteAddr: .*\d+\.\d+\.\d+\.\d+/);
      const cookie = (await context.cookies(appUrl())).map((c) => `${c.name}=${c.value}`).join('; ');
      const peers = new Set<string>();
      for (let i = 0; i < 12; i += 1) {
        const response = await get(front, cookie);
        expect(response.status).toBe(200);
        peers.add(whoamiPeer(response.body)!);
      }
      expect(peers.size).toBeGreaterThanOrEqual(3);
      // Each replica on its own port accepts it too, and they are three different replicas.
      const byReplica = await Promise.all(pinned.map(async (port) => whoamiPeer((await get(port, cookie)).body)));
      expect(new Set(byReplica).size).toBe(3);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('a sign-out through one replica is refused on all within one second', async () => {
    const { cookie } = await httpSignIn();
    for (const port of pinned) expect((await get(port, cookie)).status).toBe(200);
    await signOut(pinned[0]!, cookie!);
    const signedOutAt = Date.now();
    for (const port of [pinned[1]!, pinned[2]!, pinned[0]!]) {
      await waitFor(async () => ((await get(port, cookie)).status === 401 ? true : undefined), `the replica on ${port} to refuse the signed-out session`, 1_000, 10);
    }
    expect(Date.now() - signedOutAt).toBeLessThan(1_000);
  });

  it('a sign-in link used on one replica is refused on another', async () => {
    const jar = new CookieJar();
    const captured = await signInViaHttp(appUrl(), 'demo', 'demo-password', jar, { headers: { connection: 'close' }, stopAt: (next) => next.pathname === '/.iap/callback' });
    expect(captured.url.pathname).toBe('/.iap/callback');
    const cookie = jar.header(captured.url);
    const use = (port: number) => http(port, appHost(), captured.url.pathname + captured.url.search, { headers: { accept: 'text/html', ...(cookie === undefined ? {} : { cookie }) } });
    expect((await use(pinned[1]!)).status).toBe(302);
    const second = await use(pinned[2]!);
    expect(second.status).toBe(400);
    expect(second.body).toContain('This sign-in link cannot be used');
  });

  it('sign-in failures add up across replicas: five wrong passwords spread over the three lock the account on each', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const { result } = await httpSignIn('victim', 'wrong-password', pinned[attempt % 3]);
      expect(result.submittedLogin).toBe(true);
      expect(result.response.status).not.toBe(200);
    }
    for (const port of pinned) {
      const { result } = await httpSignIn('victim', 'victim-password', port);
      expect(result.response.status, `replica on ${port}`).toBe(429);
      expect(result.body).toContain('Too many attempts');
    }
  }, 90_000);

  it('killing a replica under load fails no more requests than the connections it held, and new requests succeed afterwards', async () => {
    const { cookie } = await httpSignIn();
    const containers = await gatehouseContainers();
    const victim = containers[0]!;
    const victimAddress = await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${stack}_apps").IPAddress}}`, victim);
    const load = await keepAliveLoad({ port: front, cookie: cookie!, connections: 9, durationMs: 15_000, killAtMs: 5_000, victimAddress, kill: () => docker('kill', victim) });
    console.log(`replica killed under load: ${JSON.stringify(load)}`);
    expect(load.heldByVictim).toBeGreaterThan(0);
    expect(load.ok).toBeGreaterThan(100);
    // One in-flight request at most per connection the killed replica held; nothing else fails.
    expect(load.failed).toBeLessThanOrEqual(load.heldByVictim);
    // Swarm starts a replacement; three replicas serve again.
    await allReplicasServing();
    const peers = new Set<string>();
    for (let i = 0; i < 9; i += 1) {
      const response = await get(front, cookie);
      expect(response.status).toBe(200);
      peers.add(whoamiPeer(response.body)!);
    }
    expect(peers.size).toBe(3);
  }, 360_000);

  it('with Redis stopped: sessions keep working, new sign-ins are refused with a clear page, /readyz reports it; all recovers when it returns', async () => {
    await allReplicasServing();
    try {
      await redisAwayAndBack();
    } catch (error) {
      console.log(await docker('service', 'ps', '--no-trunc', `${stack}_gatehouse`));
      const exited = (await docker('ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${stack}_gatehouse`, '--filter', 'status=exited')).split('\n').filter(Boolean);
      for (const container of exited.slice(0, 3)) console.log(container, await execText('docker', 'logs', '--tail', '25', container));
      throw error;
    }
  }, 240_000);
});

async function redisAwayAndBack(): Promise<void> {
  {
    const { cookie: kept } = await httpSignIn();
    await docker('service', 'scale', '-d', `${stack}_redis=0`);
    const containers = await gatehouseContainers();
    for (const container of containers) {
      await waitFor(async () => ((await readyz(container)).identity.sharedState?.state === 'unreachable' ? true : undefined), '/readyz to report Redis unreachable', 60_000, 500);
    }
    for (const port of pinned) expect((await get(port, kept)).status, `kept session on ${port}`).toBe(200);
    const refused = await httpSignIn();
    expect(refused.result.response.status).toBe(503);
    expect(refused.result.body).toContain('Sign-in is paused');
    expect(refused.result.submittedLogin).toBe(false);

    await docker('service', 'scale', '-d', `${stack}_redis=1`);
    for (const container of containers) {
      await waitFor(async () => ((await readyz(container)).identity.sharedState?.state === 'ready' ? true : undefined), '/readyz to report Redis back', 90_000, 500);
    }
    const again = await httpSignIn();
    expect(again.result.response.status).toBe(200);
    for (const port of pinned) expect((await get(port, again.cookie)).status).toBe(200);
    expect((await get(front, kept)).status).toBe(200);
  }
}

interface LoadResult {
  ok: number;
  /** Every request that failed at the socket, retried or not. */
  rawFailed: number;
  /** Requests that failed as a browser would show it: after its one retry of a request whose reused connection broke before any answer. */
  failed: number;
  /** Of those, failures on connections the killed replica did not hold. */
  failedElsewhere: number;
  /** Connections whose replica was the killed one at the moment of the kill. */
  heldByVictim: number;
  connectionsOpened: number;
  /** Each socket-level failure's message, counted. */
  errors: Record<string, number>;
}

/**
 * `connections` clients, each on its own keep-alive connection, send signed-in requests back to
 * back for `durationMs`; at `killAtMs` the replica at `victimAddress` is killed. A client follows
 * a browser's rule: a request whose reused connection closes before any answer is sent again,
 * once, on a new connection (Chromium's retry on a reused socket); any other failure is shown.
 */
async function keepAliveLoad(options: {
  port: number;
  cookie: string;
  connections: number;
  durationMs: number;
  killAtMs: number;
  victimAddress: string;
  kill: () => Promise<unknown>;
}): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, rawFailed: 0, failed: 0, failedElsewhere: 0, heldByVictim: 0, connectionsOpened: 0, errors: {} };
  const started = Date.now();
  const lastPeer: (string | undefined)[] = Array.from({ length: options.connections }, () => undefined);
  let killed = false;
  const killing = new Promise<void>((resolve, reject) => {
    setTimeout(() => {
      // The connections the killed replica holds: those it last answered on.
      result.heldByVictim = lastPeer.filter((peer) => peer === options.victimAddress).length;
      killed = true;
      options.kill().then(() => resolve(), reject);
    }, options.killAtMs);
  });
  const newAgent = () => {
    result.connectionsOpened += 1;
    return new Agent({ keepAlive: true, maxSockets: 1 });
  };
  const client = async (index: number) => {
    let agent = newAgent();
    while (Date.now() - started < options.durationMs) {
      const onVictim = () => killed && lastPeer[index] === options.victimAddress;
      let body: string | undefined;
      let heldByVictim = false;
      for (let attempt = 0; attempt < 2 && body === undefined; attempt += 1) {
        try {
          body = await once(agent, options.port, options.cookie);
        } catch (error) {
          result.rawFailed += 1;
          const what = `${(error as Error).message}${(error as { retryable?: boolean }).retryable ? ' (reused connection, retried)' : ''}`;
          result.errors[what] = (result.errors[what] ?? 0) + 1;
          heldByVictim ||= onVictim();
          agent.destroy();
          agent = newAgent();
          lastPeer[index] = undefined;
          if (!(error as { retryable?: boolean }).retryable) break;
        }
      }
      if (body === undefined) {
        result.failed += 1;
        if (!heldByVictim) result.failedElsewhere += 1;
        continue;
      }
      lastPeer[index] = whoamiPeer(body);
      result.ok += 1;
    }
    agent.destroy();
  };
  await Promise.all([...Array.from({ length: options.connections }, (_, index) => client(index)), killing]);
  return result;
}

function once(agent: Agent, port: number, cookie: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request({ host: '127.0.0.1', port, path: '/cgi-bin/whoami', agent, headers: { host: appHost(), accept: 'application/json', cookie }, timeout: 5_000 }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => reject(Object.assign(error, { retryable: req.reusedSocket && !answered })));
    req.end();
  });
}

/** stdout and stderr of a command, together. */
function execText(command: string, ...args: string[]): Promise<string> {
  return new Promise((resolve) => execFile(command, args, { maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => resolve(`${stdout}${stderr}${error ? ` (${error.message})` : ''}`)));
}

async function dockerEnv(env: Record<string, string>, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('docker', args, { env: { ...process.env, ...env }, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()))),
  );
}

async function dockerWithInput(input: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`docker ${args.join(' ')}: ${err}`))));
    child.stdin.end(input);
  });
}
