import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerWatcher, type DockerWatcher } from '../../src/docker/index.ts';
import { captureLogger, docker, names, PrivateDockerEngine, recorder, uniquePrefix, waitUntil } from '../helpers/docker-watcher.ts';

/**
 * The engine restarts here are real (dockerd stopped with SIGTERM, its socket removed, then a new
 * dockerd on the same socket), on a private engine so the shared one and its containers are
 * never touched. Run this file on its own or serially with the others (vitest.config.ts does).
 */
const prefix = uniquePrefix();
const engine = new PrivateDockerEngine(prefix);
const sh = promisify(execFile);
let watcher: DockerWatcher | null = null;

const runBusybox = (name: string, ...extra: string[]) =>
  docker(['run', '-d', '--name', name, '--network', 'none', '--stop-timeout', '1', '--label', `gatehouse.test.docker-watcher=${prefix}`, ...extra, 'busybox:local'], engine.dockerHost);

beforeAll(async () => {
  await engine.start();
  await sh('sh', ['-c', `docker save busybox:local | docker -H ${engine.dockerHost} load -q`]);
});

afterAll(async () => {
  await watcher?.stop();
  try {
    if (!(await engine.answers())) await engine.start();
    const ids = (await docker(['ps', '-aq'], engine.dockerHost)).split('\n').filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids], engine.dockerHost);
  } finally {
    await engine.stop();
    engine.remove();
  }
});

describe('Docker watcher across a real engine restart', () => {
  it('keeps the last listing while dockerd is down and lists afresh once it is back', async () => {
    const rec = recorder();
    const { logger, lines } = captureLogger();
    watcher = createDockerWatcher({ dockerHost: engine.dockerHost, logger, onListing: rec.onListing, backoff: { initialMs: 100, maxMs: 1_000 }, resyncMs: 600_000 });
    watcher.onStatus(rec.onStatus);
    watcher.start();

    const before = `${prefix}-before`;
    await runBusybox(before, '--restart', 'always');
    await rec.waitForListing((l) => names(l, prefix).includes(before), 10_000, `${before} listed`);
    expect(watcher.status().state).toBe('up');

    await engine.stop();
    expect(await engine.answers()).toBe(false);
    const downAt = Date.now();
    await waitUntil(() => watcher?.status().state === 'degraded', 10_000, 'state degraded');
    const kept = rec.last();
    expect(names(kept, prefix)).toEqual([before]);
    await waitUntil(() => (watcher?.status().reconnects ?? 0) >= 3, 10_000, 'retries while the engine is down');
    expect(rec.last()).toBe(kept); // nothing emitted while down: no empty listing replaces the last one
    expect(rec.listings.filter((entry) => entry.at >= downAt)).toEqual([]);
    expect(watcher.status().lastError).toMatch(/ENOENT|ECONNREFUSED|event stream/);
    expect(lines.some((line) => line.level === 40 && /degraded/.test(String(line.msg)))).toBe(true);

    await engine.start();
    const fresh = await rec.waitForListing(() => true, 15_000, 'a listing after the restart', downAt);
    expect(fresh.listing).not.toBe(kept);
    expect(watcher.status().state).toBe('up');

    const after = `${prefix}-after`;
    await runBusybox(after);
    const seen = await rec.waitForListing((l) => names(l, prefix).includes(after), 5_000, `${after} listed after the restart`, fresh.at);
    expect(seen.at).toBeGreaterThan(downAt);
    expect(rec.statuses.map((status) => status.state)).toEqual(expect.arrayContaining(['up', 'degraded']));
  });
});
