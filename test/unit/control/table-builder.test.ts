import { describe, expect, it } from 'vitest';
import { buildOnce, createTableBuilder } from '../../../src/control/index.ts';
import { sameSnapshot } from '../../../src/control/translation-memo.ts';
import { ContainerSnapshot, type DockerListing } from '../../../src/docker/snapshot.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import type { TranslationResult } from '../../../src/routes/spec.ts';
import { fileSpec } from '../routes/fixtures.ts';

const OPTIONS = { prefix: 'iap', dockerNetwork: undefined };

function box(name: string, labels: Record<string, string> = {}, overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return {
    id: `id-${name}`,
    name,
    labels: { 'iap.from': `https://${name}.example`, 'iap.allow': '*', ...labels },
    imageLabels: {},
    state: 'running',
    health: 'none',
    created: 1_000,
    networks: { proxy: '172.18.0.2' },
    networkMode: 'proxy',
    exposedPorts: [80],
    ...overrides,
  };
}

/** Equal content, new objects: what the Docker watcher hands over on every listing. */
function relisted(listing: DockerListing): DockerListing {
  return structuredClone(listing) as DockerListing;
}

/** The real translator, recording which containers each call was asked to translate. */
function recordingTranslator() {
  const calls: string[][] = [];
  const translate = (listing: DockerListing): TranslationResult => {
    calls.push(listing.containers.map((c) => c.name));
    return translateContainers(listing, OPTIONS);
  };
  return { translate, calls };
}

