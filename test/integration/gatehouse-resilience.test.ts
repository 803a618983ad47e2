import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerSocketRelay } from '../helpers/docker-watcher.ts';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';
import { docker, ECHO_IMAGE, ensureEchoImage } from '../helpers/images.ts';

const id = randomBytes(3).toString('hex');
const host = (name: string) => `${name}-${id}.gh.test`;

describe('when the Docker connection breaks', () => {
  const relay = new DockerSocketRelay();
  let gh: TestGatehouse;
  const names: string[] = [];

  const runApp = async (name: string) => {
    const full = `gh-res-${id}-${name}`;
    names.push(full);
    await docker('run', '-d', '--name', full, '--label', `${gh.prefix}.from=http://${host(name)}`, '--label', `${gh.prefix}.public=true`, ECHO_IMAGE);
  };
  const status = async (name: string) => (await http(gh.proxyPort, host(name), '/')).status;
  const readyz = async () => JSON.parse((await http(gh.adminPort, '127.0.0.1', '/readyz')).body) as { discovery: { state: string; message?: string } };

  beforeAll(async () => {
    await ensureEchoImage();
    await relay.start();
    gh = await startTestGatehouse({ DOCKER_HOST: relay.dockerHost });
  });
  afterAll(async () => {
    await gh?.stop();
    await relay.kill();
    await Promise.allSettled(names.map((n) => docker('rm', '-f', n)));
  });

  it('keeps serving the last good routes while disconnected and catches up after reconnecting', async () => {
    await runApp('before');
    await waitFor(async () => ((await status('before')) === 200 ? true : undefined), 'the first route');

    await relay.kill();
    await waitFor(async () => ((await readyz()).discovery.state === 'degraded' ? true : undefined), '/readyz to report degraded discovery');
    expect((await readyz()).discovery.message).toMatch(/discovery degraded since/);
    const metrics = (await http(gh.adminPort, '127.0.0.1', '/metrics')).body;
    expect(metrics).toMatch(/^gatehouse_discovery_up 0$/m);

    await runApp('during');
    // Nothing is dropped while Docker cannot be asked, and nothing new can be learnt either.
    for (let i = 0; i < 5; i++) expect(await status('before')).toBe(200);
    expect(await status('during')).toBe(404);

    await relay.start(); // same port: Gatehouse reconnects with backoff and lists again
    await waitFor(async () => ((await status('during')) === 200 ? true : undefined), 'the container started while disconnected', 45_000);
    expect(await status('before')).toBe(200);
    expect((await readyz()).discovery.state).toBe('up');
  });
});

describe('the static routes file', () => {
  let gh: TestGatehouse;
  let dir: string;
  let file: string;
  const upstreams: Server[] = [];

  const startUpstream = async (text: string) => {
    const server = createServer((_req, res) => res.end(text));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstreams.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const body = async (name: string) => {
    const r = await http(gh.proxyPort, host(name), '/');
    return r.status === 200 ? r.body : `status ${r.status}`;
  };
  /** Saves the way editors do: write a temporary file, then rename it over the original. */
  const save = async (text: string) => {
    const tmp = join(dir, `.gatehouse.yml.${randomBytes(2).toString('hex')}`);
    await writeFile(tmp, text);
    await rename(tmp, file);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-routes-'));
    file = join(dir, 'gatehouse.yml');
  });
  afterAll(async () => {
    await gh?.stop();
    for (const s of upstreams) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies edits without a restart and keeps the last good file when a save is broken', async () => {
    const one = await startUpstream('one');
    const two = await startUpstream('two');
    await writeFile(file, `routes:\n  - from: http://${host('file')}\n    to: ${one}\n    public: true\n`);
    gh = await startTestGatehouse({ GATEHOUSE_CONFIG: file });
    await waitFor(async () => ((await body('file')) === 'one' ? true : undefined), 'the route from the file');

    // Pomerium's policy format, unchanged.
    await save(`routes:\n  - from: http://${host('file')}\n    to: ${two}\n    allow_public_unauthenticated_access: true\n`);
    await waitFor(async () => ((await body('file')) === 'two' ? true : undefined), 'the edited route');

    await save(`routes:\n  - from: http://${host('file')}\n    to: [${one}\n`);
    await waitFor(() => (gh.logs.some((l) => l.msg === 'routes file rejected; keeping the last good version' && /gatehouse\.yml:\d+:\d+/.test(String(l.error))) ? true : undefined), 'the broken save to be reported with line and column');
    expect(await body('file')).toBe('two');
    expect((await http(gh.adminPort, '127.0.0.1', '/metrics')).body).toMatch(/^gatehouse_config_file_errors_total [1-9]/m);

    await save(`routes:\n  - from: http://${host('file')}\n    to: ${one}\n    public: true\n  - from: http://${host('file2')}\n    to: ${two}\n    public: true\n`);
    await waitFor(async () => ((await body('file2')) === 'two' ? true : undefined), 'the repaired file');
    expect(await body('file')).toBe('one');
  });
});
