#!/usr/bin/env node
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureQuickStart } from './lib/quick-start.mjs';

/**
 * `node bench/quick-start-memory.mjs`: the quick start's memory with `docker stats`, after a
 * sign-in and 10,000 signed-in requests (README, "Resources"). Prints each container and the sum
 * of every container but the app, and writes bench/results/quick-start-<date>.json.
 * Needs a Docker engine, docker compose (or docker-compose 1.29) and Chromium at /usr/bin/chromium.
 */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const MIB = 2 ** 20;
const result = await measureQuickStart({ root, dir: mkdtempSync(join(tmpdir(), 'gatehouse-quick-start-')), log: (m) => process.stdout.write(`${m}\n`) });
for (const [service, c] of Object.entries(result.containers)) {
  process.stdout.write(`${service.padEnd(14)} idle ${(c.idleBytes / MIB).toFixed(1)} MiB, after sign-in and ${result.requests} requests ${(c.afterLoadBytes / MIB).toFixed(1)} MiB\n`);
}
process.stdout.write(`every container but the app: ${(result.totalWithoutAppBytes / MIB).toFixed(1)} MiB\n`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = join(root, 'bench/results', `quick-start-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2)}\n`);
process.stdout.write(`written to ${file}\n`);
