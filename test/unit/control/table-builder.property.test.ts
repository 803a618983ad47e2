import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closedClaimsOf, createTableBuilder } from '../../../src/control/index.ts';
import type { ContainerSnapshot, DockerListing } from '../../../src/docker/snapshot.ts';
import { ownerOf, translateContainers } from '../../../src/labels/index.ts';
import { buildRouteTable, type ClaimInputs, type ClosedClaimSpec, type HostOwner, type RouteTable } from '../../../src/routes/index.ts';
import type { TranslationResult } from '../../../src/routes/spec.ts';
import { fileSpec } from '../routes/fixtures.ts';

/**
 * The incremental builder against a from-scratch build (labels/ translateContainers over the
 * whole listing, closed claims and units read as the claim collector documents it, then
 * buildRouteTable), after every step of random sequences of Docker changes. Few hosts, paths
 * and services, so conflicts, replicas and rejected labels come up often; containers move
 * between compose projects, a stack and a second engine, so units differ and change.
 */

const OPTIONS = { prefix: 'iap', dockerNetwork: undefined };
const translate = (listing: DockerListing) => translateContainers(listing, OPTIONS);

interface Box {
  serial: number;
  host: string;
  path: string;
  /** Compose service: boxes sharing one (and project and engine) are replicas of one route. */
  service: string | null;
  /** Compose project (or a stack's namespace, `stack:` in front): the unit ownership follows. */
  project: string;
  /** The Docker engine it runs on, when Gatehouse watches several. */
  engine: string | null;
  port: string | null;
  allow: string;
  admin: boolean;
  state: string;
  health: ContainerSnapshot['health'];
  created: number;
  ip: string;
  /** Also on a second network, so Gatehouse's own networks decide which address to use. */
  backend: boolean;
  ports: readonly number[];
}

const boxFields = {
  host: fc.constantFrom('a.example', 'b.example', 'c.example'),
  path: fc.constantFrom('/', '/', '/api'),
  service: fc.constantFrom(null, null, 'web', 'api'),
  project: fc.constantFrom('shop', 'shop', 'shop', 'blog', 'stack:shop'),
  engine: fc.constantFrom(null, null, null, null, 'pi'),
  port: fc.constantFrom(null, '80', '80', '80', '8080', 'eighty'),
  allow: fc.constantFrom('*', 'alice@example.com, group:devs', '@example.org', 'group:ops'),
  admin: fc.boolean(),
  state: fc.constantFrom('running', 'running', 'running', 'exited'),
  health: fc.constantFrom<ContainerSnapshot['health'][]>('none', 'none', 'healthy', 'starting', 'unhealthy'),
  created: fc.integer({ min: 1, max: 4 }),
  ip: fc.constantFrom('172.18.0.2', '172.18.0.3', '172.18.0.2', ''),
  backend: fc.boolean(),
  ports: fc.constantFrom([80], [80], [80], [80, 443], []),
};
const newBox = fc.record(boxFields);

