import { describe, expect, it } from 'vitest';
import { RouteStore } from '../../../src/control/index.ts';
import { buildRouteTable, matchRoute } from '../../../src/routes/index.ts';
import { containerSpec } from '../routes/fixtures.ts';

describe('RouteStore', () => {
  it('starts at generation 0 with an empty table', () => {
    const store = new RouteStore({ now: () => 42 });
    const generation = store.current();
    expect(generation.id).toBe(0);
    expect(generation.createdAt).toBe(42);
    expect(generation.table.routes).toEqual([]);
    expect(generation.table.fingerprint).toBe(buildRouteTable([], []).fingerprint);
  });

  it('numbers each published generation and stamps it with the clock', () => {
    let clock = 1_000;
    const store = new RouteStore({ now: () => clock });
    clock = 2_000;
    const first = store.publish(buildRouteTable([containerSpec({ name: 'a' })], []));
    clock = 3_000;
    const second = store.publish(buildRouteTable([containerSpec({ name: 'b' })], []));
    expect([first.id, first.createdAt, second.id, second.createdAt]).toEqual([1, 2_000, 2, 3_000]);
    expect(store.current()).toBe(second);
    expect(Object.isFrozen(second)).toBe(true);
  });

  it('lets a request holding generation N keep its table after N+1 is published', () => {
    const store = new RouteStore();
    store.publish(buildRouteTable([containerSpec({ name: 'old', hosts: ['app.example'] })], []));
    const held = store.current();

    store.publish(buildRouteTable([containerSpec({ name: 'new', hosts: ['other.example'] })], []));

    expect(store.current().id).toBe(held.id + 1);
    expect(matchRoute(held.table, 'app.example', '/')?.id).toBe('container:old/default');
    expect(matchRoute(held.table, 'other.example', '/')).toBeUndefined();
    expect(matchRoute(store.current().table, 'app.example', '/')).toBeUndefined();
    expect(matchRoute(store.current().table, 'other.example', '/')?.id).toBe('container:new/default');
  });
});