describe('createTableBuilder: reuse', () => {
  it('closes and reopens a container whose upstream verdict changes while its snapshot does not', () => {
    const blocked = new Set<string>();
    const targets = { reasonFor: (origin: string) => (blocked.has(origin) ? 'it is refused for the test' : null), settled: async () => {} };
    const translate = (l: DockerListing) => translateContainers(l, OPTIONS);
    const fresh = (l: DockerListing) => createTableBuilder(translate, { targets }).build(l, null);
    const builder = createTableBuilder(translate, { targets });
    const listing: DockerListing = { containers: [box('a'), box('b', {}, { id: 'id-b', networks: { proxy: '172.18.0.3' } })], selfNetworks: ['proxy'] };
    const open = builder.build(listing, null);
    expect(open.routes.map((route) => route.id)).toEqual(['container:id-a/default', 'container:id-b/default']);
    blocked.add('http://172.18.0.3:80');
    const closed = builder.build(relisted(listing), null);
    expect(closed.routes.map((route) => route.id)).toEqual(['container:id-a/default']);
    expect(closed.closed.map((claim) => `${claim.id} ${claim.state}`)).toEqual(['container:id-b/default misconfigured']);
    expect(closed.fingerprint).toBe(fresh(listing).fingerprint);
    blocked.clear();
    const reopened = builder.build(relisted(listing), null);
    expect(reopened.closed).toEqual([]);
    expect(reopened.fingerprint).toBe(open.fingerprint);
  });

  it('translates only the containers that changed since the previous build', () => {
    const { translate, calls } = recordingTranslator();
    const builder = createTableBuilder(translate);
    const first: DockerListing = { containers: [box('a'), box('b'), box('c')], selfNetworks: ['proxy'] };
    builder.build(first, null);
    const next = relisted(first);
    (next.containers as ContainerSnapshot[])[1] = box('b', { 'iap.allow': 'group:ops' });
    const table = builder.build(next, null);
    expect(calls).toEqual([['a', 'b', 'c'], ['b']]);
    expect(table.fingerprint).toBe(buildOnce(next, null, (l) => translateContainers(l, OPTIONS)).fingerprint);
  });

  it('keeps unchanged routes as the same frozen objects and builds a new one for the changed container', () => {
    const builder = createTableBuilder((l) => translateContainers(l, OPTIONS));
    const before = builder.build({ containers: [box('a'), box('b')], selfNetworks: ['proxy'] }, null);
    const after = builder.build({ containers: [box('a'), box('b', {}, { health: 'starting' })], selfNetworks: ['proxy'] }, null);
    const byId = (table: typeof before, id: string) => table.routes.find((route) => route.id === id);
    expect(byId(before, 'container:id-a/default')).toBeDefined();
    expect(byId(after, 'container:id-a/default')).toBe(byId(before, 'container:id-a/default'));
    expect(byId(after, 'container:id-b/default')).not.toBe(byId(before, 'container:id-b/default'));
    expect(byId(after, 'container:id-b/default')?.ready).toEqual([]);
  });

  it('gives back the previous table when the new listing is equal, calling the translator with no container', () => {
    const { translate, calls } = recordingTranslator();
    const builder = createTableBuilder(translate);
    const listing: DockerListing = { containers: [box('a'), box('b', { 'iap.port': 'eighty' })], selfNetworks: ['proxy'] };
    const file = { specs: [fileSpec({ index: 0, hosts: ['a.example'] })], issues: [] };
    const first = builder.build(listing, file);
    expect(first.issues.map((issue) => issue.code).sort()).toEqual(['conflict', 'invalid_value']);
    expect(builder.build(relisted(listing), file)).toBe(first);
    expect(calls.at(-1)).toEqual([]);
  });

  it('translates everything again when Gatehouse\'s own networks change', () => {
    const { translate, calls } = recordingTranslator();
    const builder = createTableBuilder(translate);
    const listing: DockerListing = { containers: [box('a'), box('b', {}, { networks: { proxy: '172.18.0.3', backend: '172.19.0.3' } })], selfNetworks: ['proxy'] };
    builder.build(listing, null);
    const moved = { ...relisted(listing), selfNetworks: ['proxy', 'backend'] };
    const table = builder.build(moved, null);
    expect(calls.at(-1)).toEqual(['a', 'b']);
    expect(table.issues.map((issue) => issue.message)).toEqual([
      'container "b": shares several networks with Gatehouse (backend, proxy): set iap.network on the container or GATEHOUSE_DOCKER_NETWORK on Gatehouse to choose one',
    ]);
  });

  it('notices a snapshot changed in place, since it keeps its own copy of what it translated', () => {
    const builder = createTableBuilder((l) => translateContainers(l, OPTIONS));
    const a = box('a');
    builder.build({ containers: [a], selfNetworks: ['proxy'] }, null);
    a.labels['iap.path'] = '/admin';
    const table = builder.build({ containers: [a], selfNetworks: ['proxy'] }, null);
    expect(table.routes.map((route) => route.path)).toEqual(['/admin']);
  });
});

describe('createTableBuilder: memory follows the current listing', () => {
  it('forgets containers that are gone', () => {
    const builder = createTableBuilder((l) => translateContainers(l, OPTIONS));
    builder.build({ containers: [box('a'), box('b'), box('c')], selfNetworks: ['proxy'] }, null);
    expect(builder.rememberedContainers).toBe(3);
    builder.build({ containers: [box('c')], selfNetworks: ['proxy'] }, null);
    expect(builder.rememberedContainers).toBe(1);
    for (let i = 0; i < 50; i++) builder.build({ containers: [box(`churn-${i}`), box('c')], selfNetworks: ['proxy'] }, null);
    expect(builder.rememberedContainers).toBe(2);
    expect(builder.build({ containers: [], selfNetworks: ['proxy'] }, null).routes).toEqual([]);
    expect(builder.rememberedContainers).toBe(0);
  });

  it('keeps what it remembered when the translator throws, and recovers on the next build', () => {
    let fail = false;
    const calls: number[] = [];
    const builder = createTableBuilder((l) => {
      calls.push(l.containers.length);
      if (fail) throw new Error('translator bug');
      return translateContainers(l, OPTIONS);
    });
    const listing: DockerListing = { containers: [box('a'), box('b')], selfNetworks: ['proxy'] };
    builder.build(listing, null);
    fail = true;
    expect(() => builder.build({ containers: [box('a'), box('b', { 'iap.path': '/x' })], selfNetworks: ['proxy'] }, null)).toThrow('translator bug');
    expect(builder.rememberedContainers).toBe(2);
    fail = false;
    const table = builder.build({ containers: [box('a'), box('b', { 'iap.path': '/x' })], selfNetworks: ['proxy'] }, null);
    expect(calls).toEqual([2, 1, 1]);
    expect(table.routes.map((route) => route.path)).toEqual(['/', '/x']);
  });
});

