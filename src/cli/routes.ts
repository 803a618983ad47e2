import { labelTrust, loadConfig } from '../config/index.ts';
import { ignoredImageLabels } from '../labels/index.ts';
import { describeOwner, type Route, type RouteTable } from '../routes/index.ts';
import { buildTableOnce } from './table.ts';
import { formatEntry } from '../policy/index.ts';

/** `gatehouse routes [--json]`: the table `serve` would build right now, and everything rejected. */
export async function routesCommand(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(`gatehouse routes: unknown option ${unknown.join(' ')} (only --json)\n`);
    return 2;
  }
  const config = loadConfig();
  const { table, listing } = await buildTableOnce(config, 'routes');
  const trust = labelTrust(config).translate;
  const ignored = ignoredImageLabels(listing.containers, trust.prefix, trust.trustImageLabels ?? false);
  process.stdout.write(json ? `${JSON.stringify({ ...toJson(table), ignoredLabels: ignored }, null, 2)}\n` : renderText(table) + renderIgnored(ignored));
  return table.issues.length > 0 ? 1 : 0;
}

/** `live`, or why a served route takes no traffic now (`starting`, `unhealthy`). */
function liveState(route: Route): string {
  return route.ready.length > 0 ? 'live' : (route.upstreams.find((u) => u.state !== 'running')?.state ?? 'starting');
}

function ownerOf(table: RouteTable, host: string | undefined) {
  const owner = host === undefined ? undefined : table.owners.get(host);
  return owner === undefined ? null : { ...owner, description: describeOwner(owner) };
}

function toJson(table: RouteTable) {
  return {
    routes: table.routes.map((r) => ({
      id: r.id,
      state: liveState(r),
      owner: ownerOf(table, r.hosts[0]),
      urls: r.hosts.map((h) => `${r.fromScheme}://${h}${r.path}`),
      upstreams: r.upstreams,
      public: r.policy.public,
      allow: r.policy.allow.map(formatEntry),
      deny: r.policy.deny.map(formatEntry),
      identity: r.identity,
      sources: r.sources,
    })),
    // Addresses held closed: nothing serves them, and no broader route may either.
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

function renderText(table: RouteTable): string {
  const lines: string[] = [`Routes (${table.routes.length})`];
  for (const route of table.routes) lines.push(...describeRoute(table, route));
  if (table.routes.length === 0) lines.push('  none');
  if (table.closed.length > 0) {
    lines.push('', `Closed (${table.closed.length}): these addresses answer 503 until the container or file entry is fixed or removed`);
    for (const claim of table.closed) {
      lines.push(`  ${claim.hosts.map((h) => `${h}${claim.path}`).join(', ')}  ${claim.state}  owner: ${describeOwner(claim.owner)}  (${claim.id})`);
    }
  }
  lines.push('', `Rejected (${table.issues.length})`);
  for (const issue of table.issues) lines.push(`  ${issue.message}`);
  if (table.issues.length === 0) lines.push('  none');
  return `${lines.join('\n')}\n`;
}

function describeRoute(table: RouteTable, route: Route): string[] {
  const urls = route.hosts.map((h) => `${route.fromScheme}://${h}${route.path}`).join(', ');
  const targets = route.upstreams.map((u) => (u.ready ? u.origin : `${u.origin} (${u.state})`)).join(', ');
  const access = route.policy.public
    ? 'public'
    : route.policy.allow.length === 0
      ? 'nobody (no allow rule)'
      : `allow ${route.policy.allow.map(formatEntry).join(', ')}`;
  const deny = route.policy.deny.length > 0 ? `; deny ${route.policy.deny.map(formatEntry).join(', ')}` : '';
  const owner = ownerOf(table, route.hosts[0]);
  return [
    `  ${urls}  ${liveState(route)}${owner === null ? '' : `  owner: ${owner.description}`}`,
    `      → ${targets}  [${route.ready.length}/${route.upstreams.length} ready]  ${access}${deny}  (${route.id})`,
  ];
}

/** Image labels left out of the translation, each with its reason (see labels/image-labels.ts). */
function renderIgnored(ignored: ReturnType<typeof ignoredImageLabels>): string {
  if (ignored.length === 0) return '';
  const lines = ['', `Ignored image labels (${ignored.length})`];
  for (const entry of ignored) lines.push(`  container "${entry.containerName}": ${entry.label} ${entry.reason}`);
  return `${lines.join('\n')}\n`;
}
