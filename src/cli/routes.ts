import { labelTrust, loadConfig, type AppConfig } from '../config/index.ts';
import { renderTableText, tableReport, type TableReport } from '../proxy/index.ts';
import { askRunning } from './running.ts';
import { ignoredImageLabels } from '../labels/index.ts';
import type { RouteTable } from '../routes/index.ts';
import { buildTableOnce } from './table.ts';

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

/** The table `serve` would build right now, from Docker and the routes file, and the image labels it ignored. */
export async function buildLocalTable(config: AppConfig, command = 'routes'): Promise<{ table: RouteTable; ignored: ReturnType<typeof ignoredImageLabels> }> {
  const { table, listing } = await buildTableOnce(config, command);
  const trust = labelTrust(config).translate;
  return { table, ignored: ignoredImageLabels(listing.containers, trust.prefix, trust.trustImageLabels ?? false) };
}

/** Image labels left out of the translation, each with its reason (see labels/image-labels.ts). */
function renderIgnored(ignored: ReturnType<typeof ignoredImageLabels>): string {
  if (ignored.length === 0) return '';
  const lines = ['', `Ignored image labels (${ignored.length})`];
  for (const entry of ignored) lines.push(`  container "${entry.containerName}": ${entry.label} ${entry.reason}`);
  return `${lines.join('\n')}\n`;
}
