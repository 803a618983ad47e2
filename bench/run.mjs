#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeChart } from './lib/chart.mjs';
import { removeContainers } from './lib/docker-engine.mjs';
import { measureLabelToLive } from './lib/label-to-live.mjs';
import { runFixedRate, soak } from './lib/latency.mjs';
import { buildImages, imageSize, removeImages } from './lib/images.mjs';
import { baselineRss, idleRss, mergeIdle } from './lib/memory.mjs';
import { measureQuickStart } from './lib/quick-start.mjs';
import { measureSwarmMesh } from './lib/swarm-mesh.mjs';
import { imageNodeOptions, withNodeOptions } from './lib/node-options.mjs';
import { createProcessRegistry, killActiveCommands, runCommand, watchForeignLoad } from './lib/processes.mjs';
import { profileGatehouse, profileRebuild } from './lib/profiling.mjs';
import { markdown, targetsText, textTable } from './lib/report.mjs';
import { AUTH_HOST, LOAD_CPU, PROXY_CPU, startRig } from './lib/rig.mjs';
import { publicHost, startGatehouse } from './lib/servers.mjs';
import { evaluateTargets } from './lib/targets.mjs';
import { runMatrix } from './lib/throughput.mjs';
import { ensureTools, describeMachine } from './lib/tools.mjs';
import { writeWrkScript } from './lib/wrk.mjs';

/**
 * `npm run bench [-- --quick]`: proxy overhead against nginx and Caddy, the cost of sign-in,
 * latency at a fixed rate, label-to-live with real containers, memory and route-table rebuild
 * time. Writes BENCHMARKS.md, bench/benchmarks.png and bench/results/<stamp>.json.
 */

