import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRouteTable, createRouteTableBuilder, diffTables, findRoute, LayeredMap, sameTables, type ClosedClaimSpec, type HostOwner, type RouteTable } from '../../../src/routes/index.ts';
import type { RouteSpec } from '../../../src/routes/spec.ts';
import { containerSpec, fileSpec } from './fixtures.ts';

/**
 * The builder settles again only the hosts a change touches. Here many hosts, so most changes
 * leave most of the table alone: after every step of random sequences (specs, closed claims and
 * units coming, going and changing) the table must equal a from-scratch build in every part,
 * including the owners and the claims of each host.
 */

const HOSTS = ['h0.example', 'h1.example', 'h2.example', 'h3.example', 'h4.example', 'h5.example', 'h6.example', 'h7.example'];
const NAMES = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'];

const hostsArb = fc.uniqueArray(fc.constantFrom(...HOSTS), { minLength: 1, maxLength: 2 });
const specArb: fc.Arbitrary<RouteSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ name: fc.constantFrom(...NAMES), hosts: hostsArb, path: fc.constantFrom('/', '/', '/api'), created: fc.integer({ min: 1, max: 5 }), ready: fc.boolean(), replica: fc.boolean() }).map((c) =>
    containerSpec({ name: c.name, hosts: c.hosts, path: c.path, created: c.created, ready: c.ready, ...(c.replica ? { group: 'shop/web' } : {}), origin: `http://${c.name}:80` }),
  ) },
  { weight: 1, arbitrary: fc.record({ index: fc.integer({ min: 0, max: 2 }), hosts: hostsArb }).map((f) => fileSpec({ index: f.index, hosts: f.hosts })) },
);
const closedArb: fc.Arbitrary<ClosedClaimSpec> = fc
  .record({ name: fc.constantFrom(...NAMES), hosts: hostsArb, path: fc.constantFrom('/', '/api'), state: fc.constantFrom('stopped' as const, 'misconfigured' as const), created: fc.integer({ min: 1, max: 5 }) })
  .map((c) => ({
    source: { kind: 'container' as const, containerId: `id-${c.name}`, containerName: c.name, group: c.name, created: c.created },
    routeName: 'default',
    hosts: c.hosts,
    path: c.path,
    state: c.state,
    owner: { kind: 'container' as const, containerId: `id-${c.name}`, containerName: c.name },
  }));
const unitArb = fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom<HostOwner | null>(null, { kind: 'compose', project: 'shop' }, { kind: 'compose', project: 'blog' }));

type Step =
  | { op: 'add'; spec: RouteSpec }
  | { op: 'remove'; at: number }
  | { op: 'close'; claim: ClosedClaimSpec }
  | { op: 'open'; at: number }
  | { op: 'units'; units: Record<string, HostOwner | null> };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: specArb.map((spec) => ({ op: 'add' as const, spec })) },
  { weight: 3, arbitrary: fc.nat().map((at) => ({ op: 'remove' as const, at })) },
  { weight: 2, arbitrary: closedArb.map((claim) => ({ op: 'close' as const, claim })) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ op: 'open' as const, at })) },
  { weight: 1, arbitrary: unitArb.map((units) => ({ op: 'units' as const, units })) },
);

function expectSameTable(actual: RouteTable, expected: RouteTable): void {
  expect(actual.routes).toEqual(expected.routes);
  expect(actual.issues).toEqual(expected.issues);
  expect(actual.closed).toEqual(expected.closed);
  expect([...actual.owners]).toEqual([...expected.owners]);
  expect([...actual.byHost].map(([host, routes]) => [host, routes.map((route) => route.id)])).toEqual([...expected.byHost].map(([host, routes]) => [host, routes.map((route) => route.id)]));
  expect([...actual.claims].map(([host, list]) => [host, list.map((claim) => `${claim.state} ${claim.path} ${claim.route === null ? claim.closed.id : claim.route.id}`)])).toEqual(
    [...expected.claims].map(([host, list]) => [host, list.map((claim) => `${claim.state} ${claim.path} ${claim.route === null ? claim.closed.id : claim.route.id}`)]),
  );
  for (const host of HOSTS) {
    expect(actual.byHost.get(host)?.map((route) => route.id)).toEqual(expected.byHost.get(host)?.map((route) => route.id));
    expect(actual.owners.get(host)).toEqual(expected.owners.get(host));
    expect(actual.claims.has(host)).toBe(expected.claims.has(host));
  }
  expect(actual.fingerprint).toBe(expected.fingerprint);
  expect(sameTables(actual, expected)).toBe(true);
}

