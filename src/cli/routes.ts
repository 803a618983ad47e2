import { readFile } from 'node:fs/promises';
import { combineRouteSources, labelTrust, loadConfig, parsePolicyEnv, parseRoutesFile, type RoutesFileResult } from '../config/index.ts';
import { buildOnce } from '../control/index.ts';
import { listOnce } from '../docker/index.ts';
import { ignoredImageLabels, translateContainers } from '../labels/index.ts';
import type { Route, RouteTable, TranslationResult } from '../routes/index.ts';
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
  if (config.GATEHOUSE_CONFIG) fileResult = readRoutes(parseRoutesFile(await readFile(config.GATEHOUSE_CONFIG, 'utf8'), config.GATEHOUSE_CONFIG), config.GATEHOUSE_CONFIG);
  if (config.POLICY !== undefined) fileResult = combineRouteSources(fileResult, readRoutes(parsePolicyEnv(config.POLICY), 'POLICY'));
  const trust = labelTrust(config).translate;
  const table = buildOnce(listing, fileResult, (l) => translateContainers(l, trust));
  const ignored = ignoredImageLabels(listing.containers, trust.prefix, trust.trustImageLabels ?? false);
  process.stdout.write(json ? `${JSON.stringify({ ...toJson(table), ignoredLabels: ignored }, null, 2)}\n` : renderText(table) + renderIgnored(ignored));
  return table.issues.length > 0 ? 1 : 0;
}

/** A file's routes; its Pomerium settings, which are no problem with the routes, go to stderr. */
function readRoutes(parsed: RoutesFileResult, file: string): TranslationResult {
  if (!parsed.ok) return { specs: [], issues: [{ source: { kind: 'file', file, index: null }, label: null, value: null, code: 'invalid_value', message: parsed.error }] };
  for (const note of parsed.settings) process.stderr.write(`gatehouse routes: ${note.message}\n`);
  return parsed.result;
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

/** Image labels left out of the translation, each with its reason (see labels/image-labels.ts). */
function renderIgnored(ignored: ReturnType<typeof ignoredImageLabels>): string {
  if (ignored.length === 0) return '';
  const lines = ['', `Ignored image labels (${ignored.length})`];
  for (const entry of ignored) lines.push(`  container "${entry.containerName}": ${entry.label} ${entry.reason}`);
  return `${lines.join('\n')}\n`;
}
