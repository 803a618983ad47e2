import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTableOnce } from '../../src/cli/table.ts';
import { docker, PrivateDockerEngine, removeContainers, uniquePrefix } from '../helpers/docker-watcher.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';
import { ECHO_IMAGE, ensureEchoImage } from '../helpers/images.ts';
import { createTestCa } from '../helpers/test-ca.ts';

/**
 * Two Docker engines watched at once (GATEHOUSE_DOCKER_HOSTS): the shared engine, which Gatehouse
 * runs beside, and a private dockerd in a network namespace of its own, which stands for another
 * machine. That machine is joined to this one by a veth pair only, so its containers are reachable
 * at their published ports on its address and nowhere else; Gatehouse reads its engine over TCP
 * with TLS client certificates from a test CA, as a remote engine is read in real life. The
 * private engine is stopped and started for real; the shared one and its other containers are
 * never touched.
 */
const sh = promisify(execFile);
const prefix = uniquePrefix();
const link = randomBytes(3).toString('hex');
const subnet = `10.213.${randomInt(1, 250)}`;
const hostAddress = `${subnet}.1`;
const engineAddress = `${subnet}.2`;
const dir = path.join('/tmp', `${prefix}-tls`);
const serverDir = path.join(dir, 'server');
const clientDir = path.join(dir, 'client');
const engine = new PrivateDockerEngine(prefix, [
  '--tlsverify',
  `--tlscacert=${path.join(serverDir, 'ca.pem')}`,
  `--tlscert=${path.join(serverDir, 'cert.pem')}`,
  `--tlskey=${path.join(serverDir, 'key.pem')}`,
  '--host=tcp://0.0.0.0:2376',
]);
const id = randomBytes(3).toString('hex');
const host = (name: string) => `${name}-${id}.gh.test`;
let gh: TestGatehouse;

/** Joins the engine's namespace to this one with a fresh veth pair (a restarted engine has a new namespace). */
async function joinEngineNetwork(): Promise<void> {
  const pid = engine.pid;
  if (pid === null) throw new Error('the private engine is not running');
  await sh('ip', ['link', 'del', `ghv${link}`]).catch(() => undefined);
  await sh('ip', ['link', 'add', `ghv${link}`, 'type', 'veth', 'peer', 'name', `ghp${link}`]);
  await sh('ip', ['link', 'set', `ghp${link}`, 'netns', String(pid)]);
  await sh('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', `ghv${link}`]);
  await sh('ip', ['link', 'set', `ghv${link}`, 'up']);
  await sh('nsenter', ['-t', String(pid), '-n', 'sh', '-c', `ip addr add ${engineAddress}/30 dev ghp${link} && ip link set ghp${link} up && ip link set lo up`]);
}

async function startEngine(): Promise<void> {
  await engine.start();
  await joinEngineNetwork();
}

/** A web app on the shared engine, on its default bridge, served at `host(name)`. */
const runShared = (name: string) =>
  docker(['run', '-d', '--name', `${prefix}-${name}`, '--stop-timeout', '1', '--label', `${gh.prefix}.from=http://${host(name)}`, '--label', `${gh.prefix}.public=true`, ECHO_IMAGE]);

/** A web app on the other machine answering "remote <name>", optionally publishing its port 80. */
const runRemote = (name: string, publish: string | null) =>
  docker(
    [
      'run', '-d', '--name', `${prefix}-${name}`, '--network', 'ghnet', '--stop-timeout', '1',
      ...(publish === null ? [] : ['-p', `${publish}:80`]),
      '--label', `${gh.prefix}.from=http://${host(name)}`, '--label', `${gh.prefix}.public=true`, '--label', `${gh.prefix}.port=80`,
      'busybox:local', 'sh', '-c', `mkdir -p /www && echo "remote ${name}" > /www/index.html && exec httpd -f -p 80 -h /www`,
    ],
    engine.dockerHost,
  );

const get = (name: string) => http(gh.proxyPort, host(name), '/');
async function answers(name: string, status: number, body?: string | RegExp) {
  let last = { status: 0, body: '' };
  try {
    return await waitFor(
      async () => {
        const res = await get(name);
        last = res;
        const bodyMatches = body === undefined || (typeof body === 'string' ? res.body === body : body.test(res.body));
        return res.status === status && bodyMatches ? res : undefined;
      },
      `${host(name)} to answer ${status}${body === undefined ? '' : ` ${String(body).trim()}`}`,
      40_000,
      100,
    );
  } catch (error) {
    // What Gatehouse saw, so a failure here says why rather than only that it timed out.
    const logs = gh.logs.slice(-15).map((line) => JSON.stringify(line)).join('\n');
    throw new Error(`${(error as Error).message}; last answer ${last.status} ${last.body.slice(0, 200)}; readiness ${JSON.stringify(await readiness())}; routes ${(await admin("/api/routes")).body.slice(0, 3000)}\n${logs}`);
  }
}

