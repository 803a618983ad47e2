import { describe, expect, it } from 'vitest';
import { buildRouteTable, type Route, type RouteTable } from '../../../src/routes/index.ts';
import type { RouteSpec } from '../../../src/routes/spec.ts';
import { containerSpec, fileSpec, inProject, labelIssue } from './fixtures.ts';

function routeById(table: RouteTable, id: string): Route {
  const route = table.routes.find((candidate) => candidate.id === id);
  if (!route) throw new Error(`no route ${id} in ${table.routes.map((r) => r.id).join(', ')}`);
  return route;
}

describe('buildRouteTable: replicas', () => {
  it('merges members of one group and route name into one route with every upstream, sorted by origin', () => {
    const table = buildRouteTable(
      [
        containerSpec({ name: 'web-2', group: 'shop/web', origin: 'http://10.0.0.3:80', ready: false }),
        containerSpec({ name: 'web-1', group: 'shop/web', origin: 'http://10.0.0.2:80' }),
      ],
      [],
    );
    expect(table.routes).toHaveLength(1);
    const route = routeById(table, 'container:shop/web/default');
    expect(route.upstreams.map((u) => u.origin)).toEqual(['http://10.0.0.2:80', 'http://10.0.0.3:80']);
    expect(route.ready.map((u) => u.origin)).toEqual(['http://10.0.0.2:80']);
    expect(route.sources.map((s) => (s.kind === 'container' ? s.containerName : s.file))).toEqual(['web-1', 'web-2']);
  });

  it('keeps different route names of one group apart', () => {
    const table = buildRouteTable(
      [
        containerSpec({ name: 'web', group: 'shop/web' }),
        containerSpec({ name: 'web', group: 'shop/web', routeName: 'admin', path: '/admin' }),
      ],
      [],
    );
    expect(table.routes.map((r) => r.id)).toEqual(['container:shop/web/admin', 'container:shop/web/default']);
  });

  it('lists an origin shared by two members once', () => {
    const table = buildRouteTable(
      [
        containerSpec({ name: 'a', group: 'g', origin: 'http://10.0.0.2:80' }),
        containerSpec({ name: 'b', group: 'g', origin: 'http://10.0.0.2:80' }),
      ],
      [],
    );
    expect(routeById(table, 'container:g/default').upstreams).toHaveLength(1);
  });

  it('takes the settings of the newest member during a rolling update, whatever the input order', () => {
    const old = containerSpec({ name: 'web-old', group: 'g', created: 100, hosts: ['old.example'], path: '/v1' });
    const fresh = containerSpec({
      name: 'web-new',
      group: 'g',
      created: 200,
      hosts: ['new.example'],
      path: '/v2',
      overrides: { timeoutMs: 5_000, display: { name: 'New', icon: null, description: null, group: null } },
    });
    for (const specs of [[old, fresh], [fresh, old]]) {
      const route = routeById(buildRouteTable(specs, []), 'container:g/default');
      expect(route.hosts).toEqual(['new.example']);
      expect(route.path).toBe('/v2');
      expect(route.timeoutMs).toBe(5_000);
      expect(route.display.name).toBe('New');
      expect(route.upstreams).toHaveLength(2);
    }
  });

  it('gives file routes the id file:<file>#<index>', () => {
    const table = buildRouteTable([fileSpec({ file: '/r.yml', index: 3 })], []);
    expect(table.routes.map((r) => r.id)).toEqual(['file:/r.yml#3']);
  });

  it('removes duplicate host aliases inside a route', () => {
    const table = buildRouteTable([containerSpec({ name: 'a', hosts: ['a.example', 'b.example', 'a.example'] })], []);
    expect(routeById(table, 'container:a/default').hosts).toEqual(['a.example', 'b.example']);
  });
});

