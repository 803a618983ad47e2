import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../src/errors.ts';
import { createDockerWatcher, listOnce, type DockerListing, type DockerWatcher, type DockerWatcherOptions } from '../../src/docker/index.ts';
import { isRelevantEvent } from '../../src/docker/events.ts';
import { captureLogger, docker, DockerSocketRelay, names, recorder, removeContainers, uniquePrefix, waitUntil } from '../helpers/docker-watcher.ts';

const SOCKET = 'unix:///var/run/docker.sock';
const prefix = uniquePrefix();
const label = `gatehouse.test.docker-watcher=${prefix}`;
const runBusybox = (name: string, ...extra: string[]) => docker(['run', '-d', '--name', name, '--label', label, ...extra, 'busybox:local']);

const watchers: DockerWatcher[] = [];
const relays: DockerSocketRelay[] = [];

function startWatcher(options: Partial<DockerWatcherOptions> & { dockerHost?: string } = {}) {
  const rec = recorder();
  const log = captureLogger();
  const watcher = createDockerWatcher({ dockerHost: SOCKET, logger: log.logger, onListing: rec.onListing, ...options });
  watcher.onStatus(rec.onStatus);
  watchers.push(watcher);
  watcher.start();
  return { watcher, rec, log };
}

async function startRelay(): Promise<DockerSocketRelay> {
  const relay = new DockerSocketRelay();
  relays.push(relay);
  await relay.start();
  return relay;
}

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((watcher) => watcher.stop()));
  await Promise.all(relays.splice(0).map((relay) => relay.kill()));
});
afterAll(() => removeContainers(prefix));

