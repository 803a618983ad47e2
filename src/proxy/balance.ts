import type { UpstreamTarget } from '../routes/index.ts';
import { findRoute, type Route, type RouteTable } from '../routes/index.ts';

/**
 * Picks one ready member of a route per request. State lives here, not in the frozen table:
 * a round-robin position per route id and an in-flight count per upstream origin.
 */
export interface Balancer {
  /** `route.ready` must not be empty. Every pick must be followed by exactly one `release`. */
  pick(route: Route): UpstreamTarget;
  release(target: UpstreamTarget): void;
  /** Drops positions of routes that are gone; cheap when the table is unchanged. */
  observe(table: RouteTable): void;
  inFlight(origin: string): number;
}

export function createBalancer(): Balancer {
  const positions = new Map<string, number>();
  const active = new Map<string, number>();
  let lastTable: RouteTable | undefined;

  function nextPosition(routeId: string): number {
    const position = positions.get(routeId) ?? 0;
    positions.set(routeId, position + 1 >= Number.MAX_SAFE_INTEGER ? 0 : position + 1);
    return position;
  }

  return {
    pick(route) {
      const ready = route.ready;
      let chosen: UpstreamTarget;
      if (ready.length === 1) {
        chosen = ready[0] as UpstreamTarget;
      } else if (route.lb === 'least_request') {
        // Start the scan at a rotating index so members with equal load take turns.
        const start = nextPosition(route.id) % ready.length;
        chosen = ready[start] as UpstreamTarget;
        let lowest = active.get(chosen.origin) ?? 0;
        for (let i = 1; i < ready.length && lowest > 0; i++) {
          const candidate = ready[(start + i) % ready.length] as UpstreamTarget;
          const load = active.get(candidate.origin) ?? 0;
          if (load < lowest) {
            chosen = candidate;
            lowest = load;
          }
        }
      } else if (route.pomerium !== undefined && Object.keys(route.pomerium.weights).length > 0) {
        chosen = weightedPick(ready, route.pomerium.weights, nextPosition(route.id));
      } else {
        chosen = ready[nextPosition(route.id) % ready.length] as UpstreamTarget;
      }
      active.set(chosen.origin, (active.get(chosen.origin) ?? 0) + 1);
      return chosen;
    },
    release(target) {
      const count = (active.get(target.origin) ?? 0) - 1;
      if (count > 0) active.set(target.origin, count);
      else active.delete(target.origin);
    },
    observe(table) {
      if (table === lastTable) return;
      lastTable = table;
      // A lookup per remembered position in the id-sorted route list, not a set of every route
      // id per table: a table of 10,000 routes is swapped in on the request path.
      for (const id of positions.keys()) if (findRoute(table, id) === undefined) positions.delete(id);
    },
    inFlight(origin) {
      return active.get(origin) ?? 0;
    },
  };
}

/**
 * Pomerium's weighted `to` list (`http://a,3`): over every run of total-weight picks, each ready
 * member is chosen as often as its weight (members without one weigh 1).
 */
function weightedPick(ready: readonly UpstreamTarget[], weights: Readonly<Record<string, number>>, position: number): UpstreamTarget {
  let total = 0;
  for (const target of ready) total += weights[target.origin] ?? 1;
  let slot = position % total;
  for (const target of ready) {
    slot -= weights[target.origin] ?? 1;
    if (slot < 0) return target;
  }
  return ready[0] as UpstreamTarget;
}