describe('buildRouteTable: conflicts', () => {
  const first = containerSpec({ name: 'a', created: 100, hosts: ['app.example'], path: '/admin' });
  const second = containerSpec({ name: 'b', created: 200, hosts: ['app.example'], path: '/admin' });

  it('keeps the older claim and rejects the newcomer with an issue naming both', () => {
    const table = buildRouteTable([second, first], [], inProject('shop', [second, first]));
    expect(table.routes.map((r) => r.id)).toEqual(['container:a/default']);
    expect(table.issues).toEqual([
      {
        source: { kind: 'container', containerId: 'id-b', containerName: 'b' },
        label: null,
        value: 'https://app.example/admin',
        code: 'conflict',
        message:
          'https://app.example/admin is already served by container "a" (route default); container "b" route default was not published',
      },
    ]);
  });

  it('builds the same table from either input order', () => {
    const ab = buildRouteTable([first, second], [], inProject('shop', [first, second]));
    const ba = buildRouteTable([second, first], [], inProject('shop', [second, first]));
    expect(ba.fingerprint).toBe(ab.fingerprint);
    expect(ba.routes).toEqual(ab.routes);
    expect(ba.issues).toEqual(ab.issues);
  });

  it('rejects the newcomer on every host, not only the contested one', () => {
    const greedy = containerSpec({ name: 'b', created: 200, hosts: ['other.example', 'app.example'], path: '/admin' });
    const table = buildRouteTable([first, greedy], [], inProject('shop', [first, greedy]));
    expect(table.byHost.has('other.example')).toBe(false);
    expect(table.routes).toHaveLength(1);
    expect(table.issues[0]?.value).toBe('https://app.example/admin');
  });

  it('lets routes on the same host with different paths live side by side', () => {
    const root = containerSpec({ name: 'c', created: 300, hosts: ['app.example'], path: '/' });
    const table = buildRouteTable([first, root], [], inProject('shop', [first, root]));
    expect(table.routes).toHaveLength(2);
    expect(table.issues).toEqual([]);
  });

  it('puts file routes before older containers', () => {
    const file = fileSpec({ file: '/r.yml', index: 0, routeName: 'admin', hosts: ['app.example'], path: '/admin' });
    const table = buildRouteTable([first, file], [], inProject('shop', [first, file]));
    expect(table.routes.map((r) => r.id)).toEqual(['file:/r.yml#0']);
    expect(table.issues[0]?.message).toBe(
      'https://app.example/admin: the host app.example belongs to the routes file "/r.yml", and only its owner may publish routes under it; container "a" route default was not published (use a host of your own)',
    );
  });

  it('orders file routes among themselves by position in the file', () => {
    const later = fileSpec({ file: '/r.yml', index: 1 });
    const earlier = fileSpec({ file: '/r.yml', index: 0 });
    const table = buildRouteTable([later, earlier], [], inProject('shop', [later, earlier]));
    expect(table.routes.map((r) => r.id)).toEqual(['file:/r.yml#0']);
    expect(table.issues[0]?.source).toEqual({ kind: 'file', file: '/r.yml', index: 1 });
  });

  it('breaks a tie on creation time by route id', () => {
    const x = containerSpec({ name: 'x', created: 100 });
    const y = containerSpec({ name: 'y', created: 100 });
    expect(buildRouteTable([y, x], [], inProject('shop', [y, x])).routes.map((r) => r.id)).toEqual(['container:x/default']);
  });

  it('dates a replica group by its oldest member, so a rolling update does not lose the name', () => {
    const ownerOld = containerSpec({ name: 'owner-1', group: 'owner', created: 100 });
    const ownerNew = containerSpec({ name: 'owner-2', group: 'owner', created: 300 });
    const rival = containerSpec({ name: 'rival', created: 200 });
    const table = buildRouteTable([rival, ownerNew, ownerOld], [], inProject('shop', [rival, ownerNew, ownerOld]));
    expect(table.routes.map((r) => r.id)).toEqual(['container:owner/default']);
    expect(table.issues.map((i) => i.message)).toEqual([
      'https://app.example/ is already served by container "owner-1" (route default); container "rival" route default was not published',
    ]);
  });

  it('reports every member of a rejected replica group', () => {
    const owner = containerSpec({ name: 'owner', created: 100 });
    const rivals = [containerSpec({ name: 'r-1', group: 'r', created: 200 }), containerSpec({ name: 'r-2', group: 'r', created: 210 })];
    const table = buildRouteTable([owner, ...rivals], [], inProject('shop', [owner, ...rivals]));
    expect(table.issues.map((i) => (i.source.kind === 'container' ? i.source.containerName : ''))).toEqual(['r-1', 'r-2']);
    expect(table.issues.every((i) => i.code === 'conflict')).toBe(true);
  });
});

