import { describe, expect, it } from 'vitest';
import {
  buildRouteTable,
  matchClaim,
  matchRoute,
  type ClosedClaimSpec,
  type HostOwner,
  type RouteTable,
} from '../../../src/routes/index.ts';
import type { RouteSpec } from '../../../src/routes/spec.ts';
import { containerSpec, fileSpec } from './fixtures.ts';

const project = (name: string): HostOwner => ({ kind: 'compose', project: name });

function closedClaim(input: { name: string; created?: number; hosts?: string[]; path: string; state?: ClosedClaimSpec['state']; owner?: HostOwner }): ClosedClaimSpec {
  const id = `id-${input.name}`;
  return {
    source: { kind: 'container', containerId: id, containerName: input.name, group: input.name, created: input.created ?? 1000 },
    routeName: 'default',
    hosts: input.hosts ?? ['app.example'],
    path: input.path,
    state: input.state ?? 'misconfigured',
    owner: input.owner ?? { kind: 'container', containerId: id, containerName: input.name },
  };
}

function build(specs: RouteSpec[], owners: Record<string, HostOwner>, closed: ClosedClaimSpec[] = []): RouteTable {
  return buildRouteTable(specs, [], { closed, owners: new Map(Object.entries(owners).map(([name, owner]) => [`id-${name}`, owner])) });
}

const stateAt = (table: RouteTable, path: string, host = 'app.example') => {
  const claim = matchClaim(table, host, path);
  return claim === undefined ? 'unknown' : claim.state === 'live' ? `live ${claim.route.id}` : claim.state;
};

