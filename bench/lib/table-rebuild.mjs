import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * In-process micro-benchmark of what the control loop does on a Docker change, using the built
 * code in dist/ and a table builder wired as main.ts wires it (claim reading and target check,
 * see builderOptions):
 * - cold build (translateMs + buildMs = totalMs, also given as coldMs): translate a listing of
 *   N labelled containers (labels/) and build the frozen route table (routes/) from scratch,
 *   as at startup;
 * - change one (changeOneMs, over changeOneRuns): what the reconciler does when one container
 *   of the N changed: its incremental table builder rebuilds, then the table is compared with
 *   the live one (sameTables) and the two diffed. A different container changes each time (its allow label bumped);
 * - churn: many rebuilds through that builder while containers come and go (one replaced by a
 *   new one each time), then a full GC, and how much heap is left over.
 * Run as its own pinned process with --expose-gc:
 *
 *   node --expose-gc table-rebuild.mjs <repo root> '{"sizes":[1000],"iterations":200,"churn":200}'
 */

const [root, optionsText] = process.argv.slice(2);
const { sizes = [100, 1000], iterations = 200, churn = 200 } = JSON.parse(optionsText ?? '{}');
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { translateContainers } = await load('labels/index.js');
const routes = await load('routes/index.js');
const { diffTables } = routes;
// Builds from before sameTables compared fingerprints, as their control loop did.
const sameTables = routes.sameTables ?? ((a, b) => a.fingerprint === b.fingerprint);
const control = await load('control/index.js');
const { createTableBuilder } = control;

const PREFIX = 'iap';
const options = { prefix: PREFIX, dockerNetwork: undefined };
const translate = (input) => translateContainers(input, options);

/**
 * A builder's options as main.ts wires the control loop's: the claim reading, and the target
 * check with Gatehouse's own listeners on every address of the machine (a new check per builder,
 * as a new process starts with none). The containers' upstreams are IPv4 literals, so no name is
 * resolved; the check parses each origin once and weighs it against the rules.
 */
function builderOptions() {
  const rules = control.createTargetRules();
  rules.setOwn(
    'listeners',
    control.listenerEndpoints(
      [
        { host: '0.0.0.0', port: 80, what: "Gatehouse's own listener" },
        { host: '0.0.0.0', port: 443, what: "Gatehouse's own HTTPS listener" },
        { host: '0.0.0.0', port: 9090, what: "Gatehouse's admin listener" },
      ],
      ['127.0.0.1', '::1', '192.168.1.10', '172.17.0.1', '172.18.0.1'],
    ),
  );
  const targets = control.createTargetCheck({ rules: rules.current, resolveAll: async () => [], onChange() {}, now: Date.now });
  return { claims: { prefix: PREFIX }, targets };
}

/** Container i: one host with a three-entry policy, on the default bridge; a `version` renames its group in the policy. */
function container(i, version = 0) {
  return Object.freeze({
    id: i.toString(16).padStart(64, '0'),
    name: `app-${i}`,
    labels: Object.freeze({
      [`${PREFIX}.from`]: `https://app-${i}.bench.test`,
      [`${PREFIX}.allow`]: `user${i}@example.com, @example.org, group:team-${i % 10}${version === 0 ? '' : `-r${version}`}`,
      [`${PREFIX}.port`]: '8080',
      'com.docker.compose.project': 'bench',
    }),
    imageLabels: Object.freeze({}),
    state: 'running',
    health: 'none',
    created: 1_700_000_000 + i,
    networks: Object.freeze({ bridge: `172.17.${(i >> 8) & 255}.${(i & 255) + 1}` }),
    networkMode: 'bridge',
    exposedPorts: Object.freeze([8080]),
  });
}

function listing(containers) {
  return Object.freeze({ containers: Object.freeze(containers), selfNetworks: null });
}

/**
 * A build from nothing, as at start: a new builder (the control loop's, with its claim
 * collection) over the whole listing. `timing.translateMs` gets the part spent translating labels.
 */
function rebuild(input) {
  return { table: createTableBuilder(translate, builderOptions()).build(input, null), translated: translate(input) };
}

/** One reconciler step: rebuild, compare with the live table, diff for the log line. */
function reconcile(builder, input, before) {
  const table = builder.build(input, null);
  const diff = sameTables(table, before) ? null : diffTables(before, table);
  return { table, diff };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const summary = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.at(-1) };
};

/** Translate + build from scratch, `runs` times. */
function measureCold(input, runs) {
  for (let i = 0; i < Math.min(20, runs); i++) rebuild(input);
  const translateMs = [];
  const buildMs = [];
  const totalMs = [];
  const c0 = process.threadCpuUsage();
  for (let i = 0; i < runs; i++) {
    const timing = { translateMs: 0 };
    const options = builderOptions();
    const t0 = performance.now();
    createTableBuilder((listed) => {
      const t1 = performance.now();
      const translated = translate(listed);
      timing.translateMs += performance.now() - t1;
      return translated;
    }, options).build(input, null);
    const total = performance.now() - t0;
    translateMs.push(timing.translateMs);
    buildMs.push(total - timing.translateMs);
    totalMs.push(total);
  }
  const cpu = process.threadCpuUsage(c0);
  return { translateMs: summary(translateMs), buildMs: summary(buildMs), totalMs: summary(totalMs), coldCpuMeanMs: (cpu.user + cpu.system) / 1000 / runs };
}