describe('createTableBuilder: translators that do not keep to one container at a time', () => {
  it('translates the whole listing when an item names a container outside the batch', () => {
    const calls: number[] = [];
    // Reports, for every listing, an issue on container "a" whatever it was asked about.
    const translate = (listing: DockerListing): TranslationResult => {
      calls.push(listing.containers.length);
      const result = translateContainers(listing, OPTIONS);
      return {
        specs: result.specs,
        issues: [...result.issues, { source: { kind: 'container', containerId: 'id-a', containerName: 'a' }, label: null, value: null, code: 'missing', message: 'always' }],
      };
    };
    const builder = createTableBuilder(translate);
    const first: DockerListing = { containers: [box('a'), box('b')], selfNetworks: ['proxy'] };
    builder.build(first, null);
    const next: DockerListing = { containers: [box('a'), box('b', { 'iap.path': '/b' })], selfNetworks: ['proxy'] };
    const table = builder.build(next, null);
    expect(table.fingerprint).toBe(buildOnce(next, null, translate).fingerprint);
    expect(table.issues.map((issue) => issue.message)).toEqual(['always']);
    expect(calls.slice(0, 3)).toEqual([2, 1, 2]);
  });

  it('translates the whole listing when two containers share an id', () => {
    const { translate, calls } = recordingTranslator();
    const builder = createTableBuilder(translate);
    const twins: DockerListing = { containers: [box('a'), { ...box('b'), id: 'id-a' }], selfNetworks: ['proxy'] };
    const table = builder.build(twins, null);
    expect(calls).toEqual([['a', 'b']]);
    expect(table.fingerprint).toBe(buildOnce(twins, null, (l) => translateContainers(l, OPTIONS)).fingerprint);
    expect(builder.rememberedContainers).toBe(0);
  });
});

describe('createTableBuilder: how a batch is taken apart by container', () => {
  it('takes apart a translation that lists its routes and issues in another order than the containers', () => {
    const calls: number[] = [];
    // The real translator, with its lists reversed.
    const translate = (listing: DockerListing): TranslationResult => {
      calls.push(listing.containers.length);
      const result = translateContainers(listing, OPTIONS);
      return { specs: [...result.specs].reverse(), issues: [...result.issues].reverse() };
    };
    const builder = createTableBuilder(translate);
    const first: DockerListing = { containers: [box('a'), box('b', { 'iap.port': 'x' }), box('c'), box('d', { 'iap.bogus': '1' })], selfNetworks: ['proxy'] };
    const next: DockerListing = { containers: [box('a', { 'iap.path': '/a' }), box('b', { 'iap.port': 'x' }), box('c'), box('d', { 'iap.bogus': '1' })], selfNetworks: ['proxy'] };
    const built = [builder.build(first, null), builder.build(next, null)];
    // Each container was translated once, then only the changed one.
    expect(calls).toEqual([4, 1]);
    expect(built[0]?.fingerprint).toBe(buildOnce(first, null, translate).fingerprint);
    expect(built[1]?.fingerprint).toBe(buildOnce(next, null, translate).fingerprint);
    expect(built[1]?.issues.length).toBeGreaterThan(0);
  });

  it('translates the whole listing when a new id is listed twice beside remembered containers', () => {
    const { translate, calls } = recordingTranslator();
    const builder = createTableBuilder(translate);
    builder.build({ containers: [box('a'), box('b')], selfNetworks: ['proxy'] }, null);
    const twins: DockerListing = { containers: [box('a'), box('c'), { ...box('d'), id: 'id-c' }], selfNetworks: ['proxy'] };
    const table = builder.build(twins, null);
    expect(calls.slice(1)).toEqual([['a', 'c', 'd']]);
    expect(table.fingerprint).toBe(buildOnce(twins, null, (l) => translateContainers(l, OPTIONS)).fingerprint);
  });

  it('translates the whole listing when a changed container\'s id is listed again', () => {
    const { translate, calls } = recordingTranslator();
    const builder = createTableBuilder(translate);
    builder.build({ containers: [box('a'), box('b')], selfNetworks: ['proxy'] }, null);
    const twins: DockerListing = { containers: [box('a', { 'iap.path': '/a' }), box('b'), { ...box('e'), id: 'id-a' }], selfNetworks: ['proxy'] };
    const table = builder.build(twins, null);
    expect(calls.slice(1)).toEqual([['a', 'b', 'e']]);
    expect(table.fingerprint).toBe(buildOnce(twins, null, (l) => translateContainers(l, OPTIONS)).fingerprint);
  });
});

