#!/usr/bin/env node
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintSessionCookie, newSecret, startProvider, AUTH_POLICY } from './lib/identity.mjs';
import { runFixedRate } from './lib/latency.mjs';
import { cpuMillis, createProcessRegistry, killActiveCommands, residentBreakdown, residentBytes, runCommand } from './lib/processes.mjs';
import { AUTH_HOST, LOAD_CPU, PROXY_CPU } from './lib/rig.mjs';
import { publicHost, startCaddy, startGatehouse, startUpstream, writeRoutesFile } from './lib/servers.mjs';
import { runWrk, writeWrkScript } from './lib/wrk.mjs';

/**
 * Stand-alone: Gatehouse's memory and tail under several V8 settings, every figure for every
 * setting in the same run so their ratios hold on a shared machine (bench/README.md,
 * "Experiments"). For each setting, two fresh instances on the proxy core: 1 public route (idle
 * RSS and private memory, closed-loop req/s and its peak RSS, then p99 at 50% of that maximum,
 * beside Caddy's p99 at the same rate), and sign-in with a protected route (idle, the signed-in
 * load's peak, then a flood of sign-in redirects on a fresh instance and its peak).
 *
 *   node bench/v8-settings.mjs [seconds] [setting names…]
 *
 * `npm run build` first. Writes a JSON file and prints a Markdown table.
 */

// GATEHOUSE_ROOT: measure another checkout's dist/ (a copy, so rebuilding this one mid-run changes nothing).
const root = process.env.GATEHOUSE_ROOT ?? dirname(dirname(fileURLToPath(import.meta.url)));
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

// nodeOptions: NODE_OPTIONS (only options Node allows there); nodeArgs: on the node command line
// (V8 flags Node refuses in NODE_OPTIONS, which an image would put in its ENTRYPOINT); env: extra.
const SETTINGS = {
  'semi-8': { nodeOptions: '--max-semi-space-size=8' },
  default: { nodeOptions: null },
  'semi-1': { nodeOptions: '--max-semi-space-size=1' },
  'semi-2': { nodeOptions: '--max-semi-space-size=2' },
  'semi-4': { nodeOptions: '--max-semi-space-size=4' },
  'semi-16': { nodeOptions: '--max-semi-space-size=16' },
  'semi-8-old-64': { nodeOptions: '--max-semi-space-size=8 --max-old-space-size=64' },
  'semi-8-pool-1': { nodeOptions: '--max-semi-space-size=8 --v8-pool-size=1' },
  'semi-8-arenas-2': { nodeOptions: '--max-semi-space-size=8', env: { MALLOC_ARENA_MAX: '2' } },
  'semi-8-single-threaded-gc': { nodeOptions: '--max-semi-space-size=8', nodeArgs: ['--single-threaded-gc'] },
  'semi-8-optimize-for-size': { nodeOptions: '--max-semi-space-size=8', nodeArgs: ['--optimize-for-size'] },
  'semi-8-small': { nodeOptions: '--max-semi-space-size=8 --v8-pool-size=1', nodeArgs: ['--optimize-for-size'], env: { MALLOC_ARENA_MAX: '2' } },
  'semi-16-small': { nodeOptions: '--max-semi-space-size=16 --v8-pool-size=1', nodeArgs: ['--optimize-for-size'], env: { MALLOC_ARENA_MAX: '2' } },
  'minor-ms': { nodeOptions: '--max-semi-space-size=8', nodeArgs: ['--minor-ms'] },
};

const args = process.argv.slice(2);
const seconds = Number(args[0] ?? 8);
const chosen = args.length > 1 ? args.slice(1) : Object.keys(SETTINGS);
for (const name of chosen) if (!(name in SETTINGS)) throw new Error(`unknown setting ${name}; known: ${Object.keys(SETTINGS).join(', ')}`);

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-v8-'));
const registry = createProcessRegistry();
const log = (message) => process.stdout.write(`${message}\n`);
const MB = 2 ** 20;
process.once('exit', () => {
  killActiveCommands();
  registry.killAllNow();
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killActiveCommands();
    registry.stopAll().finally(() => process.exit(130));
  });
}

/**
 * RSS samples of `pid` every 100 ms while `fn` runs; resolves with fn's result, the highest
 * sample and the process's CPU time over the run (which other load on the machine inflates far
 * less than it cuts req/s).
 */
async function withPeak(pid, fn) {
  let peak = residentBytes(pid) ?? 0;
  const cpuBefore = cpuMillis(pid);
  const timer = setInterval(() => {
    const rss = residentBytes(pid);
    if (rss !== null && rss > peak) peak = rss;
  }, 100);
  try {
    const result = await fn();
    return { result, peakBytes: peak, cpuUsPerRequest: result.requests > 0 ? ((cpuMillis(pid) - cpuBefore) * 1000) / result.requests : null };
  } finally {
    clearInterval(timer);
  }
}

