import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.ts';
import { parseRoutesFile } from '../config/routes-file.ts';
import { buildOnce } from '../control/index.ts';
import { listOnce } from '../docker/index.ts';
import { translateContainers } from '../labels/index.ts';
import type { TranslationResult } from '../routes/spec.ts';
import type { Route, RouteTable } from '../routes/table.ts';
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
  const listing = await listOnce(config.DOCKER_HOST);
  let fileResult: TranslationResult | null = null;
  if (config.GATEHOUSE_CONFIG) {
    const parsed = parseRoutesFile(await readFile(config.GATEHOUSE_CONFIG, 'utf8'), config.GATEHOUSE_CONFIG);
    fileResult = parsed.ok
      ? parsed.result
      : { specs: [], issues: [{ source: { kind: 'file', file: config.GATEHOUSE_CONFIG, index: null }, label: null, value: null, code: 'invalid_value', message: parsed.error }] };
  }
  const table = buildOnce(listing, fileResult, (l) =>
    translateContainers(l, { prefix: config.GATEHOUSE_LABEL_PREFIX, dockerNetwork: config.GATEHOUSE_DOCKER_NETWORK }),
    config.GATEHOUSE_LABEL_PREFIX,
  );
  process.stdout.write(json ? `${JSON.stringify(toJson(table), null, 2)}\n` : renderText(table));
  return table.issues.length > 0 ? 1 : 0;
}

function toJson(table: RouteTable) {
  return {
    routes: table.routes.map((r) => ({
      id: r.id,
      urls: r.hosts.map((h) => `${r.fromScheme}://${h}${r.path}`),
      upstreams: r.upstreams,
      public: r.policy.public,
      allow: r.policy.allow.map(formatEntry),
      deny: r.policy.deny.map(formatEntry),
      identity: r.identity,
      sources: r.sources,
    })),
    rejected: table.issues,
  };
}

function renderText(table: RouteTable): string {
  const lines: string[] = [`Routes (${table.routes.length})`];
  for (const route of table.routes) lines.push(...describeRoute(route));
  if (table.routes.length === 0) lines.push('  none');
  lines.push('', `Rejected (${table.issues.length})`);
  for (const issue of table.issues) lines.push(`  ${issue.message}`);
  if (table.issues.length === 0) lines.push('  none');
  return `${lines.join('\n')}\n`;
}

function describeRoute(route: Route): string[] {
  const urls = route.hosts.map((h) => `${route.fromScheme}://${h}${route.path}`).join(', ');
  const targets = route.upstreams.map((u) => (u.ready ? u.origin : `${u.origin} (${u.state})`)).join(', ');
  const access = route.policy.public
    ? 'public'
    : route.policy.allow.length === 0
      ? 'nobody (no allow rule)'
      : `allow ${route.policy.allow.map(formatEntry).join(', ')}`;
  const deny = route.policy.deny.length > 0 ? `; deny ${route.policy.deny.map(formatEntry).join(', ')}` : '';
  return [`  ${urls}`, `      → ${targets}  [${route.ready.length}/${route.upstreams.length} ready]  ${access}${deny}  (${route.id})`];
}
