import type { RouteTable } from './table.ts';
import type { RouteIssue, RouteSpec } from './spec.ts';
import { assembleTable, NO_CLAIMS, settle, type ClaimInputs, type SettledIssue } from './assemble.ts';
import { describeOwner, ownerKey, type HostOwner } from './claims.ts';
import { sameItems } from '../util/same-items.ts';
import { groupSpecs, mergeGroup, routeIdOf, type Candidate } from './group.ts';

/** Builds tables one after another, reusing what the previous build already did. */
export interface RouteTableBuilder {
  /**
   * The same table `buildRouteTable(specs, issues)` gives. A route whose members are the very
   * spec objects of the previous build is taken over as it was, frozen and already serialised,
   * and when nothing changed at all the previous table itself comes back. So callers must treat
   * the specs and issues they pass as values and never change them in place. `claims` adds the
   * closed claims and each container's unit (see assembleTable); the same closed-claim objects
   * and equal units count as unchanged.
   */
  build(specs: readonly RouteSpec[], issues: readonly RouteIssue[], claims?: ClaimInputs): RouteTable;
}

interface MergedGroup {
  /** In input order, to recognise the same group next time. */
  readonly members: readonly RouteSpec[];
  readonly candidate: Candidate;
}

/** The latest build only, so what a builder holds follows the current inputs, never their history. */
interface Previous {
  readonly groups: ReadonlyMap<string, MergedGroup>;
  readonly issues: ReadonlyMap<RouteIssue, SettledIssue>;
  readonly settled: readonly SettledIssue[];
  readonly claims: ClaimInputs;
  readonly table: RouteTable;
}

export function createRouteTableBuilder(): RouteTableBuilder {
  let previous: Previous | null = null;
  // The same id string for a spec each time, so its hash is computed once rather than per build.
  const ids = new WeakMap<RouteSpec, string>();
  const idOf = (spec: RouteSpec): string => {
    let id = ids.get(spec);
    if (id === undefined) {
      id = routeIdOf(spec);
      ids.set(spec, id);
    }
    return id;
  };

  return {
    build(specs, issues, claims = NO_CLAIMS) {
      const last = previous;
      const groups = new Map<string, MergedGroup>();
      let allReused = true;
      for (const [id, members] of groupSpecs(specs, idOf)) {
        const before = last?.groups.get(id);
        const reused = before !== undefined && sameItems(before.members, members);
        allReused &&= reused;
        groups.set(id, reused ? before : { members, candidate: mergeGroup(id, members) });
      }
      const settledByIssue = new Map<RouteIssue, SettledIssue>();
      const settled: SettledIssue[] = [];
      for (const issue of issues) {
        const done = settledByIssue.get(issue) ?? last?.issues.get(issue) ?? settle(issue);
        settledByIssue.set(issue, done);
        settled.push(done);
      }
      // The same merged routes and issues can only make the same table.
      const unchanged =
        last !== null && allReused && groups.size === last.groups.size && sameItems(settled, last.settled) && sameClaims(claims, last.claims);
      const table = unchanged ? last.table : assembleTable([...groups.values()].map((group) => group.candidate), settled, claims);
      previous = { groups, issues: settledByIssue, settled, claims, table };
      return table;
    },
  };
}

function sameClaims(a: ClaimInputs, b: ClaimInputs): boolean {
  if (a === b) return true;
  if (!sameItems(a.closed, b.closed) || a.owners.size !== b.owners.size) return false;
  for (const [id, owner] of a.owners) {
    const other = b.owners.get(id);
    if (other === undefined || !sameOwner(owner, other)) return false;
  }
  return true;
}

function sameOwner(a: HostOwner, b: HostOwner): boolean {
  return a === b || (ownerKey(a) === ownerKey(b) && describeOwner(a) === describeOwner(b));
}

/**
 * Specs → one frozen table, from scratch. Replicas merge into one route; when two routes claim
 * the same host + path, the older claim keeps it (see assembleTable).
 */
export function buildRouteTable(specs: readonly RouteSpec[], issues: readonly RouteIssue[], claims: ClaimInputs = NO_CLAIMS): RouteTable {
  return createRouteTableBuilder().build(specs, issues, claims);
}
