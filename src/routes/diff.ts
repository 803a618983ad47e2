import { indexOfId } from './sorted-by-id.ts';
import type { Route, RouteTable } from './table.ts';
import type { RouteIssue } from './spec.ts';
import { compareStrings } from './canonical.ts';

export interface TableDiff {
  /** Route ids, sorted. */
  added: string[];
  removed: string[];
  /** Present in both tables with different settings, upstreams or sources. */
  changed: string[];
  /** Issues in `after` that `before` did not have: what the swap log should warn about. */
  rejected: RouteIssue[];
}

/**
 * What a swap changes, for the log line that announces it. `before` is null for the first table.
 * Both route lists are sorted by id, so they are walked side by side; a route object the two
 * tables share is unchanged without looking inside, which is what a rebuild after one change
 * leaves almost everywhere.
 */
export function diffTables(before: RouteTable | null, after: RouteTable): TableDiff {
  const old = before?.routes ?? [];
  const now = after.routes;
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < old.length || j < now.length) {
    const a = old[i];
    const b = now[j];
    const order = a === undefined ? 1 : b === undefined ? -1 : compareStrings(a.id, b.id);
    if (order < 0) {
      removed.push((a as Route).id);
      i++;
    } else if (order > 0) {
      added.push((b as Route).id);
      j++;
    } else {
      if (!sameRoute(a as Route, b as Route)) changed.push((b as Route).id);
      i++;
      j++;
    }
  }
  const rejected = newIssues(before?.issues ?? [], after.issues);
  return { added, removed, changed, rejected };
}

/** Equal as data: same routes, issues, closed claims and owners. Cheap when the tables share most of their routes, as successive builds do. */
export function sameTables(a: RouteTable, b: RouteTable): boolean {
  if (a === b) return true;
  if (a.routes.length !== b.routes.length || a.issues.length !== b.issues.length || a.closed.length !== b.closed.length || a.owners.size !== b.owners.size) return false;
  for (let i = 0; i < a.routes.length; i++) if (!sameRoute(a.routes[i] as Route, b.routes[i] as Route)) return false;
  for (let i = 0; i < a.issues.length; i++) if (a.issues[i] !== b.issues[i] && JSON.stringify(a.issues[i]) !== JSON.stringify(b.issues[i])) return false;
  for (let i = 0; i < a.closed.length; i++) if (a.closed[i] !== b.closed[i] && JSON.stringify(a.closed[i]) !== JSON.stringify(b.closed[i])) return false;
  // Owners follow from the routes and closed claims, but are compared too: equal means equal in every part.
  return a.owners === b.owners || JSON.stringify([...a.owners]) === JSON.stringify([...b.owners]);
}

/** The route with this id, by binary search: a table lists its routes sorted by id. */
export function findRoute(table: RouteTable, id: string): Route | undefined {
  const found = table.routes[indexOfId(table.routes, id)];
  return found !== undefined && found.id === id ? found : undefined;
}

/** Tables are built from canonical copies, so their JSON compares as data. */
function sameRoute(a: Route, b: Route): boolean {
  return a === b || (a.id === b.id && JSON.stringify(a) === JSON.stringify(b));
}

function newIssues(before: readonly RouteIssue[], after: readonly RouteIssue[]): RouteIssue[] {
  const same = new Set<RouteIssue>(before);
  let known: Set<string> | null = null;
  return after.filter((issue) => {
    if (same.has(issue)) return false;
    known ??= new Set(before.map((old) => JSON.stringify(old)));
    return !known.has(JSON.stringify(issue));
  });
}
