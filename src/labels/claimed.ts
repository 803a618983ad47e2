import { classifyLabel, DEFAULT_ROUTE } from './keys.ts';
import { parsePathPrefix } from './paths.ts';
import { parseFrom } from './urls.ts';
import { parseValue } from './key-table.ts';
import type { ContainerSnapshot } from '../docker/index.ts';
import { forbiddenClaimReason } from './claims.ts';
import { deployerLabels } from './image-labels.ts';

/** What decides which of a container's labels may hold an address closed. */
export interface ClaimReading {
  readonly prefix: string;
  /** GATEHOUSE_TRUST_IMAGE_LABELS. */
  readonly trustImageLabels?: boolean;
  /** The sign-in host, which no label may claim, not even closed. */
  readonly signInHost?: string | null;
}

/**
 * The addresses a stopped or rejected container holds closed: the same trust rules as for live
 * routes, so an image's own labels close nothing, and no label closes the sign-in host, an IP
 * literal or `localhost`. When the image's labels are unknown, every label counts: closing an
 * address can only keep people out.
 */
export function containerClaims(container: ContainerSnapshot, reading: ClaimReading): ClaimedAddress[] {
  const own = deployerLabels(container, reading.prefix, reading.trustImageLabels ?? false);
  const labels = own.ok ? own.labels : container.labels;
  const signInHost = reading.signInHost ?? null;
  return claimedAddresses(labels, reading.prefix).flatMap((claim) => {
    const hosts = claim.hosts.filter((host) => forbiddenClaimReason(host, signInHost) === null);
    return hosts.length === 0 ? [] : [{ ...claim, hosts }];
  });
}

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
  // Route names are the keys of a map, so no two are equal.
  const routes: [string, Map<string, string>][] = [...named.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  // The top-level route inherits nothing, so without a top-level `from` it claims nothing below.
  routes.unshift([DEFAULT_ROUTE, new Map()]);
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