describe('closed claims keep their address (fail closed)', () => {
  const root = containerSpec({ name: 'web', created: 100, path: '/' });

  it.each(['misconfigured', 'stopped'] as const)('a %s narrow /admin answers for /admin/x instead of the broad / route', (state) => {
    const table = build([root], { web: project('shop'), admin: project('shop') }, [closedClaim({ name: 'admin', created: 200, path: '/admin', state, owner: project('shop') })]);
    expect(stateAt(table, '/admin/x')).toBe(state);
    expect(stateAt(table, '/admin')).toBe(state);
    expect(stateAt(table, '/admin;x=1')).toBe(state);
    expect(matchRoute(table, 'app.example', '/admin/x')).toBeUndefined();
    expect(stateAt(table, '/administrator')).toBe('live container:web/default');
    expect(stateAt(table, '/')).toBe('live container:web/default');
    expect(table.closed.map((claim) => [claim.id, claim.state, claim.path])).toEqual([['container:id-admin/default', state, '/admin']]);
  });

  it('closes a whole host when the claim is all that is left of it, and leaves unknown hosts unknown', () => {
    const table = build([], {}, [closedClaim({ name: 'gone', path: '/', state: 'stopped' })]);
    expect(stateAt(table, '/anything')).toBe('stopped');
    expect(stateAt(table, '/', 'other.example')).toBe('unknown');
    expect(table.byHost.has('app.example')).toBe(false);
    expect(table.owners.get('app.example')).toEqual({ kind: 'container', containerId: 'id-gone', containerName: 'gone' });
  });

  it('lets a running replica serve an address a stopped one of the same unit also claims', () => {
    const live = containerSpec({ name: 'web-2', group: 'web', created: 300 });
    const table = build([live], { 'web-2': project('shop') }, [closedClaim({ name: 'web-1', created: 100, path: '/', state: 'stopped', owner: project('shop') })]);
    expect(stateAt(table, '/')).toBe('live container:web/default');
    expect(table.closed).toEqual([]);
    expect(table.issues).toEqual([]);
  });

  it('keeps an owned host closed against a live newcomer from another unit (the owner keeps it)', () => {
    const intruder = containerSpec({ name: 'intruder', created: 300, path: '/' });
    const table = build([intruder], { intruder: project('other') }, [closedClaim({ name: 'broken', created: 100, path: '/', owner: project('shop') })]);
    expect(stateAt(table, '/')).toBe('misconfigured');
    expect(table.routes).toEqual([]);
    expect(table.issues.map((issue) => issue.message)).toEqual([
      'https://app.example/: the host app.example belongs to compose project "shop", and only its owner may publish routes under it; container "intruder" route default was not published (use a host of your own)',
    ]);
  });

  it('gives a tie on creation time to the live claim, whatever the ids say', () => {
    const live = containerSpec({ name: 'zz-live', created: 100, path: '/' });
    const table = build([live], { 'zz-live': project('live') }, [closedClaim({ name: 'aa-closed', created: 100, path: '/x', owner: project('closed') })]);
    expect(table.owners.get('app.example')).toEqual(project('live'));
    expect(table.closed).toEqual([]);
  });

  it('publishes a closed claim on the hosts still free, and not on those its own unit serves', () => {
    const live = containerSpec({ name: 'web', created: 300, hosts: ['app.example'], path: '/' });
    const table = build([live], { web: project('shop') }, [
      closedClaim({ name: 'old', created: 100, hosts: ['app.example', 'www.example'], path: '/', state: 'stopped', owner: project('shop') }),
    ]);
    expect(stateAt(table, '/')).toBe('live container:web/default');
    expect(stateAt(table, '/', 'www.example')).toBe('stopped');
    expect(table.closed.map((claim) => claim.hosts)).toEqual([['www.example']]);
  });

  it('drops a closed claim of another unit under a host someone else owns', () => {
    const table = build([root], { web: project('shop') }, [closedClaim({ name: 'late', created: 300, path: '/admin', owner: project('other') })]);
    expect(stateAt(table, '/admin')).toBe('live container:web/default');
    expect(table.closed).toEqual([]);
  });

  it('holds a rejected file entry closed under a broad file route', () => {
    const broad = fileSpec({ file: '/r.yml', index: 0, path: '/' });
    const rejected: ClosedClaimSpec = {
      source: { kind: 'file', file: '/r.yml', index: 1 },
      routeName: 'file:1',
      hosts: ['app.example'],
      path: '/admin',
      state: 'misconfigured',
      owner: { kind: 'file', file: '/r.yml' },
    };
    const table = build([broad], {}, [rejected]);
    expect(stateAt(table, '/admin/users')).toBe('misconfigured');
    expect(stateAt(table, '/')).toBe('live file:/r.yml#0');
  });

  it('gives a host a rejected file entry claims to the operator, ahead of any container', () => {
    const rejected = (index: number, path: string): ClosedClaimSpec => ({
      source: { kind: 'file', file: '/r.yml', index },
      routeName: `file:${index}`,
      hosts: ['app.example'],
      path,
      state: 'misconfigured',
      owner: project('ignored'),
    });
    const table = build([root], { web: project('shop') }, [rejected(3, '/b'), rejected(1, '/a')]);
    expect(table.owners.get('app.example')).toEqual({ kind: 'file', file: '/r.yml' });
    expect(table.routes).toEqual([]);
    expect(table.closed.map((claim) => [claim.id, claim.owner])).toEqual([
      ['file:/r.yml#1', { kind: 'file', file: '/r.yml' }],
      ['file:/r.yml#3', { kind: 'file', file: '/r.yml' }],
    ]);
  });

  it('changes the fingerprint when a claim closes or changes state', () => {
    const open = build([root], { web: project('shop') });
    const stopped = build([root], { web: project('shop') }, [closedClaim({ name: 'a', path: '/a', state: 'stopped', owner: project('shop') })]);
    const broken = build([root], { web: project('shop') }, [closedClaim({ name: 'a', path: '/a', state: 'misconfigured', owner: project('shop') })]);
    expect(new Set([open.fingerprint, stopped.fingerprint, broken.fingerprint]).size).toBe(3);
  });
});

