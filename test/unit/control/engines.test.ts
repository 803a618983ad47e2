import { describe, expect, it } from 'vitest';
import { buildOnce, createEngineListings } from '../../../src/control/index.ts';
import { combined } from '../../../src/control/engine-watchers.ts';
import type { ContainerSnapshot, DockerListing } from '../../../src/docker/index.ts';
import { translateContainers } from '../../../src/labels/index.ts';

const OPTIONS = { prefix: 'iap', dockerNetwork: undefined };
const translate = (listing: DockerListing) => translateContainers(listing, OPTIONS);

/** A container as the watcher of engine `engine` hands it over (remote engines: id of its own, machine address). */
function box(engine: 'nas' | 'pi', name: string, labels: Record<string, string>, overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  const raw = `${name}-${'0'.repeat(8)}`;
  return {
    id: engine === 'nas' ? raw : `pi/${raw}`,
    name,
    labels: { 'iap.allow': '*', ...labels },
    imageLabels: {},
    state: 'running',
    health: 'none',
    created: 1_000,
    networks: { proxy: '172.18.0.2' },
    networkMode: 'proxy',
    exposedPorts: [80],
    engine,
    ...(engine === 'pi' ? { remote: { address: '10.0.0.5', ports: { '80': 8080 } } } : {}),
    ...overrides,
  };
}
const listing = (...containers: ContainerSnapshot[]): DockerListing => ({ containers, selfNetworks: ['proxy'] });
const hostOwner = (table: ReturnType<typeof buildOnce>, host: string) => table.owners.get(host);

describe('routes across several Docker engines', () => {
  it('reaches a remote container at its published port on its machine, never at its network address', () => {
    const table = buildOnce(listing(box('pi', 'photos', { 'iap.from': 'https://photos.example' })), null, translate);
    expect(table.issues).toEqual([]);
    expect(table.routes[0]?.upstreams.map((target) => target.origin)).toEqual(['http://10.0.0.5:8080']);
  });

  it('holds a remote container closed when its port is not published, with a reason naming the fix', () => {
    const table = buildOnce(listing(box('pi', 'photos', { 'iap.from': 'https://photos.example' }, { remote: { address: '10.0.0.5', ports: {} } })), null, translate);
    expect(table.routes).toEqual([]);
    expect(table.issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/runs on Docker engine "pi", another machine, and publishes no port for 80 there .*publish it .*never routes to another machine's own container addresses/),
    ]);
    expect(table.closed.map((claim) => [claim.hosts, claim.state])).toEqual([[['photos.example'], 'misconfigured']]);
  });

  it('refuses a network label on a remote container rather than guessing an address', () => {
    const table = buildOnce(listing(box('pi', 'photos', { 'iap.from': 'https://photos.example', 'iap.network': 'proxy' })), null, translate);
    expect(table.routes).toEqual([]);
    expect(table.issues[0]?.label).toBe('iap.network');
  });

  /** The NAS (Gatehouse beside it, on networks with these ids) and the Pi, merged as the engine watchers merge them. */
  const merged = (selfNetworkIds: string[], ...pi: ContainerSnapshot[]) => {
    const listings = createEngineListings([
      { name: 'nas', local: true },
      { name: 'pi', local: false },
    ]);
    listings.set('nas', { containers: [], selfNetworks: ['mesh', 'proxy'], selfNetworkIds });
    return listings.set('pi', { containers: pi, selfNetworks: null, selfAddresses: [] });
  };

  it('reaches a remote container on an overlay network Gatehouse shares, known by its id, at its own port', () => {
    const onMesh = box('pi', 'photos', { 'iap.from': 'https://photos.example' }, {
      networks: { mesh: '10.0.9.5', photos_default: '172.18.0.2' },
      networkIds: { mesh: 'overlay-1', photos_default: 'pi-bridge-7' },
      remote: { address: '10.0.0.5', ports: {} },
    });
    const table = buildOnce(merged(['overlay-1', 'nas-bridge-1'], onMesh), null, translate);
    expect(table.issues).toEqual([]);
    expect(table.routes[0]?.upstreams.map((target) => [target.origin, target.network])).toEqual([['http://10.0.9.5:80', 'mesh']]);
  });

  it('never takes a remote network for Gatehouse’s own by its name: a Pi bridge called like it is not shared', () => {
    const lookalike = (labels: Record<string, string> = {}) =>
      box('pi', 'photos', { 'iap.from': 'https://photos.example', ...labels }, { networks: { proxy: '172.18.0.2' }, networkIds: { proxy: 'pi-bridge-1' } });
    const published = buildOnce(merged(['nas-bridge-1'], lookalike()), null, translate);
    expect(published.routes[0]?.upstreams.map((target) => target.origin)).toEqual(['http://10.0.0.5:8080']);
    const named = buildOnce(merged(['nas-bridge-1'], lookalike({ 'iap.network': 'proxy' })), null, translate);
    expect(named.routes).toEqual([]);
    expect(named.issues[0]?.message).toMatch(/shares no overlay network of that name/);
  });

  it('keeps a compose project per engine: the Pi cannot join the NAS project by copying its name', () => {
    const nas = box('nas', 'media-web', { 'iap.from': 'https://media.example', 'com.docker.compose.project': 'media' }, { created: 1_000 });
    const pi = box('pi', 'media-admin', { 'iap.from': 'https://media.example', 'iap.path': '/admin', 'com.docker.compose.project': 'media' }, { created: 2_000 });
    const table = buildOnce(listing(nas, pi), null, translate);
    expect(hostOwner(table, 'media.example')).toEqual({ kind: 'compose', project: 'media', engine: 'nas' });
    expect(table.routes.map((route) => route.id)).toEqual([expect.stringContaining('media-web')]);
    expect(table.issues.map((issue) => issue.message)).toEqual([expect.stringMatching(/belongs to compose project "media" on Docker engine "nas"/)]);
  });

  it('never merges replicas across engines: the same compose service on two machines is a conflict, the older wins', () => {
    const compose = { 'iap.from': 'https://wiki.example', 'com.docker.compose.project': 'wiki', 'com.docker.compose.service': 'app' };
    const older = box('pi', 'wiki-pi', compose, { created: 500 });
    const newer = box('nas', 'wiki-nas', compose, { created: 900 });
    const table = buildOnce(listing(newer, older), null, translate);
    expect(table.routes).toHaveLength(1);
    expect(table.routes[0]?.upstreams.map((target) => target.origin)).toEqual(['http://10.0.0.5:8080']);
    expect(hostOwner(table, 'wiki.example')).toEqual({ kind: 'compose', project: 'wiki', engine: 'pi' });
    expect(table.issues).toHaveLength(1);
  });

  it('still merges replicas of one service on one engine', () => {
    const compose = { 'iap.from': 'https://wiki.example', 'com.docker.compose.project': 'wiki', 'com.docker.compose.service': 'app' };
    const table = buildOnce(listing(box('nas', 'wiki-1', compose), box('nas', 'wiki-2', compose, { networks: { proxy: '172.18.0.3' } })), null, translate);
    expect(table.issues).toEqual([]);
    expect(table.routes[0]?.upstreams.map((target) => target.origin).sort()).toEqual(['http://172.18.0.2:80', 'http://172.18.0.3:80']);
  });
});

