#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * `node bench/access-log.mjs [lines]`: the CPU one access-log line costs the proxy, as shipped
 * (a JSON logger writing asynchronously to stdout) with stdout a pipe that another process
 * reads, the way Docker's log driver reads a container's output. Three ways, in rotating order,
 * in one process: no line at all (the floor), the line through pino (an object, pino's
 * serialiser), and the line Gatehouse writes (dist/observability/access-log.js: text put
 * together by hand, handed to the same stream). Figures are this thread's CPU time per line
 * (robust on a shared machine). `node bench/access-log.mjs LINES PER_TURN`: PER_TURN lines are
 * written in each turn of the event loop (default 10: a handful of requests finish per turn under load).
 */

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const lines = Number(process.argv[2] ?? 200_000);
// Requests that finish in one turn of the event loop: a handful under load.
const perTurn = Number(process.argv[3] ?? 10);

if (process.env.ACCESS_LOG_BENCH_CHILD !== '1') {
  // The parent reads the child's stdout through a pipe, as a log driver does, and discards it.
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(lines), String(perTurn)], {
    env: { ...process.env, ACCESS_LOG_BENCH_CHILD: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let bytes = 0;
  child.stdout.on('data', (chunk) => (bytes += chunk.length));
  child.on('exit', (code) => {
    process.stderr.write(`(the reader received ${(bytes / 2 ** 20).toFixed(1)} MiB)\n`);
    process.exitCode = code ?? 1;
  });
} else {
  const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
  const { createLogger, createAccessLog } = await load('observability/index.js');
  const logger = createLogger({ level: 'info', format: 'json' });
  const viaPino = logger.child({ mod: 'access' }, { redact: [] });
  const handMade = createAccessLog(logger);
  const record = (i) => ({
    method: 'GET',
    host: 'app.example.test',
    path: `/items/${i % 1000}`,
    status: 200,
    ms: Math.round((i % 97) * 1.3) / 10,
    route: 'compose:shop/web/default',
    requestId: `r-${i.toString(36)}`,
    clientIp: '192.168.1.20',
    websocket: false,
  });
  const ways = {
    none: (i) => record(i),
    pino: (i) => {
      const { websocket: _ws, ...fields } = record(i);
      viaPino.info(fields, 'request');
    },
    gatehouse: (i) => handMade(record(i)),
  };
  /** `perTurn` lines per turn of the event loop, then a turn ends, as under real traffic. */
  async function measure(way) {
    globalThis.gc();
    const cpu0 = process.threadCpuUsage();
    for (let i = 0; i < lines; i++) {
      way(i);
      if (i % perTurn === perTurn - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    const cpu = process.threadCpuUsage(cpu0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { cpuUs: (cpu.user + cpu.system) / lines };
  }
  const results = { none: [], pino: [], gatehouse: [] };
  const order = ['none', 'pino', 'gatehouse'];
  for (let round = 0; round < 3 + 1; round++) {
    for (let k = 0; k < order.length; k++) {
      const name = order[(k + round) % order.length];
      const { cpuUs } = await measure(ways[name]);
      if (round > 0) results[name].push(cpuUs); // the first round warms up
    }
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const floor = median(results.none);
  for (const name of order) {
    process.stderr.write(`${name.padEnd(10)} ${median(results[name]).toFixed(2)} µs/line (runs ${results[name].map((x) => x.toFixed(2)).join(', ')}), above the floor ${(median(results[name]) - floor).toFixed(2)} µs\n`);
  }
  logger.flush?.();
}