describe('Docker watcher on the real engine', () => {
  it('lists a container that starts after it, drops it when it stops, and follows its health', async () => {
    const { watcher, rec } = startWatcher();
    await rec.waitForListing(() => true, 10_000, 'the first listing');
    expect(watcher.status()).toMatchObject({ state: 'up', lastError: null, reconnects: 0 });
    expect(watcher.status().engineVersion).toMatch(/^\d+\.\d+/);

    const plain = `${prefix}-plain`;
    await runBusybox(plain);
    const started = Date.now();
    const seen = await rec.waitForListing((l) => names(l, prefix).includes(plain), 5_000, `${plain} in a listing`, started);
    expect(seen.at - started).toBeLessThan(2_000);
    const snapshot = seen.listing.containers.find((container) => container.name === plain);
    expect(snapshot).toMatchObject({ state: 'running', health: 'none', labels: { 'gatehouse.test.docker-watcher': prefix }, exposedPorts: [] });
    expect(snapshot?.networks.bridge).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(seen.listing.selfNetworks).toBeNull(); // the tests run on the host, not in a container

    await docker(['stop', '-t', '0', plain]);
    const stopped = Date.now();
    const gone = await rec.waitForListing((l) => !names(l, prefix).includes(plain), 5_000, `${plain} gone`, stopped);
    expect(gone.at - stopped).toBeLessThan(2_000);

    const checked = `${prefix}-checked`;
    await runBusybox(checked, '--health-cmd', 'wget -qO- http://127.0.0.1/ || exit 1', '--health-interval', '1s');
    await rec.waitForListing((l) => l.containers.some((c) => c.name === checked && c.health === 'healthy'), 15_000, `${checked} healthy`);
    const healthSeen = rec.listings.flatMap(({ listing }) => listing.containers.filter((c) => c.name === checked).map((c) => c.health));
    expect(healthSeen[0]).toBe('starting');
    expect(healthSeen.at(-1)).toBe('healthy');
    expect(healthSeen.indexOf('healthy')).toBeGreaterThan(healthSeen.lastIndexOf('starting'));
  });

  it('coalesces a burst of events into fewer full listings that end with every container', async () => {
    // The relay holds the event stream while five containers start, then lets the engine's
    // events through at once: a burst whatever the machine's load, so the count of listings
    // does not depend on how fast `docker start` runs. The settle list and the periodic resync
    // are moved out of the way; the debounce window is wide so a busy scheduler that splits
    // the burst cannot split the listings too.
    const relay = await startRelay();
    const { rec } = startWatcher({ dockerHost: relay.dockerHost, debounceMs: 2_000, settleMs: 600_000, resyncMs: 600_000 });
    await rec.waitForListing(() => true, 10_000, 'the first listing');
    await waitUntil(() => relay.openEventStreams() === 1, 5_000, 'the event stream through the relay');
    const burst = Array.from({ length: 5 }, (_, i) => `${prefix}-burst-${i}`);
    const burstNames = (listing: DockerListing) => names(listing, `${prefix}-burst-`);
    await Promise.all(burst.map((name) => docker(['create', '--name', name, '--label', label, 'busybox:local'])));

    expect(relay.stallEventStreams().stalled).toBe(1);
    const from = Date.now();
    await Promise.all(burst.map((name) => docker(['start', name])));
    // Every start's events (a network connect and a start each) have been sent by the engine.
    let held: unknown[] = [];
    for (const deadline = Date.now() + 10_000; held.length < 10; await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`the engine reported ${held.length} of the burst's 10 events`);
      const lines = await docker(['events', '--since', (from / 1000 - 0.05).toFixed(3), '--until', (Date.now() / 1000).toFixed(3), '--format', '{{json .}}']);
      held = lines.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown).filter(isRelevantEvent);
    }
    const before = rec.listings.length;
    expect(relay.resumeEventStreams()).toBe(1);

    const first = await waitUntil(() => rec.listings[before], 10_000, 'a listing after the burst');
    expect(burstNames(first.listing)).toEqual(burst); // every container was running before the events arrived
    // One more change, after the burst: its listing is the end of the burst's listings.
    await docker(['stop', '-t', '0', burst[0] as string]);
    const gone = await waitUntil(() => rec.listings.find((entry, i) => i >= before && !burstNames(entry.listing).includes(burst[0] as string)), 10_000, `${burst[0]} gone`);
    const burstListings = rec.listings.slice(before, rec.listings.indexOf(gone));
    expect(burstListings.length).toBeGreaterThan(0);
    expect(burstListings.length).toBeLessThanOrEqual(2); // the first event at once, the rest at the window's end
    expect(burstListings.length).toBeLessThan(held.length);
    for (const { listing } of burstListings) expect(burstNames(listing)).toEqual(burst);
  });

  it('lists once more shortly after the last event, for state the engine reports after its event', async () => {
    const { rec } = startWatcher({ resyncMs: 600_000, settleMs: 400 });
    await rec.waitForListing(() => true, 10_000, 'the first listing');
    const name = `${prefix}-settle`;
    await runBusybox(name);
    const first = await rec.waitForListing((l) => names(l, prefix).includes(name), 5_000, `${name} in a listing`);
    await sleep(1_500);
    const later = rec.listings.filter((entry) => entry.at >= first.at + 300);
    // With the periodic resync out of the way, only the settle list can come this late.
    expect(later.length).toBeGreaterThanOrEqual(1);
    expect(later.length).toBeLessThanOrEqual(2);
    expect(names(later.at(-1)?.listing as never, prefix)).toContain(name);
  });

  it('keeps the last listing while the connection is down and resyncs when it is back', async () => {
    const relay = await startRelay();
    const { watcher, rec, log } = startWatcher({ dockerHost: relay.dockerHost, backoff: { initialMs: 100, maxMs: 800 }, resyncMs: 600_000 });
    const before = `${prefix}-before`;
    await runBusybox(before);
    await rec.waitForListing((l) => names(l, prefix).includes(before), 10_000, `${before} through the relay`);
    await waitUntil(() => relay.openEventStreams() === 1, 2_000, 'the event stream through the relay');

    await relay.kill();
    await waitUntil(() => watcher.status().state === 'degraded', 5_000, 'state degraded');
    const downAt = Date.now();
    const kept = rec.last();
    expect(names(kept, prefix)).toContain(before);
    expect(watcher.status().lastError).toMatch(/event stream/);
    expect(log.lines.some((line) => line.level === 40 && /degraded/.test(String(line.msg)))).toBe(true);

    const during = `${prefix}-during`;
    await runBusybox(during);
    await waitUntil(() => watcher.status().reconnects >= 3, 10_000, 'several failed reconnects');
    expect(rec.last()).toBe(kept); // nothing emitted while down, and certainly no empty listing
    expect(rec.listings.filter((entry) => entry.at >= downAt)).toEqual([]);
    expect(watcher.status().lastError).toMatch(/ECONNREFUSED/);

    await relay.start(); // same port
    const back = await rec.waitForListing((l) => names(l, prefix).includes(during), 10_000, `${during} after the relay returned`, downAt);
    expect(names(back.listing, prefix)).toEqual(expect.arrayContaining([before, during]));
    expect(watcher.status().state).toBe('up');
    expect(rec.statuses.map((status) => status.state)).toEqual(expect.arrayContaining(['up', 'degraded']));
  });

  it('treats a failed list as an outage: nothing is emitted, and the retry converges', async () => {
    const relay = await startRelay();
    const { watcher, rec } = startWatcher({ dockerHost: relay.dockerHost, backoff: { initialMs: 100, maxMs: 500 }, resyncMs: 600_000 });
    await rec.waitForListing(() => true, 10_000, 'the first listing');
    const count = rec.listings.length;

    relay.failNextLists(1);
    const late = `${prefix}-late`;
    await runBusybox(late);
    // The retry comes quickly, so look for the outage in the status history, not the current state.
    const degraded = await waitUntil(() => rec.statuses.find((status) => status.state === 'degraded'), 5_000, 'state degraded after the failed list');
    expect(degraded.lastError).toMatch(/listing containers failed.*500/);
    expect(rec.listings.filter((entry) => entry.at <= degraded.since)).toHaveLength(count);

    await rec.waitForListing((l) => names(l, prefix).includes(late), 10_000, `${late} after the retry`);
    expect(watcher.status().state).toBe('up');
  });

  it('detects an event stream that stops carrying bytes, reconnects and resyncs', async () => {
    const relay = await startRelay();
    // No settle list either: after the stall, only the reconnect may list.
    const { watcher, rec, log } = startWatcher({ dockerHost: relay.dockerHost, stallTimeoutMs: 1_500, resyncMs: 600_000, settleMs: 600_000 });
    await rec.waitForListing(() => true, 10_000, 'the first listing');

    // Docker sends nothing while idle, so keep real events flowing: pause/unpause a container.
    const ticker = `${prefix}-ticker`;
    await runBusybox(ticker);
    let ticking = true;
    const ticks = (async () => {
      while (ticking) {
        await docker(['pause', ticker]);
        await sleep(150);
        await docker(['unpause', ticker]);
        await sleep(150);
      }
    })();
    try {
      await sleep(4_000);
      expect(watcher.status().reconnects).toBe(0); // bytes keep flowing: no false stall

      const { stalled, lastForwardedAt } = relay.stallEventStreams();
      expect(stalled).toBe(1);
      const stalledAt = Date.now();
      const hidden = `${prefix}-hidden`;
      await runBusybox(hidden);
      const seen = await rec.waitForListing((l) => names(l, prefix).includes(hidden), 10_000, `${hidden} after the stall`, stalledAt);
      const detected = log.lines.find((line) => /no bytes on the Docker event stream for 1500 ms/.test(String(line.reason)));
      expect(detected).toBeDefined();
      expect(Number(detected?.time)).toBeGreaterThanOrEqual(lastForwardedAt + 1_450);
      // Its events never got through the stalled stream: only the reconnect's full list can show it.
      expect(seen.at).toBeGreaterThanOrEqual(Number(detected?.time));
      expect(watcher.status().reconnects).toBeGreaterThanOrEqual(1);
      // A silent stream that reconnects fine is not an outage.
      expect(rec.statuses.some((status) => status.state === 'degraded')).toBe(false);
      expect(watcher.status().state).toBe('up');
    } finally {
      ticking = false;
      await ticks.catch(() => {});
    }
  });

  it('stop() closes the event stream, its sockets and its timers', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const relay = await startRelay();
    await sleep(100); // let handles of earlier tests settle
    const baseline = timers();
    const { watcher, rec } = startWatcher({ dockerHost: relay.dockerHost, stallTimeoutMs: 60_000 });
    await rec.waitForListing(() => true, 10_000, 'the first listing');
    expect(relay.openEventStreams()).toBe(1);
    expect(relay.openConnections()).toBe(1); // no pooled keep-alive sockets beside the stream
    expect(timers()).toBeGreaterThan(baseline); // watchdog and resync

    await watcher.stop();
    await waitUntil(() => relay.openConnections() === 0, 2_000, 'the relay to see every connection closed');
    expect(timers()).toBeLessThanOrEqual(baseline);
  });

  it('stop() ends the watcher even while it is retrying, and nothing is emitted afterwards', async () => {
    const { watcher, rec } = startWatcher({ dockerHost: 'unix:///tmp/gh-dw-no-such.sock', backoff: { initialMs: 50, maxMs: 100 } });
    await waitUntil(() => watcher.status().reconnects >= 2, 5_000, 'a few failed attempts');
    expect(watcher.status()).toMatchObject({ state: 'degraded', lastListAt: null });
    expect(watcher.status().lastError).toMatch(/ENOENT/);
    await watcher.stop();
    const reconnects = watcher.status().reconnects;
    await sleep(300);
    expect(watcher.status().reconnects).toBe(reconnects);
    expect(rec.listings).toEqual([]);
  });
});

describe('listOnce and DOCKER_HOST', () => {
  it('lists running containers from the host it is given, whatever DOCKER_HOST the environment holds', async () => {
    const name = `${prefix}-once`;
    await runBusybox(name);
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const listing = await listOnce(SOCKET);
      expect(names(listing, prefix)).toContain(name);
      expect(Object.isFrozen(listing.containers)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('reports an unreachable engine as DOCKER_UNAVAILABLE naming the host', async () => {
    const error = await listOnce('unix:///tmp/gh-dw-no-such.sock').catch((caught: unknown) => caught);
    expect(isGatehouseError(error, 'DOCKER_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/unix:\/\/\/tmp\/gh-dw-no-such\.sock.*ENOENT/);
  });

  it('refuses an unusable DOCKER_HOST when the watcher is created', () => {
    const { logger } = captureLogger();
    expect(() => createDockerWatcher({ dockerHost: 'ssh://docker@host', logger, onListing: () => {} })).toThrow(/DOCKER_HOST/);
  });
});
