import { readFile } from 'node:fs/promises';
import { combineRouteSources, labelTrust, loadConfig, parsePolicyEnv, parseRoutesFile, routeDefaultsOf, type AppConfig, type RoutesFileResult } from '../config/index.ts';
import { createTableBuilder, createTargetCheck, createTargetRules, dockerApiEndpoints } from '../control/index.ts';
import { renderTableText, systemResolveAll, tableReport, type TableReport } from '../proxy/index.ts';
import { askRunning } from './running.ts';
import { listOnce } from '../docker/index.ts';
import { ignoredImageLabels, translateContainers } from '../labels/index.ts';
import type { RouteTable, TranslationResult } from '../routes/index.ts';

/**
 * `gatehouse routes [--json] [--local]`: the table the running Gatehouse serves, read from its
 * admin listener when one answers with the same label prefix and routes file; otherwise (or with
 * `--local`) the table `serve` would build right now from Docker and the routes file. Says which
 * on stderr.
 */
export async function routesCommand(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const local = args.includes('--local');
  const unknown = args.filter((a) => a !== '--json' && a !== '--local');
  if (unknown.length > 0) {
    process.stderr.write(`gatehouse routes: unknown option ${unknown.join(' ')} (only --json, --local)\n`);
    return 2;
  }
  const config = loadConfig();
  // Mapped or ignored Pomerium settings are notes, not problems: they never make the exit code 1.
  for (const note of config.pomerium?.notes ?? []) process.stderr.write(`gatehouse routes: ${note.message}\n`);
  if (!local) {
    const running = await askRunning<TableReport & { generation: number }>(config, '/api/routes');
    if (running.ok) {
      process.stderr.write(`gatehouse routes: read from the running Gatehouse at ${running.url} (table generation ${running.body.generation})\n`);
      const { instance: _instance, ...report } = running.body as TableReport & { generation: number; instance?: unknown };
      process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderTableText(running.body));
      return running.body.rejected.length > 0 ? 1 : 0;
    }
    process.stderr.write(`gatehouse routes: ${running.reason}; building the table from Docker and the routes file instead\n`);
  }
  const { table, ignored } = await buildLocalTable(config);
  process.stdout.write(json ? `${JSON.stringify({ ...tableReport(table), ignoredLabels: ignored }, null, 2)}\n` : renderTableText(tableReport(table)) + renderIgnored(ignored));
  return table.issues.length > 0 ? 1 : 0;
}

/** The table `serve` would build right now, from Docker and the routes file, with the same target check. */
export async function buildLocalTable(config: AppConfig): Promise<{ table: RouteTable; ignored: ReturnType<typeof ignoredImageLabels> }> {
  const listing = await listOnce(config.DOCKER_HOST);
  let fileResult: TranslationResult | null = null;
  const defaults = routeDefaultsOf(config.pomerium);
  if (config.GATEHOUSE_CONFIG) fileResult = readRoutes(parseRoutesFile(await readFile(config.GATEHOUSE_CONFIG, 'utf8'), config.GATEHOUSE_CONFIG, defaults), config.GATEHOUSE_CONFIG);
  if (config.POLICY !== undefined) fileResult = combineRouteSources(fileResult, readRoutes(parsePolicyEnv(config.POLICY, defaults), 'POLICY'));
  if (config.ROUTES !== undefined) fileResult = combineRouteSources(fileResult, readRoutes(parsePolicyEnv(config.ROUTES, defaults, 'ROUTES'), 'ROUTES'));
  const trust = labelTrust(config).translate;
  // The same target check as `serve`: names are resolved, then the table is built again with the answers.
  const rules = createTargetRules({ allow: config.GATEHOUSE_UPSTREAM_ALLOW, deny: config.GATEHOUSE_UPSTREAM_DENY });
  rules.setOwn('docker', await dockerApiEndpoints(config.DOCKER_HOST, systemResolveAll));
  const targets = createTargetCheck({ rules: rules.current, resolveAll: systemResolveAll, onChange: () => {}, now: Date.now });
  const builder = createTableBuilder((l) => translateContainers(l, trust), { claims: trust, targets });
  builder.build(listing, fileResult);
  await targets.settled();
  const table = builder.build(listing, fileResult);
  return { table, ignored: ignoredImageLabels(listing.containers, trust.prefix, trust.trustImageLabels ?? false) };
}

/** A file's routes; its Pomerium settings, which are no problem with the routes, go to stderr. */
function readRoutes(parsed: RoutesFileResult, file: string): TranslationResult {
  if (!parsed.ok) return { specs: [], issues: [{ source: { kind: 'file', file, index: null }, label: null, value: null, code: 'invalid_value', message: parsed.error }] };
  for (const note of parsed.settings) process.stderr.write(`gatehouse routes: ${note.message}\n`);
  return parsed.result;
}

/** Image labels left out of the translation, each with its reason (see labels/image-labels.ts). */
function renderIgnored(ignored: ReturnType<typeof ignoredImageLabels>): string {
  if (ignored.length === 0) return '';
  const lines = ['', `Ignored image labels (${ignored.length})`];
  for (const entry of ignored) lines.push(`  container "${entry.containerName}": ${entry.label} ${entry.reason}`);
  return `${lines.join('\n')}\n`;
}
