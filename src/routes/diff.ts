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

/** What a swap changes, for the log line that announces it. `before` is null for the first table. */
export function diffTables(before: RouteTable | null, after: RouteTable): TableDiff {
  const previous = new Map<string, Route>((before?.routes ?? []).map((route) => [route.id, route]));
  const added: string[] = [];
  const changed: string[] = [];
  for (const route of after.routes) {
    const old = previous.get(route.id);
    if (old === undefined) added.push(route.id);
    // Tables are built from canonical copies, so their JSON compares as data.
    else if (old !== route && JSON.stringify(old) !== JSON.stringify(route)) changed.push(route.id);
    previous.delete(route.id);
  }
  const removed = [...previous.keys()];
  const known = new Set((before?.issues ?? []).map((issue) => JSON.stringify(issue)));
  const rejected = after.issues.filter((issue) => !known.has(JSON.stringify(issue)));
  return { added: added.sort(compareStrings), removed: removed.sort(compareStrings), changed: changed.sort(compareStrings), rejected };
}