async function admin(pathname: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${gh.adminPort}${pathname}`);
  return { status: res.status, body: await res.text() };
}

interface Readiness {
  ready: boolean;
  engines: Record<string, { state: string; listed: boolean; message?: string; lastError: string | null }>;
}
const readiness = async () => JSON.parse((await admin('/readyz')).body) as Readiness;
const engineUp = async (name: string) => {
  const match = new RegExp(`^gatehouse_docker_engine_up\\{engine="${name}"\\} (\\d)$`, 'm').exec((await admin('/metrics')).body);
  return match ? Number(match[1]) : null;
};

beforeAll(async () => {
  await ensureEchoImage();
  const ca = createTestCa('Gatehouse engines test CA');
  const server = ca.issue({ names: [engineAddress], commonName: 'private engine' });
  const client = ca.issue({ names: [], commonName: 'gatehouse' });
  mkdirSync(serverDir, { recursive: true });
  mkdirSync(clientDir, { recursive: true });
  for (const [folder, leaf] of [[serverDir, server], [clientDir, client]] as const) {
    writeFileSync(path.join(folder, 'ca.pem'), ca.certPem);
    writeFileSync(path.join(folder, 'cert.pem'), leaf.certPem);
    writeFileSync(path.join(folder, 'key.pem'), leaf.keyPem, { mode: 0o600 });
  }
  await startEngine();
  await sh('sh', ['-c', `docker save busybox:local | docker -H ${engine.dockerHost} load -q`]);
  // The other machine's own bridge: its container addresses mean nothing on this machine.
  await docker(['network', 'create', 'ghnet'], engine.dockerHost);
  gh = await startTestGatehouse({
    GATEHOUSE_DOCKER_HOSTS: `local=unix:///var/run/docker.sock, private=tcp://${engineAddress}:2376`,
    GATEHOUSE_DOCKER_TLS_VERIFY_PRIVATE: '1',
    GATEHOUSE_DOCKER_CERT_PATH_PRIVATE: clientDir,
  });
}, 120_000);

afterAll(async () => {
  await gh?.stop();
  await removeContainers(prefix);
  try {
    if (!(await engine.answers())) await engine.start();
    const ids = (await docker(['ps', '-aq'], engine.dockerHost)).split('\n').filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids], engine.dockerHost);
  } finally {
    await engine.stop();
    engine.remove();
    await sh('ip', ['link', 'del', `ghv${link}`]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('several Docker engines watched at once', { timeout: 120_000 }, () => {
  it('serves a container started on either engine; the remote one at its published port on its machine', async () => {
    await runShared('local-a');
    await runRemote('remote-a', '18080');
    await answers('local-a', 200, 'ok\n');
    await answers('remote-a', 200, 'remote remote-a\n');

    const ready = await readiness();
    expect(ready.ready).toBe(true);
    expect(ready.engines.local).toMatchObject({ state: 'up', listed: true });
    expect(ready.engines.private).toMatchObject({ state: 'up', listed: true });
    expect(await engineUp('private')).toBe(1);
    expect(await engineUp('local')).toBe(1);

    const routes = JSON.parse((await admin('/api/routes')).body) as { routes: Array<{ urls: string[]; upstreams: Array<{ origin: string }> }> };
    const remote = routes.routes.find((route) => route.urls.some((url) => url.includes(host('remote-a'))));
    expect(remote?.upstreams.map((target) => target.origin)).toEqual([`http://${engineAddress}:18080`]);

    // `gatehouse routes` without a running instance reads every engine the same way.
    const once = await buildTableOnce(gh.config, 'routes');
    const listed = once.table.routes.find((route) => route.hosts.includes(host('remote-a')));
    expect(listed?.upstreams.map((target) => target.origin)).toEqual([`http://${engineAddress}:18080`]);
    expect(once.table.routes.some((route) => route.hosts.includes(host('local-a')))).toBe(true);
  });

  it('holds a remote container closed when it publishes no port, never routing to its bridge address', async () => {
    await runRemote('remote-closed', null);
    // Created, then running: "not running" for a moment, then held closed as misconfigured.
    const res = await answers('remote-closed', 503, /The app is misconfigured/);
    expect(res.body).not.toContain('remote remote-closed');
    const routes = (await admin('/api/routes')).body;
    expect(routes).toMatch(/runs on Docker engine \\"private\\", another machine, and publishes no port for 80 there/);
  });

  it('keeps the other engine live and updating while one engine is down, and reports which', async () => {
    await engine.stop();
    const down = await waitFor(
      async () => {
        const ready = await readiness();
        return ready.engines.private?.state === 'degraded' ? ready : undefined;
      },
      'the private engine reported down',
      30_000,
      100,
    );
    // Ready still: every engine was listed once; the one that went away keeps its last routes.
    expect(down.ready).toBe(true);
    expect(down.engines.private?.message).toMatch(/Docker engine "private" is down since .*its last routes stay live/);
    expect(down.engines.local?.state).toBe('up');
    expect(await engineUp('private')).toBe(0);
    expect(await engineUp('local')).toBe(1);

    // The local engine's routes are untouched, and a new local container still goes live.
    await answers('local-a', 200, 'ok\n');
    await runShared('local-b');
    await answers('local-b', 200, 'ok\n');
    // The remote route is still in the table, as it was: its machine is unreachable now, but an
    // engine that goes away keeps its last routes (an HTTP answer would come from whatever this
    // sandbox routes the vanished address to, so the table is what is checked).
    const routes = JSON.parse((await admin('/api/routes')).body) as { routes: Array<{ urls: string[]; upstreams: Array<{ origin: string }> }> };
    const remote = routes.routes.find((route) => route.urls.some((url) => url.includes(host('remote-a'))));
    expect(remote?.upstreams.map((target) => target.origin)).toEqual([`http://${engineAddress}:18080`]);
  });

  it('lists the engine afresh once it is back, and its new containers go live', async () => {
    await startEngine();
    await runRemote('remote-b', '18081');
    await answers('remote-b', 200, 'remote remote-b\n');
    const ready = await readiness();
    expect(ready.engines.private?.state).toBe('up');
    expect(await engineUp('private')).toBe(1);
    await answers('local-b', 200, 'ok\n');
  });
});