describe('createEngineListings', () => {
  const engines = [
    { name: 'nas', local: true },
    { name: 'pi', local: false },
  ];

  it('keeps each engine’s last listing and takes Gatehouse’s own networks from the local engine only', () => {
    const merged = createEngineListings(engines);
    const nas = { containers: [box('nas', 'a', {})], selfNetworks: ['proxy'], selfAddresses: ['172.18.0.9'] };
    const pi = { containers: [box('pi', 'b', {})], selfNetworks: ['lan'], selfAddresses: ['10.9.9.9'] };
    expect(merged.set('pi', pi)).toEqual({ containers: pi.containers, selfNetworks: null, selfAddresses: [], selfNetworkIds: [] });
    expect(merged.allListed()).toBe(false);
    expect(merged.unlisted()).toEqual(['nas']);
    const both = merged.set('nas', nas);
    expect(both.containers.map((c) => c.name)).toEqual(['a', 'b']);
    expect(both.selfNetworks).toEqual(['proxy']);
    expect(both.selfAddresses).toEqual(['172.18.0.9']);
    expect(merged.allListed()).toBe(true);
    // The Pi listing again with one container more; the NAS's last listing stays as it was.
    const next = merged.set('pi', { ...pi, containers: [...pi.containers, box('pi', 'c', {})] });
    expect(next.containers.map((c) => c.name)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a listing from an engine it does not know', () => {
    expect(() => createEngineListings(engines).set('other', listing())).toThrow(/unknown Docker engine "other"/);
  });
});

describe('combined discovery status', () => {
  const status = (state: 'up' | 'connecting' | 'degraded', since: number, lastError: string | null = null) => ({
    state,
    since,
    lastListAt: state === 'connecting' ? null : since,
    lastError,
    engineVersion: '20.10',
    reconnects: state === 'up' ? 0 : 2,
  });

  it('is the one engine’s own status with one engine', () => {
    const only = status('degraded', 5, 'gone');
    expect(combined([{ name: 'local', status: only }], false)).toBe(only);
  });

  it('is degraded while any engine is, since the earliest such engine, naming each engine in its errors', () => {
    const all = combined(
      [
        { name: 'nas', status: status('up', 10) },
        { name: 'pi', status: status('degraded', 20, 'connect ECONNREFUSED 10.0.0.5:2376') },
      ],
      true,
    );
    expect(all).toMatchObject({ state: 'degraded', since: 20, lastError: 'engine "pi": connect ECONNREFUSED 10.0.0.5:2376', reconnects: 2, engineVersion: 'nas 20.10, pi 20.10' });
  });

  it('is up only when every engine is', () => {
    expect(combined([{ name: 'nas', status: status('up', 10) }, { name: 'pi', status: status('up', 30) }], true)).toMatchObject({ state: 'up', since: 30, lastError: null });
    expect(combined([{ name: 'nas', status: status('up', 10) }, { name: 'pi', status: status('connecting', 30) }], true)).toMatchObject({ state: 'connecting', lastListAt: null });
  });
});