describe('buildRouteTable: index, issues, fingerprint, freezing', () => {
  it('indexes every alias, longest path first', () => {
    const table = buildRouteTable(
      [
        containerSpec({ name: 'root', hosts: ['a.example', 'b.example'], path: '/' }),
        containerSpec({ name: 'api', hosts: ['a.example'], path: '/api' }),
        containerSpec({ name: 'v2', hosts: ['a.example'], path: '/api/v2' }),
      ],
      [],
      inProject('site', [containerSpec({ name: 'root' }), containerSpec({ name: 'api' }), containerSpec({ name: 'v2' })]),
    );
    expect(table.byHost.get('a.example')?.map((r) => r.path)).toEqual(['/api/v2', '/api', '/']);
    expect(table.byHost.get('b.example')?.map((r) => r.id)).toEqual(['container:root/default']);
  });

  it('carries the translators\' issues into the table', () => {
    const issue = labelIssue('broken', 'iap.port', 'iap.port must be a number between 1 and 65535');
    const table = buildRouteTable([], [issue]);
    expect(table.issues).toEqual([issue]);
    expect(table.routes).toEqual([]);
  });

  it('gives the same fingerprint for the same input in any order', () => {
    const specs: RouteSpec[] = [
      containerSpec({ name: 'a', hosts: ['a.example'], overrides: { setHeaders: { 'X-One': '1', 'X-Two': '2' } } }),
      containerSpec({ name: 'b', hosts: ['b.example'] }),
      fileSpec({ index: 0, hosts: ['c.example'] }),
    ];
    const issues = [labelIssue('x', 'iap.port', 'bad port'), labelIssue('y', 'iap.from', 'bad from')];
    const reordered = [
      containerSpec({ name: 'b', hosts: ['b.example'] }),
      fileSpec({ index: 0, hosts: ['c.example'] }),
      containerSpec({ name: 'a', hosts: ['a.example'], overrides: { setHeaders: { 'X-Two': '2', 'X-One': '1' } } }),
    ];
    const one = buildRouteTable(specs, issues);
    const two = buildRouteTable(reordered, [...issues].reverse());
    expect(two.fingerprint).toBe(one.fingerprint);
    expect(two.issues).toEqual(one.issues);
  });

  it('changes the fingerprint when anything that matters changes', () => {
    const base = buildRouteTable([containerSpec({ name: 'a' })], []);
    expect(buildRouteTable([containerSpec({ name: 'a', ready: false })], []).fingerprint).not.toBe(base.fingerprint);
    expect(buildRouteTable([containerSpec({ name: 'a', path: '/x' })], []).fingerprint).not.toBe(base.fingerprint);
    expect(buildRouteTable([containerSpec({ name: 'a' })], [labelIssue('b', 'iap.port', 'bad')]).fingerprint).not.toBe(
      base.fingerprint,
    );
    expect(buildRouteTable([containerSpec({ name: 'a' })], []).fingerprint).toBe(base.fingerprint);
  });

  it('freezes the table all the way down and leaves the caller\'s specs alone', () => {
    const spec = containerSpec({ name: 'a' });
    const table = buildRouteTable([spec], [labelIssue('b', 'iap.port', 'bad')]);
    const route = table.routes[0] as Route;
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.routes)).toBe(true);
    expect(Object.isFrozen(route)).toBe(true);
    expect(Object.isFrozen(route.policy.allow[0])).toBe(true);
    expect(Object.isFrozen(route.upstreams[0])).toBe(true);
    expect(Object.isFrozen(route.sources[0])).toBe(true);
    expect(Object.isFrozen(table.issues[0]?.source)).toBe(true);
    expect(Object.isFrozen(table.byHost.get('app.example'))).toBe(true);
    expect(() => (table.byHost as Map<string, readonly Route[]>).set('evil.example', [])).toThrow(TypeError);
    expect(() => (table.byHost as Map<string, readonly Route[]>).delete('app.example')).toThrow(TypeError);
    expect(() => (table.routes as Route[]).push(route)).toThrow(TypeError);
    expect(() => {
      (route.policy as { public: boolean }).public = true;
    }).toThrow(TypeError);
    expect(Object.isFrozen(spec)).toBe(false);
    expect(Object.isFrozen(spec.policy)).toBe(false);
  });

  it('builds an empty table from nothing', () => {
    const table = buildRouteTable([], []);
    expect(table.routes).toEqual([]);
    expect(table.byHost.size).toBe(0);
    expect(table.fingerprint).toBe(buildRouteTable([], []).fingerprint);
  });
});