describe('host ownership', () => {
  const app = containerSpec({ name: 'app', created: 100, path: '/' });
  const admin = containerSpec({ name: 'admin', created: 110, path: '/admin' });

  it('refuses any path under a host owned by another compose project, naming the owner', () => {
    const statics = containerSpec({ name: 'statics', created: 200, path: '/static', overrides: { policy: { public: true, allow: [], deny: [], bypass: [], corsPreflight: false } } });
    const panel = containerSpec({ name: 'panel', created: 300, path: '/admin/panel', overrides: { policy: { public: true, allow: [], deny: [], bypass: [], corsPreflight: false } } });
    const table = build([panel, statics, admin, app], { app: project('shop'), admin: project('shop'), statics: project('evil'), panel: project('evil') });
    expect(table.routes.map((route) => route.id)).toEqual(['container:admin/default', 'container:app/default']);
    expect(stateAt(table, '/static/x')).toBe('live container:app/default');
    expect(stateAt(table, '/admin/panel')).toBe('live container:admin/default');
    expect(table.issues.map((issue) => [issue.source.kind === 'container' && issue.source.containerName, issue.code, issue.value])).toEqual([
      ['panel', 'conflict', 'https://app.example/admin/panel'],
      ['statics', 'conflict', 'https://app.example/static'],
    ]);
    expect(table.issues[0]?.message).toContain('belongs to compose project "shop"');
  });

  it('lets containers of one project, or of one stack, share a host', () => {
    const shop = build([admin, app], { app: project('shop'), admin: project('shop') });
    expect(shop.routes).toHaveLength(2);
    const stack: HostOwner = { kind: 'stack', namespace: 'prod' };
    const swarm = build([admin, app], { app: stack, admin: stack });
    expect(swarm.routes).toHaveLength(2);
    expect(swarm.owners.get('app.example')).toEqual(stack);
  });

  it('treats a container outside any project as a unit of its own', () => {
    const table = build([admin, app], {});
    expect(table.routes.map((route) => route.id)).toEqual(['container:app/default']);
    expect(table.issues[0]?.message).toContain('belongs to container "app"');
  });

  it('gives the host to the oldest claim whatever order the inputs come in, and breaks ties by id', () => {
    const late = containerSpec({ name: 'late', created: 50, path: '/late' });
    const owners = { app: project('shop'), admin: project('shop'), late: project('other') };
    for (const order of [[app, admin, late], [late, admin, app], [admin, late, app]]) {
      const table = build(order, owners);
      expect(table.owners.get('app.example')).toEqual(project('other'));
      expect(table.routes.map((route) => route.id)).toEqual(['container:late/default']);
    }
    const x = containerSpec({ name: 'x', created: 100, path: '/x' });
    const y = containerSpec({ name: 'y', created: 100, path: '/y' });
    expect(build([y, x], { x: project('px'), y: project('py') }).owners.get('app.example')).toEqual(project('px'));
  });

  it('refuses a route on several hosts entirely when one of them is owned by another unit', () => {
    const greedy = containerSpec({ name: 'greedy', created: 200, hosts: ['mine.example', 'app.example'], path: '/x' });
    const table = build([app, greedy], { app: project('shop'), greedy: project('evil') });
    expect(table.byHost.has('mine.example')).toBe(false);
    expect(table.owners.has('mine.example')).toBe(false);
  });

  it('gives the routes file every host it claims, before any container', () => {
    const file = fileSpec({ file: '/r.yml', index: 0, path: '/sso' });
    const table = build([app, file], { app: project('shop') });
    expect(table.owners.get('app.example')).toEqual({ kind: 'file', file: '/r.yml' });
    expect(table.routes.map((route) => route.id)).toEqual(['file:/r.yml#0']);
    expect(table.issues[0]?.message).toContain('belongs to the routes file "/r.yml"');
  });

  it('freezes the owners and closed claims it publishes', () => {
    const table = build([app], { app: project('shop') }, [closedClaim({ name: 'admin', path: '/admin', owner: project('shop') })]);
    expect(Object.isFrozen(table.owners.get('app.example'))).toBe(true);
    expect(Object.isFrozen(table.closed[0])).toBe(true);
    expect(Object.isFrozen(table.claims.get('app.example'))).toBe(true);
    expect(() => (table.owners as Map<string, HostOwner>).set('x', project('evil'))).toThrow(TypeError);
  });
});