type Step =
  | { op: 'add'; box: Omit<Box, 'serial'> }
  | { op: 'remove'; at: number }
  | { op: 'relabel'; at: number; field: 'host' | 'path' | 'port' | 'allow' | 'admin' | 'service'; box: Omit<Box, 'serial'> }
  | { op: 'health'; at: number; health: ContainerSnapshot['health'] }
  | { op: 'state'; at: number; state: string }
  | { op: 'ip'; at: number; ip: string }
  | { op: 'replica'; at: number; service: string; ip: string }
  | { op: 'unit'; at: number; project: string; engine: string | null }
  | { op: 'networks'; selfNetworks: readonly string[] | null }
  | { op: 'file'; host: string | null }
  | { op: 'same' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: newBox.map((box) => ({ op: 'add' as const, box })) },
  { weight: 2, arbitrary: fc.nat().map((at) => ({ op: 'remove' as const, at })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ at: fc.nat(), field: fc.constantFrom('host', 'path', 'port', 'allow', 'admin', 'service'), box: newBox })
      .map((r) => ({ op: 'relabel' as const, ...r })),
  },
  { weight: 2, arbitrary: fc.record({ at: fc.nat(), health: boxFields.health }).map((r) => ({ op: 'health' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ at: fc.nat(), state: boxFields.state }).map((r) => ({ op: 'state' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ at: fc.nat(), ip: boxFields.ip }).map((r) => ({ op: 'ip' as const, ...r })) },
  {
    weight: 2,
    arbitrary: fc.record({ at: fc.nat(), service: fc.constantFrom('web', 'api'), ip: fc.constantFrom('172.18.0.7', '172.18.0.8') }).map((r) => ({ op: 'replica' as const, ...r })),
  },
  { weight: 2, arbitrary: fc.record({ at: fc.nat(), project: boxFields.project, engine: boxFields.engine }).map((r) => ({ op: 'unit' as const, ...r })) },
  { weight: 1, arbitrary: fc.constantFrom(null, ['proxy'], ['proxy', 'backend']).map((selfNetworks) => ({ op: 'networks' as const, selfNetworks })) },
  { weight: 1, arbitrary: fc.constantFrom(null, 'a.example', 'c.example').map((host) => ({ op: 'file' as const, host })) },
  { weight: 1, arbitrary: fc.constant({ op: 'same' as const }) },
);

/** A new snapshot object every time, as each Docker listing is; frozen or not, as callers may pass either. */
function snapshot(box: Box, freeze: boolean): ContainerSnapshot {
  const labels: Record<string, string> = { 'iap.from': `https://${box.host}`, 'iap.path': box.path, 'iap.allow': box.allow };
  if (box.port !== null) labels['iap.port'] = box.port;
  if (box.admin) labels['iap.admin.from'] = `https://admin.${box.host}`;
  // A stack's namespace decides the unit; its compose labels still make replicas of one service.
  const stack = box.project.startsWith('stack:');
  if (stack) labels['com.docker.stack.namespace'] = box.project.slice('stack:'.length);
  const project = stack ? 'shop' : box.project;
  if (box.service !== null) Object.assign(labels, { 'com.docker.compose.project': project, 'com.docker.compose.service': box.service });
  // A container of a project with no service label: a unit, but no replica group.
  else if (project !== 'shop') labels['com.docker.compose.project'] = project;
  const value: ContainerSnapshot = {
    id: `id-${box.serial}`,
    name: `box-${box.serial}`,
    labels,
    imageLabels: {},
    state: box.state,
    health: box.health,
    created: box.created,
    networks: box.backend ? { backend: '172.19.0.2', proxy: box.ip } : { proxy: box.ip },
    networkMode: 'proxy',
    exposedPorts: [...box.ports],
    ...(box.engine === null ? {} : { engine: box.engine }),
  };
  if (!freeze) return value;
  Object.freeze(value.labels);
  Object.freeze(value.networks);
  Object.freeze(value.exposedPorts);
  return Object.freeze(value);
}

function apply(world: World, s: Step): void {
  const pick = (at: number) => world.boxes[at % world.boxes.length];
  switch (s.op) {
    case 'add':
      world.boxes.push({ ...s.box, serial: world.serial++ });
      return;
    case 'remove':
      if (world.boxes.length > 0) world.boxes.splice(s.at % world.boxes.length, 1);
      return;
    case 'relabel': {
      const box = pick(s.at);
      if (box) (box as unknown as Record<string, unknown>)[s.field] = s.box[s.field];
      return;
    }
    case 'health':
    case 'state':
    case 'ip': {
      const box = pick(s.at);
      if (box) Object.assign(box, s.op === 'health' ? { health: s.health } : s.op === 'state' ? { state: s.state } : { ip: s.ip });
      return;
    }
    case 'replica': {
      const box = pick(s.at);
      if (box === undefined) return;
      box.service = s.service;
      world.boxes.push({ ...box, serial: world.serial++, ip: s.ip, created: box.created + 1 });
      return;
    }
    case 'unit': {
      const box = pick(s.at);
      if (box) Object.assign(box, { project: s.project, engine: s.engine });
      return;
    }
    case 'networks':
      world.selfNetworks = s.selfNetworks;
      return;
    case 'file':
      world.file = s.host === null ? null : { specs: [fileSpec({ file: '/r.yml', index: 0, hosts: [s.host] })], issues: [] };
      return;
    case 'same':
      return;
  }
}

interface World {
  boxes: Box[];
  serial: number;
  selfNetworks: readonly string[] | null;
  file: TranslationResult | null;
}

function fromScratch(listing: DockerListing, file: TranslationResult | null): RouteTable {
  const containers = translateContainers(listing, OPTIONS);
  return buildRouteTable([...(file?.specs ?? []), ...containers.specs], [...(file?.issues ?? []), ...containers.issues], referenceClaims(listing, containers));
}

/**
 * What the claim collector must give, read afresh with plain ownerOf (one owner object per
 * container): a container not running holds its claims as stopped, a running one with issues and
 * no route as misconfigured; a container's unit is known when it serves routes or holds claims.
 */
function referenceClaims(listing: DockerListing, containers: TranslationResult): ClaimInputs {
  const idsOf = (items: readonly { source: TranslationResult['specs'][number]['source'] | TranslationResult['issues'][number]['source'] }[]) =>
    new Set(items.flatMap((item) => (item.source.kind === 'container' ? [item.source.containerId] : [])));
  const served = idsOf(containers.specs);
  const rejected = idsOf(containers.issues);
  const owners = new Map<string, HostOwner>();
  const closed: ClosedClaimSpec[] = [];
  for (const container of listing.containers) {
    const state = container.state !== 'running' ? 'stopped' : rejected.has(container.id) && !served.has(container.id) ? 'misconfigured' : null;
    if (state === null) {
      if (served.has(container.id)) owners.set(container.id, ownerOf(container));
      continue;
    }
    const claims = closedClaimsOf(container, state, { prefix: 'iap' });
    if (claims.length === 0) continue;
    owners.set(container.id, ownerOf(container));
    closed.push(...claims);
  }
  return { closed, owners };
}

function expectSameTable(actual: RouteTable, expected: RouteTable): void {
  expect(actual.fingerprint).toBe(expected.fingerprint);
  expect(actual.routes).toEqual(expected.routes);
  expect(actual.issues).toEqual(expected.issues);
  const index = (table: RouteTable) => [...table.byHost].map(([host, routes]) => [host, routes.map((route) => route.id)]);
  expect(index(actual)).toEqual(index(expected));
  const claims = (table: RouteTable) => [...table.claims].map(([host, list]) => [host, list.map((claim) => `${claim.state} ${claim.path}`)]);
  expect(claims(actual)).toEqual(claims(expected));
  expect(actual.closed).toEqual(expected.closed);
  // The fingerprint is still the plain serialisation of the table.
  expect(actual.fingerprint).toBe(JSON.stringify({ routes: expected.routes, issues: expected.issues, closed: expected.closed, owners: [...expected.owners] }));
}

describe('createTableBuilder, for any sequence of container changes', () => {
  it('builds after every step the table a from-scratch build gives, remembering only the listed containers', () => {
    const seen = { conflicts: 0, replicas: 0, rejected: 0, reused: 0, units: 0, closed: 0 };
    fc.assert(
      fc.property(fc.array(newBox, { maxLength: 6 }), fc.array(step, { minLength: 1, maxLength: 25 }), fc.boolean(), (initial, steps, freeze) => {
        const world: World = { boxes: initial.map((box, serial) => ({ ...box, serial })), serial: initial.length, selfNetworks: ['proxy'], file: null };
        const builder = createTableBuilder(translate);
        let before: RouteTable | null = null;
        for (const s of [{ op: 'same' as const }, ...steps]) {
          apply(world, s);
          const listing: DockerListing = { containers: world.boxes.map((box) => snapshot(box, freeze)), selfNetworks: world.selfNetworks };
          const table = builder.build(listing, world.file);
          expectSameTable(table, fromScratch(listing, world.file));
          expect(builder.rememberedContainers).toBe(listing.containers.length);
          if (table.issues.some((issue) => issue.code === 'conflict')) seen.conflicts++;
          if (table.issues.some((issue) => issue.code !== 'conflict')) seen.rejected++;
          if (table.routes.some((route) => route.upstreams.length > 1)) seen.replicas++;
          if (before !== null && table.routes.some((route) => before?.routes.includes(route))) seen.reused++;
          // Hosts owned by more than one unit (projects, the stack, engines), and closed claims.
          if (new Set([...table.owners.values()].map((owner) => JSON.stringify(owner))).size > 1) seen.units++;
          if (table.closed.length > 0) seen.closed++;
          before = table;
        }
      }),
      { numRuns: 300 },
    );
    // The generators must reach each case often enough for the comparison to mean something.
    expect(seen.conflicts).toBeGreaterThan(150);
    expect(seen.replicas).toBeGreaterThan(150);
    expect(seen.rejected).toBeGreaterThan(150);
    expect(seen.reused).toBeGreaterThan(150);
    expect(seen.units).toBeGreaterThan(150);
    expect(seen.closed).toBeGreaterThan(150);
  });
});
