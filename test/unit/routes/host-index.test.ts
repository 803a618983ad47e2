import { describe, expect, it } from 'vitest';
import { HostIndex, isEmptyEntry, LoneRouteEntry, type HostEntry } from '../../../src/routes/host-index.ts';
import { buildRouteTable, type Route } from '../../../src/routes/index.ts';
import { containerSpec } from './fixtures.ts';

const route = (id: string) => ({ id, path: '/' }) as unknown as Route;
const owner = { kind: 'file', file: 'routes.yml' } as const;

function entry(parts: Partial<HostEntry>): HostEntry {
  return { routes: parts.routes, claims: parts.claims, owner: parts.owner };
}

describe('HostIndex', () => {
  it('shows each part as a map of only the hosts that have it, sized and iterated in key order', () => {
    const index = HostIndex.adopt(
      new Map([
        ['b.example', entry({ routes: [route('b')], owner })],
        ['a.example', entry({ routes: [route('a')] })],
        ['c.example', entry({ owner })],
      ]),
    );
    expect(index.byHost.size).toBe(2);
    expect([...index.byHost.keys()]).toEqual(['a.example', 'b.example']);
    expect(index.owners.size).toBe(2);
    expect([...index.owners.keys()]).toEqual(['b.example', 'c.example']);
    expect(index.claims.size).toBe(0);
    expect(index.claims.get('a.example')).toBeUndefined();
    expect(index.byHost.has('c.example')).toBe(false);
    expect(index.owners.get('c.example')).toBe(owner);
  });

  it('counts again on a change, removes a host whose entry has no part left, and leaves the index it came from as it was', () => {
    const before = HostIndex.adopt(new Map([['a.example', entry({ routes: [route('a')], owner })]]));
    const after = before.with(
      new Map<string, HostEntry | undefined>([
        ['a.example', entry({})],
        ['b.example', entry({ routes: [route('b')] })],
        ['gone.example', undefined],
      ]),
    );
    expect([...after.byHost.keys()]).toEqual(['b.example']);
    expect(after.byHost.size).toBe(1);
    expect(after.owners.size).toBe(0);
    expect(after.entries.has('a.example')).toBe(false);
    expect(after.entries.size).toBe(1);
    expect([...before.byHost.keys()]).toEqual(['a.example']);
    expect(before.owners.size).toBe(1);
  });

  it('is what a table publishes: its maps cannot be changed in place', () => {
    const table = buildRouteTable([containerSpec({ name: 'a', hosts: ['a.example'] })], []);
    expect(table.byHost.size).toBe(1);
    expect(table.claims.size).toBe(1);
    expect(table.owners.size).toBe(1);
    expect(Object.isFrozen(table.byHost)).toBe(true);
    expect((table.byHost as unknown as { set?: unknown }).set).toBeUndefined();
  });

  it('gives a lone route its two lists on first read, the same frozen lists on every read after, and counts them without reading them', () => {
    const live = route('lone');
    const lone = new LoneRouteEntry(live, owner);
    expect(Object.isFrozen(lone)).toBe(true);
    expect(isEmptyEntry(lone)).toBe(false);
    expect(isEmptyEntry(entry({}))).toBe(true);
    const index = HostIndex.adopt(new Map<string, HostEntry>([['lone.example', lone]]));
    expect(index.byHost.size).toBe(1);
    expect(index.claims.size).toBe(1);
    expect(index.owners.get('lone.example')).toBe(owner);
    const claims = index.claims.get('lone.example');
    expect(claims).toEqual([{ state: 'live', path: '/', route: live }]);
    expect(index.claims.get('lone.example')).toBe(claims);
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims?.[0])).toBe(true);
    const routes = index.byHost.get('lone.example');
    expect(routes).toEqual([live]);
    expect(index.byHost.get('lone.example')).toBe(routes);
    expect(Object.isFrozen(routes)).toBe(true);
    // Replaced by an entry with no route: the counts drop, read or not.
    const after = index.with(new Map<string, HostEntry | undefined>([['lone.example', entry({ owner })], ['other.example', new LoneRouteEntry(route('other'), undefined)]]));
    expect(after.byHost.size).toBe(1);
    expect(after.claims.size).toBe(1);
    expect(after.byHost.get('lone.example')).toBeUndefined();
    expect(after.claims.get('other.example')?.[0]?.route).toEqual(route('other'));
  });

  it('publishes a host that one live route claims alone as a lone entry of a built table, with the same lists a shared host has', () => {
    const table = buildRouteTable([
        containerSpec({ name: 'a', hosts: ['alone.example'] }),
        containerSpec({ name: 'b', routeName: 'api', hosts: ['shared.example'], path: '/api' }),
        containerSpec({ name: 'b', hosts: ['shared.example'] }),
      ], []);
    const claims = table.claims.get('alone.example');
    expect(claims?.map((claim) => [claim.state, claim.path, claim.route?.hosts])).toEqual([['live', '/', ['alone.example']]]);
    expect(table.byHost.get('alone.example')).toEqual([claims?.[0]?.route]);
    expect(table.claims.get('shared.example')?.map((claim) => claim.path)).toEqual(['/api', '/']);
    expect(JSON.parse(table.fingerprint).routes).toHaveLength(3);
  });
});