describe('buildRouteTable: shared parts', () => {
  it('gives routes built together one frozen object for each equal policy entry, and keeps unequal ones apart', () => {
    const policy = (allow: RouteSpec['policy']['allow']) => ({ allow, deny: [], public: false, bypass: [{ method: 'GET', path: '/healthz' }], corsPreflight: false });
    const a = containerSpec({ name: 'a', hosts: ['a.example'], overrides: { policy: policy([{ kind: 'domain', domain: 'example.org' }, { kind: 'email', email: 'a@example.com' }]) } });
    const b = containerSpec({ name: 'b', hosts: ['b.example'], overrides: { policy: policy([{ kind: 'domain', domain: 'example.org' }, { kind: 'email', email: 'b@example.com' }]) } });
    const [ra, rb] = buildRouteTable([a, b], []).routes as [Route, Route];
    expect(ra.policy.allow[0]).toBe(rb.policy.allow[0]);
    expect(ra.policy.bypass[0]).toBe(rb.policy.bypass[0]);
    expect(ra.policy.allow[1]).not.toBe(rb.policy.allow[1]);
    expect(ra.policy.allow).toEqual([{ domain: 'example.org', kind: 'domain' }, { email: 'a@example.com', kind: 'email' }]);
    expect(Object.isFrozen(ra.policy.allow[0])).toBe(true);
  });

  it('tells apart entries of one kind and one text held under different keys', () => {
    // Not a valid entry, but the builder copies what it is given: a shared entry must equal it in every key.
    const odd = { kind: 'email', domain: 'example.org' } as unknown as RouteSpec['policy']['allow'][number];
    const parsed = containerSpec({ name: 'a', hosts: ['a.example'] });
    const a: RouteSpec = { ...parsed, policy: { ...parsed.policy, allow: [odd] } };
    const b = containerSpec({ name: 'b', hosts: ['b.example'], overrides: { policy: { ...containerSpec({ name: 'x' }).policy, allow: [{ kind: 'email', email: 'example.org' }] } } });
    const c = containerSpec({ name: 'c', hosts: ['c.example'], overrides: { policy: { ...containerSpec({ name: 'x' }).policy, allow: [{ kind: 'email', email: 'example.org' }] } } });
    const [ra, rb, rc] = buildRouteTable([a, b, c], []).routes as [Route, Route, Route];
    expect(ra.policy.allow).toEqual([{ domain: 'example.org', kind: 'email' }]);
    expect(rb.policy.allow).toEqual([{ email: 'example.org', kind: 'email' }]);
    expect(rb.policy.allow[0]).toBe(rc.policy.allow[0]);
  });

  it('publishes each container of a unit of its own under its own name', () => {
    const specs = ['a', 'b'].map((name) => containerSpec({ name, hosts: [`${name}.example`] }));
    const table = buildRouteTable(specs, []);
    expect(table.owners.get('a.example')).toMatchObject({ kind: 'container', containerName: 'a' });
    expect(table.owners.get('b.example')).toMatchObject({ kind: 'container', containerName: 'b' });
  });

  it('gives routes that leave a group of keys at its defaults one frozen group, and one owner object per unit', () => {
    const specs = ['a', 'b'].map((name) => containerSpec({ name, hosts: [`${name}.example`] }));
    const strict = containerSpec({ name: 'c', hosts: ['c.example'], overrides: { access: { ...specs[0]!.access, mfa: true } } });
    const table = buildRouteTable([...specs, strict], [], inProject('shop', [...specs, strict]));
    const [a, b, c] = table.routes as [Route, Route, Route];
    expect(a.access).toBe(b.access);
    expect(a.oidc).toBe(b.oidc);
    expect(Object.isFrozen(a.access)).toBe(true);
    expect(c.access).not.toBe(a.access);
    expect(c.access.mfa).toBe(true);
    expect(table.owners.get('a.example')).toBe(table.owners.get('c.example'));
    expect(table.owners.get('a.example')).toEqual({ kind: 'compose', project: 'shop' });
    expect(c.policy).not.toBe(a.policy);
    // Sharing changes no value: the JSON is that of a canonical copy of each route.
    expect(JSON.parse(JSON.stringify(a.access))).toEqual({ maxAgeMs: null, mfa: false, networks: [], providers: [], trustedNetworks: [] });
  });
});

describe('buildRouteTable: host names', () => {
  it('publishes each host name as the spec gives it, whatever its case', () => {
    const table = buildRouteTable([containerSpec({ name: 'a', hosts: ['app.example', 'Odd.Example'] })], []);
    expect(table.routes[0]?.hosts).toEqual(['app.example', 'Odd.Example']);
    expect([...table.byHost.keys()]).toEqual(['Odd.Example', 'app.example']);
  });
});

describe('buildRouteTable: hostile keys', () => {
  it('keeps a header named __proto__ as data instead of a prototype', () => {
    const setHeaders = JSON.parse('{"__proto__": "x", "X-Real": "1"}') as Record<string, string>;
    expect(Object.keys(setHeaders)).toContain('__proto__');
    const table = buildRouteTable([{ ...containerSpec({ name: 'a' }), setHeaders }], []);
    const copied = (table.routes[0] as Route).setHeaders;
    expect(Object.keys(copied)).toEqual(['X-Real', '__proto__']);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
  });
});
