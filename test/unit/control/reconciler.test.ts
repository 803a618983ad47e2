import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildOnce, createReconciler, RouteStore, type Reconciler } from '../../../src/control/index.ts';
import type { ContainerSnapshot, DockerListing } from '../../../src/docker/snapshot.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.ts';
import type { RouteIssue, RouteSpec, TranslationResult } from '../../../src/routes/spec.ts';
import { matchRoute } from '../../../src/routes/index.ts';
import { containerSpec, fileSpec } from '../routes/fixtures.ts';

/** A stand-in translator: `test.host` (+ `test.path`) publishes a route, `test.bad` is a rejection. */
function translate(listing: DockerListing): TranslationResult {
  const specs: RouteSpec[] = [];
  const issues: RouteIssue[] = [];
  for (const c of listing.containers) {
    const bad = c.labels['test.bad'];
    if (bad !== undefined) {
      issues.push({
        source: { kind: 'container', containerId: c.id, containerName: c.name },
        label: 'iap.port',
        value: bad,
        code: 'port',
        message: `iap.port "${bad}" is not a port number; expected 1-65535`,
      });
      continue;
    }
    const host = c.labels['test.host'];
    if (host === undefined) continue;
    specs.push(
      containerSpec({
        name: c.name,
        group: c.labels['test.group'] ?? c.name,
        created: c.created,
        hosts: [host],
        path: c.labels['test.path'] ?? '/',
        ready: c.health !== 'starting',
      }),
    );
  }
  return { specs, issues };
}

function container(name: string, labels: Record<string, string>, created = 1_000): ContainerSnapshot {
  return { id: `id-${name}`, name, labels, imageLabels: {}, state: 'running', health: 'none', created, networks: { bridge: '172.17.0.2' }, networkMode: 'bridge', exposedPorts: [80] };
}

function listing(...containers: ContainerSnapshot[]): DockerListing {
  return { containers, selfNetworks: null };
}

interface Harness {
  reconciler: Reconciler;
  store: RouteStore;
  metrics: Metrics;
  lines: Array<Record<string, unknown>>;
  translateCalls: () => number;
}

function setup(options: { windowMs?: number; expectFile?: boolean; translator?: typeof translate } = {}): Harness {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  const metrics = createMetrics();
  const store = new RouteStore({ now: () => 5 });
  let calls = 0;
  const translator = options.translator ?? translate;
  const reconciler = createReconciler({
    translateContainers: (l) => {
      calls++;
      return translator(l);
    },
    store,
    logger,
    metrics,
    now: () => 7,
    ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
    ...(options.expectFile === undefined ? {} : { expectFile: options.expectFile }),
  });
  return { reconciler, store, metrics, lines, translateCalls: () => calls };
}

