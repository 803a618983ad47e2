import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRouteTable, createRouteTableBuilder, diffTables, type Route, type RouteTable } from '../../../src/routes/index.ts';
import type { RouteIssue, RouteSpec } from '../../../src/routes/spec.ts';
import type { HostOwner } from '../../../src/routes/claims.ts';
import { containerSpec, fileSpec, labelIssue } from './fixtures.ts';

function expectSameTable(actual: RouteTable, expected: RouteTable): void {
  expect(actual.fingerprint).toBe(expected.fingerprint);
  expect(actual.routes).toEqual(expected.routes);
  expect(actual.issues).toEqual(expected.issues);
  expect([...actual.byHost].map(([host, routes]) => [host, routes.map((r) => r.id)])).toEqual(
    [...expected.byHost].map(([host, routes]) => [host, routes.map((r) => r.id)]),
  );
}

/** Every object reachable from `value`, with the path that reaches it. */
function* objectsIn(value: unknown, path = 'table'): Generator<[string, object]> {
  if (value === null || typeof value !== 'object') return;
  yield [path, value];
  const entries = value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(value);
  for (const [key, child] of entries) yield* objectsIn(child, `${path}.${key}`);
}

describe('createRouteTableBuilder', () => {
  const a = containerSpec({ name: 'a', hosts: ['a.example'] });
  const b = containerSpec({ name: 'b', hosts: ['b.example'] });
  const badPort = labelIssue('broken', 'iap.port', 'bad port');

  it('checks only the named containers for a changed unit when given the same owners map and what changed in it', () => {
    const owners = new Map<string, HostOwner>();
    const ownerOf = (spec: RouteSpec) => (spec.source.kind === 'container' ? spec.source.containerId : '');
    const builder = createRouteTableBuilder();
    builder.build([a, b], [], { closed: [], owners });
    owners.set(ownerOf(a), { kind: 'compose', project: 'shop' });
    owners.set(ownerOf(b), { kind: 'compose', project: 'shop' });
    // Both changed in place, but only a is named: b keeps the unit it was settled with.
    const partly = builder.build([a, b], [], { closed: [], owners, ownersChanged: [ownerOf(a)] });
    expect(partly.owners.get('a.example')).toEqual({ kind: 'compose', project: 'shop' });
    expect(partly.owners.get('b.example')?.kind).toBe('container');
    // A build that does not say what changed checks every route, and catches up.
    const full = builder.build([a, b], [], { closed: [], owners });
    expectSameTable(full, buildRouteTable([a, b], [], { closed: [], owners }));
    expect(full.owners.get('b.example')).toEqual({ kind: 'compose', project: 'shop' });
    // A list of changes for another map than the previous build's is not trusted either.
    const other = new Map(owners);
    other.delete(ownerOf(a));
    const fresh = builder.build([a, b], [], { closed: [], owners: other, ownersChanged: [] });
    expect(fresh.owners.get('a.example')?.kind).toBe('container');
    expectSameTable(fresh, buildRouteTable([a, b], [], { closed: [], owners: other }));
  });

  it('finds every route of a container whose unit changed, when it has several, and after one of them goes', () => {
    const top = containerSpec({ name: 'multi', hosts: ['top.example'] });
    const admin = containerSpec({ name: 'multi', routeName: 'admin', hosts: ['admin.example'] });
    const extra = containerSpec({ name: 'multi', routeName: 'extra', hosts: ['extra.example'] });
    const containerId = 'id-multi';
    const owners = new Map<string, HostOwner>();
    const builder = createRouteTableBuilder();
    builder.build([top, admin, extra], [], { closed: [], owners });
    owners.set(containerId, { kind: 'compose', project: 'shop' });
    const moved = builder.build([top, admin, extra], [], { closed: [], owners, ownersChanged: [containerId] });
    for (const host of ['top.example', 'admin.example', 'extra.example']) expect(moved.owners.get(host), host).toEqual({ kind: 'compose', project: 'shop' });
    // One route gone: the other two are still found.
    builder.build([top, admin], [], { closed: [], owners, ownersChanged: [] });
    owners.set(containerId, { kind: 'compose', project: 'lab' });
    const again = builder.build([top, admin], [], { closed: [], owners, ownersChanged: [containerId] });
    expectSameTable(again, buildRouteTable([top, admin], [], { closed: [], owners }));
    // Down to one route, then its unit changes once more.
    builder.build([admin], [], { closed: [], owners, ownersChanged: [] });
    owners.set(containerId, { kind: 'compose', project: 'den' });
    const last = builder.build([admin], [], { closed: [], owners, ownersChanged: [containerId] });
    expect(last.owners.get('admin.example')).toEqual({ kind: 'compose', project: 'den' });
  });

  it('takes over the routes whose members are the same spec objects, and merges the rest again', () => {
    const builder = createRouteTableBuilder();
    const first = builder.build([a, b], []);
    const b2 = containerSpec({ name: 'b', hosts: ['b.example'], ready: false });
    const second = builder.build([a, b2], []);
    expect(second.routes[0]).toBe(first.routes[0]);
    expect(second.routes[1]).not.toBe(first.routes[1]);
    expect(second.routes[1]?.ready).toEqual([]);
    expectSameTable(second, buildRouteTable([a, b2], []));
    expect(diffTables(first, second).changed).toEqual(['container:b/default']);
  });

  it('gives back the previous table when nothing changed, and a new one when anything did', () => {
    const builder = createRouteTableBuilder();
    const first = builder.build([a, b], [badPort]);
    expect(builder.build([a, b], [badPort])).toBe(first);
    const fewerIssues = builder.build([a, b], []);
    expect(fewerIssues).not.toBe(first);
    expect(fewerIssues.issues).toEqual([]);
    const fewerRoutes = builder.build([a], []);
    expect(fewerRoutes.routes.map((r) => r.id)).toEqual(['container:a/default']);
  });

  it('settles a conflict the same way when only the newcomer changes', () => {
    const owner = containerSpec({ name: 'owner', hosts: ['app.example'], created: 100 });
    const intruder = containerSpec({ name: 'intruder', hosts: ['app.example'], created: 200 });
    const builder = createRouteTableBuilder();
    builder.build([owner, intruder], []);
    const intruder2 = containerSpec({ name: 'intruder', hosts: ['app.example', 'x.example'], created: 200 });
    const table = builder.build([owner, intruder2], []);
    expectSameTable(table, buildRouteTable([intruder2, owner], []));
    expect(table.issues.map((i) => i.code)).toEqual(['conflict']);
  });

  it('keeps a spec or issue passed twice, as a from-scratch build does', () => {
    const builder = createRouteTableBuilder();
    builder.build([a], [badPort]);
    const table = builder.build([a, a], [badPort, badPort]);
    expectSameTable(table, buildRouteTable([a, a], [badPort, badPort]));
    expect(table.issues).toHaveLength(2);
  });

  it('takes a spec listed twice in a first build once, as later builds do', () => {
    const builder = createRouteTableBuilder();
    const first = builder.build([a, a, b], []);
    expect(first.routes.map((route) => route.sources.length)).toEqual([1, 1]);
    expectSameTable(first, buildRouteTable([a, b], []));
    // A route refused gets one issue per member: a spec counted twice would get two.
    const older = containerSpec({ name: 'older', hosts: [...a.hosts], created: 1 });
    const refused = createRouteTableBuilder().build([a, a, older], []);
    expect(refused.issues.filter((issue) => issue.code === 'conflict')).toHaveLength(1);
    expectSameTable(builder.build([a, b], []), buildRouteTable([a, b], []));
    expect(builder.build([b], []).routes.map((route) => route.id)).toEqual(buildRouteTable([b], []).routes.map((route) => route.id));
  });

  it('freezes every object reachable from the table, reused or new', () => {
    const builder = createRouteTableBuilder();
    const spec = { ...containerSpec({ name: 'h', hosts: ['h.example'] }), setHeaders: { 'X-A': '{email}' }, hostHeader: { mode: 'literal' as const, host: 'in' } };
    builder.build([a, spec], [badPort]);
    const table = builder.build([a, spec, b, fileSpec({ index: 0, hosts: ['a.example'] })], [badPort]);
    const thawed = [...objectsIn(table)].filter(([, value]) => !Object.isFrozen(value)).map(([path]) => path);
    expect(thawed).toEqual([]);
    expect(Object.isFrozen(spec.setHeaders)).toBe(false);
  });

  it('fingerprints a table as the plain JSON of its routes, issues, closed claims and owners', () => {
    const builder = createRouteTableBuilder();
    builder.build([a, b], [badPort]);
    const table = builder.build([a, containerSpec({ name: 'c', hosts: ['a.example'] })], [badPort]);
    expect(table.fingerprint).toBe(JSON.stringify({ routes: table.routes, issues: table.issues, closed: table.closed, owners: [...table.owners] }));
  });
});