/** Rss, and the process's private pages (smaps_rollup Private_Clean + Private_Dirty). */
function idleOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: residentBreakdown(pid).rss, private: kb('Private_Clean') + kb('Private_Dirty'), anon: residentBreakdown(pid).anon };
}

async function main() {
  await runCommand('taskset', ['-apc', String(LOAD_CPU), String(process.pid)]);
  const script = writeWrkScript(dir);
  const upstream = await startUpstream(registry, dir, LOAD_CPU);
  const caddy = await startCaddy(registry, dir, PROXY_CPU, upstream.port);
  const authPort = 18_000 + Math.floor(Math.random() * 1000);
  const authUrl = `http://auth.bench.test:${authPort}`;
  const clientId = 'gatehouse-bench';
  const clientSecret = newSecret();
  const secret = newSecret();
  const provider = await startProvider(root, { authUrl, clientId, clientSecret });
  const oneRoute = join(dir, 'routes-1.yaml');
  writeRoutesFile(oneRoute, { upstreamPort: upstream.port, count: 1 });
  const authRoutes = join(dir, 'routes-auth.yaml');
  writeRoutesFile(authRoutes, { upstreamPort: upstream.port, extra: [{ from: `http://${AUTH_HOST}`, settings: { allow: AUTH_POLICY } }] });
  const prefix = `ghv8${process.pid}`;
  const authSettings = {
    GATEHOUSE_CONFIG: authRoutes,
    GATEHOUSE_LABEL_PREFIX: prefix,
    GATEHOUSE_AUTH_URL: authUrl,
    GATEHOUSE_OIDC_ISSUER: provider.issuer,
    GATEHOUSE_OIDC_CLIENT_ID: clientId,
    GATEHOUSE_OIDC_CLIENT_SECRET: clientSecret,
    GATEHOUSE_SECRET: secret,
    GATEHOUSE_ACCESS_LOG: 'true',
  };
  const cookie = await mintSessionCookie(root, { secret, host: AUTH_HOST });
  const rows = [];
  try {
    for (const name of chosen) {
      const setting = SETTINGS[name];
      // HEAP_PEAKS=1: each instance also records what its peak is made of (lib/heap-peaks.mjs).
      const sampler = process.env.HEAP_PEAKS === '1' ? ['--import', fileURLToPath(new URL('./lib/heap-peaks.mjs', import.meta.url))] : [];
      const common = { root, dir, cpu: PROXY_CPU, nodeOptions: setting.nodeOptions, nodeArgs: [...sampler, ...(setting.nodeArgs ?? [])] };
      const extraEnv = setting.env ?? {};
      const peaksFile = (what) => (sampler.length === 0 ? {} : { HEAP_PEAKS_FILE: join(dir, `peaks-${name}-${what}.json`) });
      const readPeaks = (what) => {
        try {
          return JSON.parse(readFileSync(join(dir, `peaks-${name}-${what}.json`), 'utf8'));
        } catch {
          return null;
        }
      };
      log(`▶ ${name}`);
      const pub = await startGatehouse(registry, { ...common, name: `${name}-public`, settings: { GATEHOUSE_CONFIG: oneRoute, GATEHOUSE_LABEL_PREFIX: prefix, ...extraEnv, ...peaksFile('public') } });
      const auth = await startGatehouse(registry, { ...common, name: `${name}-auth`, port: authPort, settings: { ...authSettings, ...extraEnv, ...peaksFile('signed-in') }, output: { pipe: join(dir, `access-${name}-auth.log`) } });
      await sleep(10_000);
      const idlePublic = idleOf(pub.pid);
      const idleAuth = idleOf(auth.pid);
      const publicLoad = { script, url: `${pub.url}/`, headers: { Host: publicHost(1) }, cpu: LOAD_CPU };
      await runWrk({ ...publicLoad, seconds: 2 });
      const max = await withPeak(pub.pid, () => runWrk({ ...publicLoad, seconds }));
      const rate = Math.round(max.result.rps / 2);
      const fixed = (await withPeak(pub.pid, () => runFixedRate({ url: `${pub.url}/`, headers: { Host: publicHost(1) }, rate, seconds, warmupSeconds: 2, cpu: LOAD_CPU }))).result;
      const caddyFixed = await runFixedRate({ url: `${caddy.url}/`, headers: {}, rate, seconds, warmupSeconds: 2, cpu: LOAD_CPU });
      const authLoad = { script, url: `${auth.url}/`, headers: { Host: AUTH_HOST, Cookie: cookie }, cpu: LOAD_CPU };
      await runWrk({ ...authLoad, seconds: 2 });
      const signedIn = await withPeak(auth.pid, () => runWrk({ ...authLoad, seconds }));
      await registry.stop(auth.pid);
      // The redirect flood on a fresh instance, so its peak is its own.
      const fresh = await startGatehouse(registry, { ...common, name: `${name}-redirect`, port: authPort, settings: { ...authSettings, ...extraEnv, ...peaksFile('redirect') }, output: { pipe: join(dir, `access-${name}-redirect.log`) } });
      const redirectLoad = { script, url: `${fresh.url}/`, headers: { Host: AUTH_HOST, Accept: BROWSER_ACCEPT }, cpu: LOAD_CPU, expectStatus: 302 };
      const flood = await withPeak(fresh.pid, () => runWrk({ ...redirectLoad, seconds: seconds + 2 }));
      const afterFlood = residentBytes(fresh.pid);
      await Promise.all([registry.stop(pub.pid), registry.stop(fresh.pid)]);
      const row = {
        name,
        nodeOptions: setting.nodeOptions,
        nodeArgs: setting.nodeArgs ?? [],
        env: extraEnv,
        idlePublic,
        idleAuth,
        publicRps: max.result.rps,
        publicPeakBytes: max.peakBytes,
        publicCpuUs: max.cpuUsPerRequest,
        rate,
        p99: fixed.latencyMs.p99,
        p999: fixed.latencyMs.p999,
        caddyP99: caddyFixed.latencyMs.p99,
        signedInRps: signedIn.result.rps,
        signedInPeakBytes: signedIn.peakBytes,
        signedInCpuUsPerRequest: signedIn.cpuUsPerRequest,
        redirectRps: flood.result.rps,
        redirectPeakBytes: flood.peakBytes,
        afterFloodBytes: afterFlood,
        peaks: sampler.length === 0 ? null : { public: readPeaks('public'), signedIn: readPeaks('signed-in'), redirect: readPeaks('redirect') },
        problems: [...max.result.problems, ...fixed.problems, ...caddyFixed.problems, ...signedIn.result.problems, ...flood.result.problems],
      };
      rows.push(row);
      log(
        `  idle ${(idlePublic.rss / MB).toFixed(1)} MB (private ${(idlePublic.private / MB).toFixed(1)}), sign-in on ${(idleAuth.rss / MB).toFixed(1)} (${(idleAuth.private / MB).toFixed(1)}); ` +
          `public ${Math.round(row.publicRps)} req/s (${row.publicCpuUs?.toFixed(0)} µs CPU each) peak ${(row.publicPeakBytes / MB).toFixed(0)} MB; p99 at ${rate}/s ${row.p99.toFixed(2)} ms (Caddy ${row.caddyP99.toFixed(2)}); ` +
          `signed-in ${Math.round(row.signedInRps)} req/s (${row.signedInCpuUsPerRequest?.toFixed(0)} µs) peak ${(row.signedInPeakBytes / MB).toFixed(0)} MB; redirects ${Math.round(row.redirectRps)} req/s peak ${(row.redirectPeakBytes / MB).toFixed(0)} MB` +
          (row.problems.length > 0 ? `; PROBLEMS: ${row.problems.join('; ')}` : ''),
      );
      for (const [what, p] of Object.entries(row.peaks ?? {})) {
        if (!p?.atPeak) continue;
        const gc = Object.entries(p.gc ?? {}).map(([kind, g]) => `${kind} ×${g.count} (max ${g.maxMs.toFixed(1)} ms)`).join(', ');
        log(`    ${what} at its peak: RSS ${p.atPeak.rss.toFixed(0)} MB = anon ${p.atPeak.anon.toFixed(0)} + file ${p.atPeak.file.toFixed(0)}; V8 heap ${p.atPeak.heapPhysical.toFixed(0)} MB (${Object.entries(p.atPeak.heap).filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}); GC over the run: ${gc}`);
      }
    }
  } finally {
    await provider.close();
    await registry.stopAll();
  }
  const out = join(dir, 'v8-settings.json');
  writeFileSync(out, JSON.stringify({ seconds, rows }, null, 2));
  const f = (bytes) => (bytes / MB).toFixed(0);
  log('\n| Setting | idle RSS / private MB | sign-in on, idle | public req/s (CPU µs/req) | peak, public | p99 at 50% (Caddy) ms | signed-in CPU µs/req | peak, signed-in | peak, redirect flood |');
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    log(`| ${r.name} | ${f(r.idlePublic.rss)} / ${f(r.idlePublic.private)} | ${f(r.idleAuth.rss)} / ${f(r.idleAuth.private)} | ${Math.round(r.publicRps)} (${r.publicCpuUs?.toFixed(0)}) | ${f(r.publicPeakBytes)} | ${r.p99.toFixed(1)} (${r.caddyP99.toFixed(1)}) | ${r.signedInCpuUsPerRequest?.toFixed(0)} | ${f(r.signedInPeakBytes)} | ${f(r.redirectPeakBytes)} |`);
  }
  log(`\n${out}`);
}

main().catch(async (error) => {
  log(`v8-settings: ${error.stack ?? error.message}`);
  await registry.stopAll();
  process.exitCode = 1;
});
