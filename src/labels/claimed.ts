import { classifyLabel, DEFAULT_ROUTE } from './keys.ts';
import { parsePathPrefix } from './paths.ts';
import { parseFrom } from './urls.ts';
import { parseValue } from './key-table.ts';

/** The addresses a container's labels claim, read as far as they can be read. */
export interface ClaimedAddress {
  readonly routeName: string;
  readonly hosts: readonly string[];
  readonly path: string;
}

/**
 * What a container claims even when its labels were rejected or it is not running: for each
 * route, the hosts of `from` (own or inherited) and its path. Read leniently, because the point
 * is to keep these addresses closed: a path that does not parse closes the whole host (`/`),
 * and only a route with no readable `from` claims nothing. `enable=false` withdraws the claim,
 * as it withdraws the route.
 */
export function claimedAddresses(labels: Readonly<Record<string, string>>, prefix: string): ClaimedAddress[] {
  const head = `${prefix}.`;
  const top = new Map<string, string>();
  const named = new Map<string, Map<string, string>>();
  for (const [label, raw] of Object.entries(labels)) {
    if (!label.startsWith(head)) continue;
    const target = classifyLabel(label.slice(head.length), prefix);
    if (target.kind !== 'value') continue;
    if (target.route === null) top.set(target.key, raw);
    else {
      const own = named.get(target.route) ?? new Map<string, string>();
      own.set(target.key, raw);
      named.set(target.route, own);
    }
  }
  if (disabled(top.get('enable'))) return [];
  const routes: [string, Map<string, string>][] = [...named.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (top.has('from')) routes.unshift([DEFAULT_ROUTE, new Map()]);
  const claimed: ClaimedAddress[] = [];
  for (const [routeName, own] of routes) {
    if (disabled(own.get('enable'))) continue;
    const from = own.get('from') ?? top.get('from');
    const parsedFrom = from === undefined ? null : parseFrom(from);
    if (parsedFrom === null || !parsedFrom.ok) continue;
    const rawPath = own.get('path') ?? top.get('path');
    const path = rawPath === undefined ? null : parsePathPrefix(rawPath);
    claimed.push({ routeName, hosts: parsedFrom.value.hosts, path: path === null || !path.ok ? '/' : path.value });
  }
  return claimed;
}

function disabled(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const parsed = parseValue('enable', raw, { allowLocalTargets: false });
  return parsed.ok && parsed.value === false;
}
