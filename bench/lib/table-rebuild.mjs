import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * In-process micro-benchmark of what the control loop does on every Docker change: translate
 * a listing of N labelled containers (labels/) and build the frozen route table (routes/),
 * using the built code in dist/. Also a churn check: many rebuilds of the same listing, then a
 * full GC, and how much heap is left over. Run as its own pinned process with --expose-gc:
 *
 *   node --expose-gc table-rebuild.mjs <repo root> '{"sizes":[1000],"iterations":200,"churn":200}'
 */

const [root, optionsText] = process.argv.slice(2);
const { sizes = [100, 1000], iterations = 200, churn = 200 } = JSON.parse(optionsText ?? '{}');
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { translateContainers } = await load('labels/index.js');
const { buildRouteTable } = await load('routes/index.js');

const PREFIX = 'iap';
const options = { prefix: PREFIX, dockerNetwork: undefined };

/** N running containers, each publishing one host with a three-entry policy, on the default bridge. */
function listing(n) {
  const containers = [];
  for (let i = 0; i < n; i++) {
    containers.push({
      id: i.toString(16).padStart(64, '0'),
      name: `app-${i}`,
      labels: {
        [`${PREFIX}.from`]: `https://app-${i}.bench.test`,
        [`${PREFIX}.allow`]: `user${i}@example.com, @example.org, group:team-${i % 10}`,
        [`${PREFIX}.port`]: '8080',
        'com.docker.compose.project': 'bench',
      },
      state: 'running',
      health: 'none',
      created: 1_700_000_000 + i,
      networks: { bridge: `172.17.${(i >> 8) & 255}.${(i & 255) + 1}` },
      networkMode: 'bridge',
      exposedPorts: [8080],
    });
  }
  return Object.freeze({ containers, selfNetworks: null });
}

function rebuild(input) {
  const translated = translateContainers(input, options);
  const table = buildRouteTable(translated.specs, translated.issues);
  return { table, translated };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const results = [];
for (const size of sizes) {
  const input = listing(size);
  const check = rebuild(input);
  if (check.table.routes.length !== size || check.translated.issues.length !== 0) {
    throw new Error(`expected ${size} routes and no issues, got ${check.table.routes.length} routes and ${check.translated.issues.length} issues`);
  }
  const runs = Math.max(10, Math.round((iterations * 1000) / Math.max(size, 1000)));
  for (let i = 0; i < Math.min(20, runs); i++) rebuild(input);
  const translateMs = [];
  const buildMs = [];
  const totalMs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const translated = translateContainers(input, options);
    const t1 = performance.now();
    buildRouteTable(translated.specs, translated.issues);
    const t2 = performance.now();
    translateMs.push(t1 - t0);
    buildMs.push(t2 - t1);
    totalMs.push(t2 - t0);
  }
  for (const list of [translateMs, buildMs, totalMs]) list.sort((a, b) => a - b);
  const summary = (list) => ({ p50: quantile(list, 0.5), p95: quantile(list, 0.95), max: list.at(-1) });

  // Churn: every generation must be collectable once replaced, so the heap after a full GC
  // should be where it was before the rebuilds.
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < churn; i++) rebuild(input);
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  let kept = rebuild(input).table;
  globalThis.gc();
  const oneTable = process.memoryUsage().heapUsed - after;

  results.push({
    size,
    runs,
    translateMs: summary(translateMs),
    buildMs: summary(buildMs),
    totalMs: summary(totalMs),
    tableHeapMB: oneTable / 2 ** 20,
    churn: { cycles: churn, heapBeforeMB: before / 2 ** 20, heapAfterMB: after / 2 ** 20, growthPercent: ((after - before) / before) * 100 },
  });
  kept = null;
}
process.stdout.write(`${JSON.stringify({ results })}\n`);