/** A reconciler's state: its builder, the live table and the containers listed now. */
function startSession(containers) {
  const builder = createTableBuilder(translate, builderOptions());
  const current = [...containers];
  return { builder, current, live: builder.build(listing([...current]), null), arrivals: 0 };
}

/**
 * A different container each step, its allow label bumped; times one reconciler step each
 * (wall time), and gives this thread's CPU time per step over all steps: that one does not
 * count time the machine gave to other processes, so it is the steadier figure on a shared
 * machine (the kernel counts a thread's CPU time in ticks, so only a sum over many steps is exact).
 */
function measureChangeOne(session, runs) {
  const size = session.current.length;
  const times = [];
  let cpuUs = 0;
  for (let step = 0; step < Math.min(20, runs) + runs; step++) {
    const i = (step * 7919) % size;
    session.current[i] = container(i, step + 1);
    const next = listing([...session.current]);
    const c0 = process.threadCpuUsage();
    const t0 = performance.now();
    const { table, diff } = reconcile(session.builder, next, session.live);
    const t1 = performance.now();
    const c1 = process.threadCpuUsage(c0);
    if (diff === null || diff.changed.length !== 1 || table.routes.length !== size) throw new Error(`step ${step}: expected exactly one changed route`);
    session.live = table;
    if (step >= Math.min(20, runs)) {
      times.push(t1 - t0);
      cpuUs += c1.user + c1.system;
    }
  }
  return { wall: summary(times), cpuMeanMs: cpuUs / 1000 / runs };
}

/** One container leaves and a new one arrives. */
function replaceOne(session) {
  const size = session.current.length;
  const i = (session.arrivals * 7919) % size;
  session.current[i] = container(size + session.arrivals++);
  session.live = reconcile(session.builder, listing([...session.current]), session.live).table;
}

/** The heap after a full GC. */
function settledHeap() {
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Churn: every generation and every departed container must be collectable once replaced, so
 * the heap after many rebuilds should be where it was before them. The measuring functions
 * return before each heap reading, so no stale local keeps an old table alive.
 */
function measureChurn(session, cycles) {
  // A few cycles first, so code the engine compiles for this path is not counted as growth.
  for (let cycle = 0; cycle < Math.min(cycles, 20); cycle++) replaceOne(session);
  const before = settledHeap(session);
  for (let cycle = 0; cycle < cycles; cycle++) replaceOne(session);
  const after = settledHeap(session);
  const size = session.current.length;
  if (session.builder.rememberedContainers !== size) throw new Error(`the builder remembers ${session.builder.rememberedContainers} containers, not ${size}`);
  return { cycles, heapBeforeMB: before / 2 ** 20, heapAfterMB: after / 2 ** 20, growthPercent: ((after - before) / before) * 100 };
}

/** The heap a control loop holds for this listing: its builder (memo, claims, items, host index) and the live table, every host read. */
function measureBuilderHeap(input) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const builder = createTableBuilder(translate, builderOptions());
  const kept = builder.build(input, null);
  readEveryHost(kept);
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  if (kept.routes.length === 0 || builder.rememberedContainers === 0) throw new Error('empty table');
  return (after - before) / 2 ** 20;
}

/**
 * Reads every host of a table as the request path does (its claims and its routes), so parts a
 * table makes on first read (a lone route's lists) count as if every host had served a request.
 */
function readEveryHost(table) {
  let read = 0;
  for (const [host] of table.owners) {
    if (table.claims.get(host) !== undefined) read++;
    if (table.byHost.get(host) !== undefined) read++;
  }
  return read;
}

/** The heap one more table built from scratch takes, once every host has been read. */
function measureTableHeap(input) {
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const kept = rebuild(input).table;
  if (readEveryHost(kept) !== 2 * kept.routes.length) throw new Error('a host without its route or claim');
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  if (kept.routes.length === 0) throw new Error('empty table');
  return (after - before) / 2 ** 20;
}

const results = [];
for (const size of sizes) {
  const containers = Array.from({ length: size }, (_, i) => container(i));
  const input = listing(containers);
  const check = rebuild(input);
  if (check.table.routes.length !== size || check.translated.issues.length !== 0) {
    throw new Error(`expected ${size} routes and no issues, got ${check.table.routes.length} routes and ${check.translated.issues.length} issues`);
  }
  const runs = Math.max(10, Math.round((iterations * 1000) / Math.max(size, 1000)));
  const cold = measureCold(input, runs);
  const session = startSession(containers);
  const changeOneRuns = Math.min(runs * 10, 1000);
  const changeOne = measureChangeOne(session, changeOneRuns);
  const churnResult = measureChurn(session, churn);
  if (!sameTables(session.live, rebuild(listing([...session.current])).table)) {
    throw new Error('the incremental table differs from a cold build');
  }
  results.push({
    size,
    runs,
    ...cold,
    coldMs: cold.totalMs,
    changeOneMs: changeOne.wall,
    changeOneCpuMeanMs: changeOne.cpuMeanMs,
    changeOneRuns,
    tableHeapMB: measureTableHeap(input),
    builderHeapMB: measureBuilderHeap(input),
    churn: churnResult,
  });
}
process.stdout.write(`${JSON.stringify({ results })}\n`);
