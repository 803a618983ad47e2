import { readFile } from 'node:fs/promises';
import { combineRouteSources, labelTrust, loadConfig, parsePolicyEnv, parseRoutesFile, type RoutesFileResult } from '../config/index.ts';
import { createTableBuilder, createTargetCheck, createTargetRules, dockerApiEndpoints } from '../control/index.ts';
import { renderTableText, systemResolveAll, tableReport } from '../proxy/index.ts';
import { listOnce } from '../docker/index.ts';
import { ignoredImageLabels, translateContainers } from '../labels/index.ts';
import type { TranslationResult } from '../routes/index.ts';

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
  // The same target check as `serve`: names are resolved, then the table is built again with the answers.
  const rules = createTargetRules({ allow: config.GATEHOUSE_UPSTREAM_ALLOW, deny: config.GATEHOUSE_UPSTREAM_DENY });
  rules.setOwn('docker', await dockerApiEndpoints(config.DOCKER_HOST, systemResolveAll));
  const targets = createTargetCheck({ rules: rules.current, resolveAll: systemResolveAll, onChange: () => {}, now: Date.now });
  const builder = createTableBuilder((l) => translateContainers(l, trust), { claims: trust, targets });
  builder.build(listing, fileResult);
  await targets.settled();
  const table = builder.build(listing, fileResult);
  const ignored = ignoredImageLabels(listing.containers, trust.prefix, trust.trustImageLabels ?? false);
  process.stdout.write(json ? `${JSON.stringify({ ...tableReport(table), ignoredLabels: ignored }, null, 2)}\n` : renderTableText(tableReport(table)) + renderIgnored(ignored));
  return table.issues.length > 0 ? 1 : 0;
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
