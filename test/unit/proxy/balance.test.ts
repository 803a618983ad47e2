import { describe, expect, it } from 'vitest';
import { createBalancer } from '../../../src/proxy/balance.ts';
import type { Route, RouteTable } from '../../../src/routes/table.ts';
import type { UpstreamTarget } from '../../../src/routes/spec.ts';

function target(origin: string): UpstreamTarget {
  return { origin, containerId: null, ready: true, state: 'running' };
}

function route(id: string, origins: string[], lb: Route['lb'] = 'round_robin'): Route {
  const ready = origins.map(target);
  return { id, lb, ready, upstreams: ready } as unknown as Route;
}

function tableOf(...routes: Route[]): RouteTable {
  return { routes, issues: [], fingerprint: '', byHost: new Map(), claims: new Map(), closed: [], owners: new Map(), oidcClients: new Map() };
}

describe('createBalancer', () => {
  it('round_robin rotates per route, independently', () => {
    const balancer = createBalancer();
    const a = route('a', ['http://a1', 'http://a2', 'http://a3']);
    const b = route('b', ['http://b1', 'http://b2']);
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const pa = balancer.pick(a);
      const pb = balancer.pick(b);
      picks.push(pa.origin, pb.origin);
      balancer.release(pa);
      balancer.release(pb);
    }
    expect(picks).toEqual(['http://a1', 'http://b1', 'http://a2', 'http://b2', 'http://a3', 'http://b1', 'http://a1', 'http://b2']);
  });

  it('least_request prefers the member with the fewest requests in flight', () => {
    const balancer = createBalancer();
    const r = route('r', ['http://x', 'http://y', 'http://z'], 'least_request');
    const first = balancer.pick(r);
    const second = balancer.pick(r);
    const third = balancer.pick(r);
    expect(new Set([first.origin, second.origin, third.origin]).size).toBe(3);
    balancer.release(second);
    expect(balancer.pick(r).origin).toBe(second.origin);
    expect(balancer.inFlight(second.origin)).toBe(1);
  });

  it('counts in-flight requests and forgets an origin at zero', () => {
    const balancer = createBalancer();
    const r = route('r', ['http://only']);
    const one = balancer.pick(r);
    balancer.pick(r);
    expect(balancer.inFlight('http://only')).toBe(2);
    balancer.release(one);
    balancer.release(one);
    expect(balancer.inFlight('http://only')).toBe(0);
  });

  it('drops the position of routes that left the table', () => {
    const balancer = createBalancer();
    const a = route('a', ['http://a1', 'http://a2']);
    balancer.release(balancer.pick(a));
    balancer.observe(tableOf(a));
    expect(balancer.pick(a).origin).toBe('http://a2');
    balancer.observe(tableOf());
    // Position forgotten: the route starts over at its first member.
    expect(balancer.pick(a).origin).toBe('http://a1');
  });
});