describe('sameSnapshot', () => {
  const base = box('a', { 'com.docker.compose.project': 'shop' }, { health: 'healthy', networks: { proxy: '172.18.0.2', backend: '172.19.0.2' }, exposedPorts: [80, 443] });
  const changes: Record<keyof ContainerSnapshot, Partial<ContainerSnapshot>> = {
    id: { id: 'id-other' },
    name: { name: 'other' },
    labels: { labels: { ...base.labels, 'iap.allow': 'group:ops' } },
    imageLabels: { imageLabels: { 'iap.public': 'true' } },
    state: { state: 'exited' },
    health: { health: 'unhealthy' },
    created: { created: 1_001 },
    networks: { networks: { proxy: '172.18.0.2', backend: '172.19.0.9' } },
    networkMode: { networkMode: 'backend' },
    exposedPorts: { exposedPorts: [80, 8080] },
    engine: { engine: 'pi' },
    networkIds: { networkIds: { proxy: 'f00d' } },
    remote: { remote: { address: '10.0.0.5', ports: { '80': 8080 } } },
  };

  it('covers every field of the snapshot contract', () => {
    expect(Object.keys(changes).sort()).toEqual(Object.keys(ContainerSnapshot.shape).sort());
  });

  it.each(Object.entries(changes))('tells snapshots apart by %s', (_field, change) => {
    expect(sameSnapshot(base, structuredClone(base))).toBe(true);
    expect(sameSnapshot(base, { ...structuredClone(base), ...change })).toBe(false);
  });

  it('tells remote snapshots apart by address and published ports', () => {
    const remote = { ...base, engine: 'pi', remote: { address: '10.0.0.5', ports: { '80': 8080 } } };
    expect(sameSnapshot(remote, structuredClone(remote))).toBe(true);
    expect(sameSnapshot(remote, { ...remote, remote: { address: '10.0.0.6', ports: { '80': 8080 } } })).toBe(false);
    expect(sameSnapshot(remote, { ...remote, remote: { address: '10.0.0.5', ports: { '80': 8081 } } })).toBe(false);
    expect(sameSnapshot(remote, { ...remote, remote: { address: '10.0.0.5', ports: { '80': 8080, '443': 8443 } } })).toBe(false);
  });

  it('tells apart a label added, a label removed and labels in another order', () => {
    const { 'iap.allow': _dropped, ...fewer } = base.labels;
    expect(sameSnapshot(base, { ...base, labels: { ...base.labels, extra: '' } })).toBe(false);
    expect(sameSnapshot(base, { ...base, labels: fewer })).toBe(false);
    expect(sameSnapshot(base, { ...base, labels: Object.fromEntries(Object.entries(base.labels).reverse()) })).toBe(false);
  });
});