async function counter(metrics: Metrics, outcome: string): Promise<number> {
  const values = (await metrics.reloads.get()).values;
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('reconciler: publishing', () => {
  it('publishes the first listing at once and logs one line with the diff', async () => {
    const h = setup();
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' })));
    const generation = h.store.current();
    expect(generation.id).toBe(1);
    expect(matchRoute(generation.table, 'app.example', '/x')?.id).toBe('container:web/default');
    const updates = h.lines.filter((l) => l.msg === 'routes updated');
    expect(updates).toEqual([
      expect.objectContaining({ level: 30, generation: 1, added: ['container:web/default'], removed: [], changed: [], rejected: [] }),
    ]);
    expect(await counter(h.metrics, 'published')).toBe(1);
    expect((await h.metrics.routes.get()).values[0]?.value).toBe(1);
    expect((await h.metrics.reloadDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(1);
  });

  it('does not publish when the rebuilt table has the same fingerprint', async () => {
    const h = setup();
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' })));
    const first = h.store.current();
    // Different input objects, unrelated container without labels, same routes.
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' }), container('db', {})));
    expect(h.store.current()).toBe(first);
    expect(await counter(h.metrics, 'unchanged')).toBe(1);
    expect(await counter(h.metrics, 'published')).toBe(1);
    expect(h.lines.filter((l) => l.msg === 'routes updated')).toHaveLength(1);
  });

  it('publishes a change and logs what was added, removed and changed', () => {
    const h = setup();
    h.reconciler.setContainers(listing(container('a', { 'test.host': 'a.example' }), container('b', { 'test.host': 'b.example' })));
    h.reconciler.setContainers(
      listing(container('a', { 'test.host': 'a.example', 'test.path': '/app' }), container('c', { 'test.host': 'c.example' })),
    );
    expect(h.store.current().id).toBe(2);
    const last = h.lines.filter((l) => l.msg === 'routes updated').at(-1);
    expect(last).toMatchObject({
      generation: 2,
      added: ['container:c/default'],
      removed: ['container:b/default'],
      changed: ['container:a/default'],
    });
  });

  it('warns once per newly rejected item, naming container, label and reason', async () => {
    const h = setup();
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' }), container('broken', { 'test.bad': 'eighty' })));
    const warnings = h.lines.filter((l) => l.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        container: 'broken',
        containerId: 'id-broken',
        label: 'iap.port',
        code: 'port',
        reason: 'iap.port "eighty" is not a port number; expected 1-65535',
        msg: 'route rejected: iap.port "eighty" is not a port number; expected 1-65535',
      }),
    ]);
    expect(h.lines.find((l) => l.msg === 'routes updated')?.rejected).toEqual([
      { source: 'container "broken"', label: 'iap.port', message: 'iap.port "eighty" is not a port number; expected 1-65535' },
    ]);
    const rejected = (await h.metrics.rejected.get()).values;
    expect(rejected.find((v) => v.labels.code === 'port')?.value).toBe(1);
    expect(rejected.find((v) => v.labels.code === 'conflict')?.value).toBe(0);

    // A new table that still carries the same rejection does not warn again.
    h.reconciler.setContainers(
      listing(container('web', { 'test.host': 'app.example', 'test.path': '/v2' }), container('broken', { 'test.bad': 'eighty' })),
    );
    expect(h.store.current().id).toBe(2);
    expect(h.lines.filter((l) => l.level === 40)).toHaveLength(1);
  });

  it('warns about a conflict and keeps the older container of the host\'s owner serving', async () => {
    const h = setup();
    h.reconciler.setContainers(
      listing(container('owner', { 'test.host': 'app.example' }, 100), container('intruder', { 'test.host': 'app.example' }, 200)),
    );
    expect(matchRoute(h.store.current().table, 'app.example', '/')?.id).toBe('container:owner/default');
    const warning = h.lines.find((l) => l.level === 40);
    expect(warning).toMatchObject({ container: 'intruder', code: 'conflict', label: null });
    expect(String(warning?.reason)).toContain('belongs to container "owner"');
    expect((await h.metrics.rejected.get()).values.find((v) => v.labels.code === 'conflict')?.value).toBe(1);
  });

  it('keeps the live table when translating throws, and counts the failure', async () => {
    let fail = false;
    const h = setup({
      translator: (l) => {
        if (fail) throw new Error('translator bug');
        return translate(l);
      },
    });
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' })));
    const live = h.store.current();
    fail = true;
    h.reconciler.setContainers(listing());
    expect(h.store.current()).toBe(live);
    expect(await counter(h.metrics, 'failed')).toBe(1);
    expect(h.lines.find((l) => l.level === 50)).toMatchObject({ err: expect.objectContaining({ message: 'translator bug' }) });
  });

  it('merges file routes with container routes, the file winning a contested address', () => {
    const h = setup();
    h.reconciler.setFileRoutes({ specs: [fileSpec({ file: '/r.yml', index: 0, hosts: ['app.example'] })], issues: [] });
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' }), container('api', { 'test.host': 'api.example' })));
    const table = h.store.current().table;
    expect(table.routes.map((r) => r.id)).toEqual(['container:api/default', 'file:/r.yml#0']);
    expect(table.issues.map((i) => i.code)).toEqual(['conflict']);
  });
});

describe('reconciler: bursts', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies the first change at once and coalesces a burst to the latest input', () => {
    const h = setup({ windowMs: 100 });
    h.reconciler.setContainers(listing(container('v0', { 'test.host': 'app.example' })));
    expect(h.store.current().id).toBe(1);
    for (let i = 1; i <= 20; i++) {
      h.reconciler.setContainers(listing(container(`v${i}`, { 'test.host': 'app.example' })));
      vi.advanceTimersByTime(2);
    }
    expect(h.store.current().id).toBe(1);
    expect(h.translateCalls()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(h.store.current().id).toBe(2);
    expect(h.translateCalls()).toBe(2);
    expect(h.store.current().table.routes.map((r) => r.id)).toEqual(['container:v20/default']);
    h.reconciler.close();
  });

  it('drops a pending rebuild on close', () => {
    const h = setup({ windowMs: 100 });
    h.reconciler.setContainers(listing(container('a', { 'test.host': 'a.example' })));
    h.reconciler.setContainers(listing(container('b', { 'test.host': 'b.example' })));
    h.reconciler.close();
    vi.advanceTimersByTime(1_000);
    expect(h.store.current().table.routes.map((r) => r.id)).toEqual(['container:a/default']);
  });
});