const MODES = {
  full: {
    seconds: 30, warmupSeconds: 10, repetitions: 3, settleMs: 10_000,
    fixedRate: { seconds: 30, warmupSeconds: 5 }, soak: { seconds: 600, warmupSeconds: 30 },
    profile: { seconds: 15, warmupSeconds: 5 }, rebuild: { sizes: [100, 1000, 10000], iterations: 200, churn: 200 },
    live: { singles: 20, burst: 50 },
  },
  quick: {
    seconds: 4, warmupSeconds: 2, repetitions: 3, settleMs: 3_000,
    fixedRate: { seconds: 5, warmupSeconds: 2 }, soak: { seconds: 30, warmupSeconds: 10 },
    profile: { seconds: 4, warmupSeconds: 2 }, rebuild: { sizes: [100, 1000], iterations: 50, churn: 50 },
    live: { singles: 8, burst: 20 },
  },
};

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('Usage: npm run bench [-- --quick]\n  --quick   short runs (seconds instead of minutes) for development\n');
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--quick');
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown option ${unknown.join(' ')}; try --help\n`);
  process.exit(2);
}
const mode = args.includes('--quick') ? 'quick' : 'full';
const plan = MODES[mode];
const runId = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const registry = createProcessRegistry();
const deferred = [];
const log = (message) => process.stdout.write(`${message}\n`);

let cleaning = null;
function cleanUp() {
  cleaning ??= (async () => {
    killActiveCommands();
    for (const fn of deferred.reverse()) await Promise.resolve().then(fn).catch(() => {});
    await registry.stopAll();
    // A `docker run` cut short may still be creating its container in the engine.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await removeContainers([], `gatehouse-bench=${runId}`);
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`\n${signal}: stopping every process and container this run started…`);
    cleanUp().finally(() => {
      log(`Logs kept in ${dir}`);
      process.exit(130);
    });
  });
}
process.once('exit', () => {
  killActiveCommands();
  registry.killAllNow();
});

async function phase(name, results, key, fn) {
  log(`\n▶ ${name}`);
  try {
    results[key] = await fn();
  } catch (error) {
    log(`  ${name} failed: ${error.message}`);
    results[key] = { error: error.message };
    results.failures.push(`${name}: ${error.message}`);
  }
}

async function main() {
  // The orchestrator itself stays off the proxy's core.
  await runCommand('taskset', ['-apc', String(LOAD_CPU), String(process.pid)]);
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const nodeOptions = imageNodeOptions(root);

  const { found: tools, notes } = ensureTools(log);
  if (!tools.nginx || !tools.wrk) throw new Error(`nginx and wrk are required: ${notes.join('; ')}`);
  const results = {
    mode,
    machine: describeMachine(root),
    settings: { ...plan, connections: 50, threads: 1, proxyCpu: PROXY_CPU, loadCpu: LOAD_CPU, gatehouseNodeOptions: nodeOptions },
    notes: [...notes],
    unavailable: {},
    throughput: {},
    failures: [],
  };
  if (mode === 'quick') results.notes.push('Quick mode: runs of a few seconds, a 30 s soak and a smaller container burst; use the full run for published figures.');
  log(`Gatehouse bench (${mode}), run ${runId}, work directory ${dir}`);
  log(`${results.machine.cpuModel}, ${results.machine.cores} cores, Linux ${results.machine.kernel}; node ${results.machine.versions.node}, nginx ${results.machine.versions.nginx}, caddy ${results.machine.versions.caddy ?? 'not installed'}, wrk ${results.machine.versions.wrk}, docker ${results.machine.versions.docker}`);
  log(`Gatehouse runs with the image's NODE_OPTIONS (${nodeOptions || 'empty'}, from the Dockerfile)`);

  const script = writeWrkScript(dir);
  const rig = await startRig({ root, dir, registry, runId, tools, log, defer: (fn) => deferred.push(fn) });
  Object.assign(results.unavailable, rig.unavailable);
  for (const [what, reason] of Object.entries(rig.unavailable)) log(`  ${what}: not available — ${reason}`);

  await phase('Idle memory', results, 'idle', async () => {
    const gh = rig.gatehouse;
    const pids = { public1: gh.public1.pid, public1000: gh.public1000.pid, publicV8Default: gh.publicV8Default.pid, nginx: rig.nginx.pid };
    if (gh.auth) pids.auth = gh.auth.pid;
    if (rig.caddy) pids.caddy = rig.caddy.pid;
    const idle = await idleRss(pids, plan.settleMs);
    const floors = await baselineRss(registry, { root, cpu: PROXY_CPU, settleMs: plan.settleMs });
    log(
      `  idle RSS: 1 route ${mbText(idle.public1)} (RssAnon ${mbText(idle.rssAnon.public1)}, RssFile ${mbText(idle.rssFile.public1)}), 1,000 routes ${mbText(idle.public1000)}, ` +
        `Node's default heap ${mbText(idle.publicV8Default)}, bare node ${mbText(floors.bareNode)}, node + dependencies ${mbText(floors.dependencies)}`,
    );
    return mergeIdle(idle, floors);
  });

  log(`\n▶ Throughput: ${rig.scenarios.length} scenarios × ${plan.repetitions}, ${plan.seconds} s each after ${plan.warmupSeconds} s warm-up`);
  const matrix = await runMatrix(rig.scenarios, { script, seconds: plan.seconds, warmupSeconds: plan.warmupSeconds, repetitions: plan.repetitions, loadCpu: LOAD_CPU, proxyCpu: PROXY_CPU, log });
  for (const [id, entry] of matrix) {
    const { pid: _pid, ...scenario } = entry.scenario;
    results.throughput[id] = { scenario, runs: entry.runs, summary: entry.summary };
    if (entry.summary.failed > 0) results.failures.push(`${scenario.label}: ${entry.summary.problems.join('; ')}`);
  }

  const noise = Math.max(0, ...Object.values(results.throughput).map((t) => t.summary.foreignLoadPercent ?? 0));
  results.notes.push(
    `Other processes used up to ${noise.toFixed(0)}% of the proxy's core during a measured run (see "other load %"); ` +
      (noise >= 10 ? 'figures from such runs are low, so compare medians and ratios within this run.' : 'the runs had the core essentially to themselves.'),
  );
  const direct = results.throughput['direct-13']?.summary.rps.median;
  const nginxRps = results.throughput.nginx?.summary.rps.median;
  if (direct && nginxRps && direct < 2 * nginxRps) {
    results.notes.push(`Direct to the upstream (${Math.round(direct)} req/s) is less than twice nginx (${Math.round(nginxRps)} req/s): the load-generator core may be what limits the nginx figure.`);
  }

  results.fixedRate = {};
  const fixedTargets = [
    ['public', rig.scenarios.find((s) => s.id === 'gh-public-1')],
    ['auth', rig.scenarios.find((s) => s.id === 'gh-auth')],
    ['publicV8Default', rig.scenarios.find((s) => s.id === 'gh-public-v8default')],
  ];
  for (const [key, scenario] of fixedTargets) {
    if (!scenario) continue;
    await phase(`Latency at 50% of max, ${scenario.label}`, results.fixedRate, key, async () => {
      const rate = results.throughput[scenario.id].summary.rps.median / 2;
      const load = { rate, seconds: plan.fixedRate.seconds, warmupSeconds: plan.fixedRate.warmupSeconds, cpu: LOAD_CPU };
      const foreignLoad = watchForeignLoad(PROXY_CPU, scenario.pid);
      const result = await runFixedRate({ ...load, url: scenario.url, headers: lowerCase(scenario.headers) });
      result.foreignLoadPercent = foreignLoad();
      const floor = await runFixedRate({ ...load, url: `${rig.upstream.url}/` });
      // A native proxy at the same rate on the same core: the tail this rig gives any proxy.
      const caddy = rig.caddy ? await runFixedRate({ ...load, url: `${rig.caddy.url}/` }) : null;
      log(
        `  ${Math.round(rate)} req/s: p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, p99.9 ${result.latencyMs.p999.toFixed(2)} ms ` +
          `(generator alone: p99 ${floor.latencyMs.p99.toFixed(2)} ms; Caddy at this rate: p99 ${caddy ? caddy.latencyMs.p99.toFixed(2) : '–'} ms; other load on the proxy core ${result.foreignLoadPercent.toFixed(0)}%)`,
      );
      if (result.problems.length > 0) results.failures.push(`fixed-rate ${scenario.label}: ${result.problems.join('; ')}`);
      return { rate, result, floor, caddy };
    });
  }

  const soakScenario = rig.scenarios.find((s) => s.id === 'gh-auth') ?? rig.scenarios.find((s) => s.id === 'gh-public-1');
  await phase(`Soak, ${plan.soak.seconds} s at 50% of max (${soakScenario.label})`, results, 'soak', async () => {
    const rate = results.throughput[soakScenario.id].summary.rps.median / 2;
    const foreignLoad = watchForeignLoad(PROXY_CPU, soakScenario.pid);
    const outcome = await soak({ pid: soakScenario.pid, url: soakScenario.url, headers: lowerCase(soakScenario.headers), rate, seconds: plan.soak.seconds, warmupSeconds: plan.soak.warmupSeconds, cpu: LOAD_CPU });
    log(`  RSS ${mbText(outcome.firstRssBytes)} → ${mbText(outcome.lastRssBytes)} (${outcome.growthPercent?.toFixed(1)}%), peak ${mbText(outcome.peakRssBytes)}`);
    if (outcome.load.problems.length > 0) results.failures.push(`soak: ${outcome.load.problems.join('; ')}`);
    return { ...outcome, path: soakScenario.label, foreignLoadPercent: foreignLoad() };
  });

  results.profiles = {};
  const profileRuns = [['public', { settings: { GATEHOUSE_CONFIG: join(dir, 'routes-1.yaml'), GATEHOUSE_LABEL_PREFIX: `ghbf${runId}` }, request: { path: '/', headers: { Host: publicHost(1) } } }]];
  if (!results.unavailable.auth && rig.authSettings) {
    profileRuns.push(['auth', { settings: rig.authSettings, request: { path: '/', headers: { Host: AUTH_HOST, Cookie: rig.cookie } } }]);
  }
  for (const [name, options] of profileRuns) {
    await phase(`CPU profile, ${name}`, results.profiles, name, () =>
      profileGatehouse({ registry, root, dir, cpu: PROXY_CPU, loadCpu: LOAD_CPU, name, script, ...options, ...plan.profile }),
    );
  }

  log('\nstopping the proxies…');
  for (const fn of deferred.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => {});
  await registry.stopAll();

  await phase('Route table rebuild (in process)', results, 'rebuild', async () => {
    const rebuildScript = fileURLToPath(new URL('./lib/table-rebuild.mjs', import.meta.url));
    const options = { cpu: PROXY_CPU, env: withNodeOptions(process.env, nodeOptions), timeoutMs: 600_000 };
    const { stdout } = await runCommand(process.execPath, ['--expose-gc', rebuildScript, root, JSON.stringify(plan.rebuild)], options);
    const rebuild = JSON.parse(stdout.trim().split('\n').at(-1));
    for (const r of rebuild.results) {
      log(
        `  ${r.size} containers: one changed p50 ${r.changeOneMs.p50.toFixed(2)} ms, p95 ${r.changeOneMs.p95.toFixed(2)} ms; ` +
          `cold p50 ${r.totalMs.p50.toFixed(2)} ms (translate ${r.translateMs.p50.toFixed(2)} + build ${r.buildMs.p50.toFixed(2)}), p95 ${r.totalMs.p95.toFixed(2)} ms`,
      );
    }
    return rebuild;
  });
  await phase('CPU profile, route table rebuild', results.profiles, 'rebuild', () => profileRebuild({ root, dir, cpu: PROXY_CPU }));

  await phase(`Label to live: ${plan.live.singles} single runs and a burst of ${plan.live.burst}`, results, 'labelToLive', async () => {
    const prefix = `ghbd${runId}`;
    const instance = await startGatehouse(registry, { root, dir, cpu: PROXY_CPU, name: 'docker', settings: { GATEHOUSE_LABEL_PREFIX: prefix } });
    try {
      results.idle = mergeIdle(results.idle, await idleRss({ docker: instance.pid }, 1_000));
      const outcome = await measureLabelToLive({ gatehouseUrl: instance.url, logPath: join(dir, 'gatehouse-docker.log'), prefix, runId, ...plan.live, log });
      return { ...outcome, prefix };
    } finally {
      await registry.stop(instance.pid);
    }
  });

  let images = null;
  await phase('Images: build, size', results, 'images', async () => {
    images = await buildImages(root, runId);
    const sizes = { gatehouse: await imageSize(images.gatehouse), socketProxy: await imageSize(images.socketProxy) };
    for (const [name, size] of Object.entries(sizes)) log(`  ${name}: ${mbText(size.uncompressedBytes)} uncompressed, ${mbText(size.compressedBytes)} compressed`);
    return sizes;
  });
  // The quick start as users run it (compose.example.yml), measured with docker stats.
  await phase('Quick start memory: sign-in and 10,000 signed-in requests', results, 'quickStart', async () => {
    const outcome = await measureQuickStart({ root, dir, images: images ?? {}, log });
    log(`  every container but the app: ${mbText(outcome.totalWithoutAppBytes)} (${Object.entries(outcome.containers).map(([name, c]) => `${name} ${mbText(c.afterLoadBytes)}`).join(', ')})`);
    return outcome;
  });
  // Several replicas as a Swarm stack: through the routing mesh, and Redis's share of a signed-in request.
  await phase('More than one machine: examples/swarm/stack.yml, two replicas', results, 'swarm', async () => {
    if (!images) throw new Error('the images were not built');
    return measureSwarmMesh({ root, log, seconds: mode === 'quick' ? 5 : 15, images });
  });
  if (images) await removeImages(images);

  results.targets = evaluateTargets(results);
  await writeOutputs(results);
  return results;
}