describe('host ownership and closed claims: precedence and tie-breaks', () => {
  it('gives a host two route files claim to the first file by name, then by index, and keeps that owner', () => {
    const b = fileSpec({ file: '/b.yml', index: 0, path: '/b' });
    const a2 = fileSpec({ file: '/a.yml', index: 2, path: '/a2' });
    const a1 = fileSpec({ file: '/a.yml', index: 1, path: '/a2' });
    const table = build([b, a2, a1], {});
    expect(table.owners.get('app.example')).toEqual({ kind: 'file', file: '/a.yml' });
    expect(table.routes.map((route) => route.id)).toEqual(['file:/a.yml#1', 'file:/b.yml#0']);
    expect(table.issues.map((issue) => issue.message)).toEqual([
      'https://app.example/a2 is already served by file "/a.yml" (route 1); file "/a.yml" route 2 was not published',
    ]);
  });

  it('names the taken host of a route on several hosts when only a later host conflicts', () => {
    const holder = containerSpec({ name: 'holder', created: 100, hosts: ['two.example'], path: '/' });
    const late = containerSpec({ name: 'late', created: 200, hosts: ['one.example', 'two.example'], path: '/' });
    const table = build([late, holder], { holder: project('shop'), late: project('shop') });
    expect(table.routes.map((route) => route.id)).toEqual(['container:holder/default']);
    expect(table.issues.map((issue) => issue.value)).toEqual(['https://two.example/']);
    expect(table.issues[0]?.message).toContain('is already served by container "holder"');
    expect(table.owners.get('one.example')).toEqual(project('shop'));
  });

  it('publishes only the oldest of two closed claims on one address, and each on the hosts still free', () => {
    const table = build([], {}, [
      closedClaim({ name: 'newer', created: 200, hosts: ['app.example', 'www.example'], path: '/', state: 'stopped', owner: project('shop') }),
      closedClaim({ name: 'older', created: 100, hosts: ['app.example'], path: '/', state: 'misconfigured', owner: project('shop') }),
    ]);
    expect(table.closed.map((claim) => [claim.id, claim.hosts, claim.state])).toEqual([
      ['container:id-newer/default', ['www.example'], 'stopped'],
      ['container:id-older/default', ['app.example'], 'misconfigured'],
    ]);
    expect(stateAt(table, '/')).toBe('misconfigured');
    expect(stateAt(table, '/', 'www.example')).toBe('stopped');
  });

  it('publishes a closed claim whole: id, route name, source, owner, hosts, path and state', () => {
    const spec = closedClaim({ name: 'admin', created: 100, hosts: ['app.example'], path: '/admin', state: 'stopped', owner: project('shop') });
    const table = build([], {}, [spec]);
    expect(table.closed).toEqual([
      { id: 'container:id-admin/default', hosts: ['app.example'], owner: project('shop'), path: '/admin', routeName: 'default', source: spec.source, state: 'stopped' },
    ]);
  });

  it('lists routes, closed claims, issues and owners in a fixed order whatever order the inputs come in', () => {
    const specs = [
      containerSpec({ name: 'c', created: 300, hosts: ['c.example'], path: '/' }),
      containerSpec({ name: 'a', created: 100, hosts: ['a.example'], path: '/' }),
      containerSpec({ name: 'b', created: 200, hosts: ['b.example'], path: '/' }),
      containerSpec({ name: 'x', created: 400, hosts: ['c.example'], path: '/x' }),
      containerSpec({ name: 'y', created: 500, hosts: ['a.example'], path: '/y' }),
    ];
    const closed = [
      closedClaim({ name: 'z', created: 50, hosts: ['z.example'], path: '/' }),
      closedClaim({ name: 'm', created: 60, hosts: ['m.example'], path: '/' }),
    ];
    const owners = { a: project('pa'), b: project('pb'), c: project('pc'), x: project('px'), y: project('py') };
    for (const order of [specs, [...specs].reverse()]) {
      const table = build(order, owners, order === specs ? closed : [...closed].reverse());
      expect(table.routes.map((route) => route.id)).toEqual(['container:a/default', 'container:b/default', 'container:c/default']);
      expect(table.closed.map((claim) => claim.id)).toEqual(['container:id-m/default', 'container:id-z/default']);
      expect(table.issues.map((issue) => issue.value)).toEqual(['https://a.example/y', 'https://c.example/x']);
      expect([...table.owners.keys()]).toEqual(['a.example', 'b.example', 'c.example', 'm.example', 'z.example']);
    }
  });

  it('puts the routes file ahead of an older container and of a closed container claim', () => {
    const file = fileSpec({ file: '/r.yml', index: 0, path: '/sso' });
    const table = build([file], {}, [closedClaim({ name: 'old', created: 1, path: '/', owner: project('shop') })]);
    expect(table.owners.get('app.example')).toEqual({ kind: 'file', file: '/r.yml' });
    expect(table.closed).toEqual([]);
  });
});