describe('createRouteTableBuilder, settling only the hosts a change touches', () => {
  it('builds after every step the table a from-scratch build gives, and diffs it as the from-scratch tables diff', () => {
    const seen = { kept: 0, conflicts: 0, closed: 0 };
    fc.assert(
      fc.property(fc.array(specArb, { maxLength: 8 }), fc.array(stepArb, { minLength: 1, maxLength: 30 }), (initial, steps) => {
        const specs = [...initial];
        const closed: ClosedClaimSpec[] = [];
        let units: Record<string, HostOwner | null> = {};
        const builder = createRouteTableBuilder();
        let before: RouteTable | null = null;
        let scratchBefore: RouteTable | null = null;
        for (const step of [null, ...steps]) {
          if (step?.op === 'add') specs.push(step.spec);
          else if (step?.op === 'remove' && specs.length > 0) specs.splice(step.at % specs.length, 1);
          else if (step?.op === 'close') {
            // A container holds one closed claim per route name, as the claim collector gives them.
            const at = closed.findIndex((claim) => claim.source.kind === 'container' && step.claim.source.kind === 'container' && claim.source.containerId === step.claim.source.containerId);
            if (at === -1) closed.push(step.claim);
            else closed[at] = step.claim;
          }
          else if (step?.op === 'open' && closed.length > 0) closed.splice(step.at % closed.length, 1);
          else if (step?.op === 'units') units = step.units;
          const owners = new Map<string, HostOwner>();
          for (const [name, unit] of Object.entries(units)) if (unit !== null) owners.set(`id-${name}`, unit);
          const inputs = { closed: [...closed], owners };
          const table = builder.build([...specs], [], inputs);
          const scratch = buildRouteTable([...specs].reverse(), [], { closed: [...closed], owners: new Map(owners) });
          expectSameTable(table, scratch);
          if (before !== null && scratchBefore !== null) {
            expect(diffTables(before, table)).toEqual(diffTables(scratchBefore, scratch));
            expect(sameTables(before, table)).toBe(sameTables(scratchBefore, scratch));
            seen.kept += table.routes.filter((route) => before?.routes.includes(route)).length;
          }
          if (table.issues.length > 0) seen.conflicts++;
          if (table.closed.length > 0) seen.closed++;
          before = table;
          scratchBefore = scratch;
        }
      }),
      { numRuns: 250 },
    );
    // The generators must reach each case often enough for the comparison to mean something.
    expect(seen.kept).toBeGreaterThan(500);
    expect(seen.conflicts).toBeGreaterThan(200);
    expect(seen.closed).toBeGreaterThan(200);
  });
});

describe('LayeredMap', () => {
  it('reads, counts and lists like a Map after any sequence of changes, folding its layers as they grow', () => {
    const keys = fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `k${i}`));
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(keys, fc.option(fc.integer(), { nil: undefined })), { maxLength: 30 }), { maxLength: 40 }), (batches) => {
        const reference = new Map<string, number>();
        let map = LayeredMap.empty<number>();
        const versions: [LayeredMap<number>, [string, number][]][] = [];
        for (const batch of batches) {
          const changes = new Map(batch);
          map = map.with(changes);
          for (const [key, value] of changes) {
            if (value === undefined) reference.delete(key);
            else reference.set(key, value);
          }
          const sorted = [...reference].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          expect([...map]).toEqual(sorted);
          expect(map.size).toBe(reference.size);
          for (const [key] of batch) {
            expect(map.get(key)).toBe(reference.get(key));
            expect(map.has(key)).toBe(reference.has(key));
          }
          versions.push([map, sorted]);
        }
        // Every earlier version is unchanged by the later ones.
        for (const [version, entries] of versions) expect([...version.entries()]).toEqual(entries);
      }),
      { numRuns: 200 },
    );
  });

  it('folds past 256 changed keys without losing any, and has no way to change it in place', () => {
    let map = LayeredMap.empty<number>();
    for (let i = 0; i < 600; i++) map = map.with(new Map([[`k${i}`, i]]));
    map = map.with(new Map(Array.from({ length: 300 }, (_, i) => [`k${i * 2}`, undefined] as const)));
    expect(map.size).toBe(300);
    expect(map.get('k1')).toBe(1);
    expect(map.get('k2')).toBeUndefined();
    expect([...map.keys()]).toHaveLength(300);
    expect(Object.isFrozen(map)).toBe(true);
    expect('set' in map).toBe(false);
  });
});

describe('findRoute', () => {
  it('finds every route of a table by id, and nothing for an id the table lacks', () => {
    const specs = NAMES.map((name, i) => containerSpec({ name, hosts: [`r${i}.example`] }));
    const table = buildRouteTable(specs, []);
    expect(table.routes.length).toBe(NAMES.length);
    for (const route of table.routes) expect(findRoute(table, route.id)).toBe(route);
    for (const id of ['', 'container:a', 'container:id-c9/defaultx', 'zzz']) expect(findRoute(table, id)).toBeUndefined();
  });
});