describe('reconciler: ready()', () => {
  it('waits for the first container listing', () => {
    const h = setup();
    expect(h.reconciler.ready()).toBe(false);
    h.reconciler.setContainers(listing());
    expect(h.reconciler.ready()).toBe(true);
    expect(h.store.current().id).toBe(0);
  });

  it('also waits for the routes file when one is configured', () => {
    const h = setup({ expectFile: true });
    h.reconciler.setContainers(listing(container('web', { 'test.host': 'app.example' })));
    expect(h.reconciler.ready()).toBe(false);
    h.reconciler.setFileRoutes({ specs: [], issues: [] });
    expect(h.reconciler.ready()).toBe(true);
  });

  it('is not ready on the routes file alone', () => {
    const h = setup({ expectFile: true });
    h.reconciler.setFileRoutes({ specs: [fileSpec({ index: 0 })], issues: [] });
    expect(h.reconciler.ready()).toBe(false);
    expect(h.store.current().id).toBe(1);
  });

  it('becomes ready only once the live table was built from the listing, not when it is merely queued', () => {
    vi.useFakeTimers();
    try {
      const h = setup({ windowMs: 100, expectFile: true });
      h.reconciler.setFileRoutes(null);
      h.reconciler.setContainers(listing());
      expect(h.reconciler.ready()).toBe(false);
      vi.advanceTimersByTime(100);
      expect(h.reconciler.ready()).toBe(true);
      h.reconciler.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('reconciler: snapshot() and buildOnce()', () => {
  it('returns the latest inputs and the live generation', () => {
    const h = setup();
    expect(h.reconciler.snapshot()).toMatchObject({ listing: null, listingAt: null, fileRoutes: null, fileAt: null });
    const latest = listing(container('web', { 'test.host': 'app.example' }));
    const file = { specs: [], issues: [] };
    h.reconciler.setContainers(listing());
    h.reconciler.setContainers(latest);
    h.reconciler.setFileRoutes(file);
    const snapshot = h.reconciler.snapshot();
    expect(snapshot.listing).toBe(latest);
    expect(snapshot.fileRoutes).toBe(file);
    expect(snapshot.listingAt).toBe(7);
    expect(snapshot.generation).toBe(h.store.current());
  });

  it('translates only the containers that changed and publishes what a from-scratch build gives', () => {
    const asked: string[][] = [];
    const h = setup({
      translator: (l) => {
        asked.push(l.containers.map((c) => c.name));
        return translate(l);
      },
    });
    const file = { specs: [fileSpec({ index: 0, hosts: ['b.example'] })], issues: [] };
    h.reconciler.setFileRoutes(file);
    const first = listing(container('a', { 'test.host': 'a.example' }), container('b', { 'test.host': 'b.example' }, 500), container('c', { 'test.bad': 'x' }));
    h.reconciler.setContainers(first);
    const second = listing(container('a', { 'test.host': 'a.example', 'test.path': '/v2' }), container('b', { 'test.host': 'b.example' }, 500), container('c', { 'test.bad': 'x' }));
    h.reconciler.setContainers(second);
    expect(asked).toEqual([[], ['a', 'b', 'c'], ['a']]);
    expect(h.store.current().id).toBe(3);
    expect(h.store.current().table.fingerprint).toBe(buildOnce(second, file, translate).fingerprint);
    expect(h.store.current().table.issues.map((i) => i.code).sort()).toEqual(['conflict', 'port']);
  });

  it('builds the same table the reconciler publishes', () => {
    const h = setup();
    const input = listing(container('web', { 'test.host': 'app.example' }), container('broken', { 'test.bad': 'x' }));
    const file = { specs: [fileSpec({ index: 0, hosts: ['files.example'] })], issues: [] };
    h.reconciler.setFileRoutes(file);
    h.reconciler.setContainers(input);
    const table = buildOnce(input, file, translate);
    expect(table.fingerprint).toBe(h.store.current().table.fingerprint);
    expect(buildOnce(input, null, translate).routes.map((r) => r.id)).toEqual(['container:web/default']);
  });
});