describe('closed claims from the routes file and ties between closed claims', () => {
  const rejected = (file: string, index: number, path = '/a'): ClosedClaimSpec => ({
    source: { kind: 'file', file, index },
    routeName: `file:${index}`,
    hosts: ['app.example'],
    path,
    state: 'misconfigured',
    owner: { kind: 'file', file },
  });

  it('orders rejected file entries by file, then by index as a number, on one address', () => {
    expect(build([], {}, [rejected('/r.yml', 10), rejected('/r.yml', 9)]).closed.map((claim) => claim.id)).toEqual(['file:/r.yml#9']);
    expect(build([], {}, [rejected('/b.yml', 1), rejected('/a.yml', 5)]).closed.map((claim) => claim.id)).toEqual(['file:/a.yml#5']);
    expect(build([], {}, [rejected('/b.yml', 1)]).owners.get('app.example')).toEqual({ kind: 'file', file: '/b.yml' });
  });

  it('puts a rejected file entry ahead of a container claim as old as the epoch', () => {
    const ancient = containerSpec({ name: 'ancient', created: 0, path: '/' });
    const table = build([ancient], { ancient: project('shop') }, [rejected('/r.yml', 0, '/')]);
    expect(table.owners.get('app.example')).toEqual({ kind: 'file', file: '/r.yml' });
    expect(stateAt(table, '/')).toBe('misconfigured');
    expect(table.routes).toEqual([]);
  });

  it('breaks a tie between two closed claims of one age by id, whatever order they come in', () => {
    const bb = closedClaim({ name: 'bb', created: 100, path: '/', owner: project('shop') });
    const aa = closedClaim({ name: 'aa', created: 100, path: '/', owner: project('shop') });
    for (const order of [[bb, aa], [aa, bb]]) expect(build([], {}, order).closed.map((claim) => claim.id)).toEqual(['container:id-aa/default']);
  });

  it('fingerprints the table as the JSON of its routes, issues, closed claims and owners', () => {
    const specs = [
      containerSpec({ name: 'a', created: 100, hosts: ['a.example'], path: '/' }),
      containerSpec({ name: 'b', created: 200, hosts: ['b.example'], path: '/' }),
      containerSpec({ name: 'x', created: 300, hosts: ['a.example'], path: '/' }),
      containerSpec({ name: 'y', created: 400, hosts: ['b.example'], path: '/' }),
    ];
    const table = build(specs, { a: project('p'), b: project('p'), x: project('p'), y: project('p') }, [closedClaim({ name: 'c', hosts: ['c.example'], path: '/' })]);
    expect(table.routes).toHaveLength(2);
    expect(table.issues).toHaveLength(2);
    expect(JSON.parse(table.fingerprint)).toEqual(JSON.parse(JSON.stringify({ routes: table.routes, issues: table.issues, closed: table.closed, owners: [...table.owners] })));
  });
});
