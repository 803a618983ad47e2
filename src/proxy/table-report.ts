import { formatEntry } from '../policy/index.ts';
import { describeOwner, type HostOwner, type Route, type RouteIssue, type RouteSource, type RouteTable, type UpstreamTarget } from '../routes/index.ts';

/**
 * A route table as plain JSON: what `gatehouse routes` prints, what the admin listener serves
 * at `/api/routes` and what the status page shows. One shape, so the command reads a running
 * Gatehouse or builds the table itself and prints the same thing either way.
 */

export interface RouteReport {
  readonly id: string;
  /** The portal name (`iap.name`, else the container's): label text, shown escaped. */
  readonly name: string;
  /** `live`, `forward_auth`, or why a served route takes no traffic now (`starting`, `unhealthy`). */
  readonly state: string;
  readonly mode: Route['mode'];
  readonly owner: (HostOwner & { description: string }) | null;
  readonly urls: string[];
  readonly upstreams: readonly UpstreamTarget[];
  readonly public: boolean;
  readonly allow: string[];
  readonly deny: string[];
  readonly bypass: string[];
  readonly identity: Route['identity'];
  readonly sources: readonly RouteSource[];
}

export interface ClosedReport {
  readonly id: string;
  readonly state: string;
  readonly owner: HostOwner & { description: string };
  readonly urls: string[];
  readonly source: RouteSource;
}

export interface TableReport {
  readonly routes: RouteReport[];
  /** Addresses held closed: nothing serves them, and no broader route may either. */
  readonly closed: ClosedReport[];
  readonly rejected: readonly RouteIssue[];
}

/** `live`, `forward_auth` (nothing to reach: the outer proxy forwards), or why no member takes traffic. */
export function routeState(route: Route): string {
  if (route.mode === 'forward_auth') return 'forward_auth';
  return route.ready.length > 0 ? 'live' : (route.upstreams.find((u) => u.state !== 'running')?.state ?? 'starting');
}

function ownerOf(table: RouteTable, host: string | undefined) {
  const owner = host === undefined ? undefined : table.owners.get(host);
  return owner === undefined ? null : { ...owner, description: describeOwner(owner) };
}

export function routeReport(table: RouteTable, r: Route): RouteReport {
  return {
    id: r.id,
    name: r.display.name,
    state: routeState(r),
    mode: r.mode,
    owner: ownerOf(table, r.hosts[0]),
    urls: r.hosts.map((h) => `${r.fromScheme}://${h}${r.path}`),
    upstreams: r.upstreams,
    public: r.policy.public,
    allow: r.policy.allow.map(formatEntry),
    deny: r.policy.deny.map(formatEntry),
    bypass: r.policy.bypass.map((rule) => (rule.method === null ? rule.path : `${rule.method} ${rule.path}`)),
    identity: r.identity,
    sources: r.sources,
  };
}

export function tableReport(table: RouteTable): TableReport {
  return {
    routes: table.routes.map((r) => routeReport(table, r)),
    closed: table.closed.map((claim) => ({
      id: claim.id,
      state: claim.state,
      owner: { ...claim.owner, description: describeOwner(claim.owner) },
      urls: claim.hosts.map((h) => `${h}${claim.path}`),
      source: claim.source,
    })),
    rejected: table.issues,
  };
}

export function renderTableText(report: TableReport): string {
  const lines: string[] = [`Routes (${report.routes.length})`];
  for (const route of report.routes) lines.push(...describeRoute(route));
  if (report.routes.length === 0) lines.push('  none');
  if (report.closed.length > 0) {
    lines.push('', `Closed (${report.closed.length}): these addresses answer 503 until the container or file entry is fixed or removed`);
    for (const claim of report.closed) lines.push(`  ${claim.urls.join(', ')}  ${claim.state}  owner: ${claim.owner.description}  (${claim.id})`);
  }
  lines.push('', `Rejected (${report.rejected.length})`);
  for (const issue of report.rejected) lines.push(`  ${issue.message}`);
  if (report.rejected.length === 0) lines.push('  none');
  return `${lines.join('\n')}\n`;
}

export function accessText(route: Pick<RouteReport, 'public' | 'allow' | 'deny'>): string {
  const access = route.public ? 'public' : route.allow.length === 0 ? 'nobody (no allow rule)' : `allow ${route.allow.join(', ')}`;
  return route.deny.length > 0 ? `${access}; deny ${route.deny.join(', ')}` : access;
}

function describeRoute(route: RouteReport): string[] {
  const ready = route.upstreams.filter((u) => u.ready).length;
  const targets =
    route.mode === 'forward_auth'
      ? 'the outer proxy (forward-auth: Gatehouse only decides)'
      : `${route.upstreams.map((u) => (u.ready ? u.origin : `${u.origin} (${u.state})`)).join(', ')}  [${ready}/${route.upstreams.length} ready]`;
  return [
    `  ${route.urls.join(', ')}  ${route.state}${route.owner === null ? '' : `  owner: ${route.owner.description}`}`,
    `      → ${targets}  ${accessText(route)}  (${route.id})`,
  ];
}