async function writeOutputs(results) {
  const stamp = `${results.machine.date.slice(0, 16).replace(':', '-')}-${(results.machine.git ?? 'nogit').split(' ')[0]}${results.mode === 'quick' ? '-quick' : ''}`;
  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, `${stamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const chartProblem = await writeChart(results, { svgPath: join(dir, 'benchmarks.svg'), pngPath: join(root, 'bench/benchmarks.png') }).catch((error) => `the chart could not be rendered: ${error.message}`);
  if (chartProblem) results.notes.push(chartProblem);
  writeFileSync(join(root, 'BENCHMARKS.md'), markdown(results, { chartPath: 'bench/benchmarks.png' }));

  log(`\n${textTable(results)}\n`);
  log(targetsText(results.targets));
  log(`\nWrote BENCHMARKS.md, bench/benchmarks.png and ${jsonPath.slice(root.length + 1)}`);
}

function lowerCase(headers) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function mbText(bytes) {
  return bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

main().then(
  async (results) => {
    await cleanUp();
    if (results.failures.length > 0) {
      log(`\n${results.failures.length} problem(s):\n  ${results.failures.join('\n  ')}\nLogs kept in ${dir}`);
      process.exitCode = 1;
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  async (error) => {
    log(`\nbench failed: ${error.stack ?? error.message}\nLogs kept in ${dir}`);
    await cleanUp();
    process.exitCode = 1;
  },
);