describe('createRouteTableBuilder, for any sequence of inputs', () => {
  // A pool of spec objects: replicas of one group, rivals for one address, file routes, and
  // changed copies of the same claim, so that reuse, conflicts and merging all come up.
  const pool: RouteSpec[] = [
    containerSpec({ name: 'web-1', group: 'shop/web', created: 10, hosts: ['shop.example'], origin: 'http://10.0.0.1:80' }),
    containerSpec({ name: 'web-2', group: 'shop/web', created: 20, hosts: ['shop.example'], origin: 'http://10.0.0.2:80', ready: false }),
    containerSpec({ name: 'web-2', group: 'shop/web', created: 20, hosts: ['shop.example', 'www.example'], origin: 'http://10.0.0.2:80' }),
    containerSpec({ name: 'rival', created: 5, hosts: ['www.example'] }),
    containerSpec({ name: 'rival', created: 5, hosts: ['www.example'], path: '/api' }),
    containerSpec({ name: 'late', created: 30, hosts: ['shop.example'], path: '/api' }),
    containerSpec({ name: 'admin', routeName: 'admin', group: 'shop/web', created: 10, hosts: ['shop.example'], path: '/admin' }),
    fileSpec({ index: 0, hosts: ['www.example'] }),
    fileSpec({ index: 1, hosts: ['files.example'] }),
  ];
  const issues: RouteIssue[] = [labelIssue('x', 'iap.port', 'bad port'), labelIssue('y', 'iap.from', 'bad from'), labelIssue('x', 'iap.allow', 'bad allow')];
  const input = fc.record({
    specs: fc.array(fc.constantFrom(...pool), { maxLength: 8 }),
    issues: fc.array(fc.constantFrom(...issues), { maxLength: 3 }),
  });

  it('builds the same table as a from-scratch build after every step', () => {
    let reusedRoutes = 0;
    let conflicts = 0;
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 12 }), (steps) => {
        const builder = createRouteTableBuilder();
        let before: readonly Route[] = [];
        for (const step of steps) {
          const table = builder.build(step.specs, step.issues);
          expectSameTable(table, buildRouteTable([...step.specs].reverse(), step.issues));
          reusedRoutes += table.routes.filter((route) => before.includes(route)).length;
          if (table.issues.some((issue) => issue.code === 'conflict')) conflicts++;
          before = table.routes;
        }
      }),
      { numRuns: 300 },
    );
    expect(reusedRoutes).toBeGreaterThan(100);
    expect(conflicts).toBeGreaterThan(100);
  });
});
