import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from '../../helpers/http.ts';
import { docker, ECHO_IMAGE, ensureEchoImage, parseEcho } from '../../helpers/images.ts';

/**
 * A single-node Swarm: Gatehouse (built dist/, in a container on an attachable overlay network)
 * serves a replicated service published only through its deploy labels, follows it as it is
 * scaled, and leaves out a task that fails its health check. The swarm is left as found: when
 * this test initialised it, it leaves it.
 */

const id = randomBytes(3).toString('hex');
const prefix = `ghsw${id}`;
const network = `ghsw-${id}`;
const gatehouse = `ghsw-${id}-gatehouse`;
const web = `ghsw-${id}-web`;
const picky = `ghsw-${id}-picky`;
const host = (name: string) => `${name}-${id}.gh.test`;
const root = resolve(import.meta.dirname, '../../..');
let initialised = false;
let hadGatewayBridge = true;
let port: number;

/** Deploy labels only (`docker service create --label`): the task containers carry none of them. */
async function createService(name: string, replicas: number, extra: string[] = []): Promise<void> {
  await docker(
    'service', 'create', '-d', '--no-resolve-image', '--quiet',
    '--name', name,
    '--network', network,
    '--replicas', String(replicas),
    '--label', `${prefix}.from=http://${host(name === web ? 'web' : 'picky')}`,
    '--label', `${prefix}.public=true`,
    '--label', `${prefix}.port=80`,
    '--env', 'SLOT={{.Task.Slot}}',
    ...extra,
    ECHO_IMAGE,
  );
}

/** The hostnames (task containers) answering `count` requests in a row. */
async function answering(name: string, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const response = await http(port, host(name), '/cgi-bin/echo');
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    seen.add(parseEcho(response.body).HOSTNAME!);
  }
  return seen;
}

beforeAll(async () => {
  await ensureEchoImage();
  hadGatewayBridge = (await docker('network', 'ls', '--format', '{{.Name}}')).split('\n').includes('docker_gwbridge');
  if ((await docker('info', '--format', '{{.Swarm.LocalNodeState}}')) !== 'active') {
    await docker('swarm', 'init').catch(() => docker('swarm', 'init', '--advertise-addr', '127.0.0.1'));
    initialised = true;
  }
  await docker('network', 'create', '--driver', 'overlay', '--attachable', network);
  const modules = realpathSync(join(root, 'node_modules'));
  await docker(
    'run', '-d', '--name', gatehouse,
    '--network', network,
    '-p', '127.0.0.1::8080',
    '-v', '/var/run/docker.sock:/var/run/docker.sock',
    '-v', `${root}:${root}:ro`,
    '-v', `${modules}:${modules}:ro`,
    '-w', root,
    '-e', `GATEHOUSE_LABEL_PREFIX=${prefix}`,
    '-e', 'GATEHOUSE_DATA_DIR=/tmp/gatehouse',
    // Tasks starting on a node raise container events; the resync is the safety net.
    '-e', 'GATEHOUSE_DOCKER_RESYNC=2s',
    'node:24-bookworm-slim', 'node', 'dist/cli/main.js', 'serve',
  );
  port = Number((await docker('port', gatehouse, '8080/tcp')).split('\n')[0]!.split(':').pop());
  await waitFor(async () => ((await http(port, host('web'), '/').catch(() => null))?.status === 404 ? true : undefined), 'Gatehouse in its container to answer', 60_000, 200);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([docker('service', 'rm', web), docker('service', 'rm', picky)]);
  await docker('rm', '-f', gatehouse).catch(() => undefined);
  // Tasks leave the overlay network shortly after their service is removed.
  await waitFor(async () => ((await docker('network', 'rm', network).then(() => true, () => false)) ? true : undefined), 'the overlay network to be free', 60_000, 500).catch(() => undefined);
  if (initialised) {
    // Right after services go, the manager may still be busy with them: leaving is retried.
    await waitFor(async () => ((await docker('swarm', 'leave', '--force').then(() => true, () => false)) ? true : undefined), 'leaving the swarm', 60_000, 1_000);
    // `swarm init` made this bridge; it goes with the swarm.
    if (!hadGatewayBridge) await docker('network', 'rm', 'docker_gwbridge').catch(() => undefined);
  }
}, 180_000);

describe('Swarm services published through deploy labels', () => {
  it('serves a replicated service on its tasks, and follows scaling up and down', async () => {
    await createService(web, 2);
    await waitFor(async () => ((await answering('web', 6).catch(() => new Set())).size === 2 ? true : undefined), 'both tasks to serve', 120_000, 500);
    await docker('service', 'scale', '-d', `${web}=3`);
    await waitFor(async () => ((await answering('web', 9).catch(() => new Set())).size === 3 ? true : undefined), 'three tasks to serve', 120_000, 500);
    await docker('service', 'scale', '-d', `${web}=1`);
    await waitFor(async () => ((await answering('web', 6).catch(() => new Set())).size === 1 ? true : undefined), 'one task to serve', 120_000, 500);
  }, 400_000);

  it('leaves out a task that fails its health check', async () => {
    // Slot 1 passes its check; slot 2 never does (Swarm keeps it starting, then replaces it).
    await createService(picky, 2, ['--health-cmd', 'test "$SLOT" = 1', '--health-interval', '1s', '--health-retries', '2', '--health-start-period', '0s']);
    await waitFor(async () => ((await answering('picky', 1).catch(() => new Set())).size === 1 ? true : undefined), 'the healthy task to serve', 120_000, 500);
    const states = await docker('service', 'ps', picky, '--filter', 'desired-state=running', '--format', '{{.Name}} {{.CurrentState}}');
    expect(states).toMatch(/\.2 (Starting|Preparing|Assigned|Pending|Ready|New)/);
    const seen = await answering('picky', 10);
    expect(seen.size).toBe(1);
  }, 300_000);
});
