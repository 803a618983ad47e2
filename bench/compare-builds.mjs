// Same-run comparison of two builds: public (1 route) and signed-in throughput, rotating order.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const LIB = new URL('./lib', import.meta.url).href;
const { createProcessRegistry, freePort, waitFor, cpuMillis } = await import(`${LIB}/processes.mjs`);
const { startUpstream, startGatehouse, writeRoutesFile, publicHost, fetchOnce } = await import(`${LIB}/servers.mjs`);
const { AUTH_POLICY, mintSessionCookie, newSecret, startProvider } = await import(`${LIB}/identity.mjs`);
const { runMatrix } = await import(`${LIB}/throughput.mjs`);
const { writeWrkScript, runWrk } = await import(`${LIB}/wrk.mjs`);
const { readFileSync, statSync } = await import('node:fs');

// Two built checkouts (each with dist/ and node_modules): node bench/compare-builds.mjs BEFORE_DIR AFTER_DIR
const [beforeRoot, afterRoot] = process.argv.slice(2);
if (!beforeRoot || !afterRoot) throw new Error('usage: node bench/compare-builds.mjs BEFORE_DIR AFTER_DIR (two built checkouts)');
const ROOTS = { before: beforeRoot, after: afterRoot };
const seconds = Number(process.env.SECONDS_PER_RUN ?? 8);
// ACCESS_LOG=1: both builds log every request (the shipped default) to a pipe this process reads,
// as Docker's log driver reads stdout; one more scenario is the after build with the log off.
const accessLog = process.env.ACCESS_LOG === '1';
// ALLOC=1: every instance also runs with --trace-gc-nvp, and after the matrix one more run per
// scenario gives the bytes V8 allocated per request (the `allocated` field of each GC line,
// summed): a figure the other load on a shared machine does not move.
const alloc = process.env.ALLOC === '1';
const outputOf = (name) => join(dir, accessLog ? `${name}.log` : `gatehouse-${name}.log`);
const logging = (name) => ({ ...(accessLog ? { output: { pipe: outputOf(name) } } : { output: outputOf(name) }), ...(alloc ? { nodeArgs: ['--trace-gc-nvp'] } : {}) });
const logSetting = accessLog ? { GATEHOUSE_ACCESS_LOG: 'true' } : {};
const repetitions = Number(process.env.REPS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'gh-compare-'));
const registry = createProcessRegistry();
const log = (m) => process.stdout.write(`${m}\n`);
const closers = [];
try {
  const upstream = await startUpstream(registry, dir, 0);
  const oneRoute = join(dir, 'routes-1.yaml');
  writeRoutesFile(oneRoute, { upstreamPort: upstream.port, count: 1 });
  const scenarios = [];
  for (const [label, root] of Object.entries(ROOTS)) {
    const pub = await startGatehouse(registry, { root, dir, cpu: 1, name: `public-${label}`, ...logging(`public-${label}`), settings: { GATEHOUSE_CONFIG: oneRoute, GATEHOUSE_LABEL_PREFIX: 'ghcmp', ...logSetting } });
    scenarios.push({ id: `public-${label}`, group: 'gatehouse', label: `public, ${label}`, url: `${pub.url}/`, headers: { Host: publicHost(1) }, pid: pub.pid, expectStatus: 200, output: outputOf(`public-${label}`) });
    if (accessLog && label === 'after') {
      const quiet = await startGatehouse(registry, { root, dir, cpu: 1, name: 'public-after-nolog', output: outputOf('public-after-nolog'), ...(alloc ? { nodeArgs: ['--trace-gc-nvp'] } : {}), settings: { GATEHOUSE_CONFIG: oneRoute, GATEHOUSE_LABEL_PREFIX: 'ghcmp' } });
      scenarios.push({ id: 'public-after-nolog', group: 'gatehouse', label: 'public, after, access log off', url: `${quiet.url}/`, headers: { Host: publicHost(1) }, pid: quiet.pid, expectStatus: 200, output: outputOf('public-after-nolog') });
    }
    const port = await freePort();
    const authUrl = `http://auth.bench.test:${port}`;
    const clientSecret = newSecret();
    const secret = newSecret();
    const provider = await startProvider(root, { authUrl, clientId: 'cmp', clientSecret });
    closers.push(() => provider.close());
    const routesFile = join(dir, `routes-auth-${label}.yaml`);
    writeRoutesFile(routesFile, { upstreamPort: upstream.port, extra: [{ from: 'http://app.bench.test', settings: { allow: AUTH_POLICY } }] });
    const auth = await startGatehouse(registry, {
      root, dir, cpu: 1, port, name: `auth-${label}`, ...logging(`auth-${label}`),
      settings: { ...logSetting, GATEHOUSE_CONFIG: routesFile, GATEHOUSE_LABEL_PREFIX: 'ghcmp', GATEHOUSE_AUTH_URL: authUrl, GATEHOUSE_OIDC_ISSUER: provider.issuer, GATEHOUSE_OIDC_CLIENT_ID: 'cmp', GATEHOUSE_OIDC_CLIENT_SECRET: clientSecret, GATEHOUSE_SECRET: secret },
    });
    await waitFor('discovery', async () => JSON.parse((await fetchOnce(`http://127.0.0.1:${auth.adminPort}/readyz`)).body).identity?.provider === 'ready', { timeoutMs: 20_000 });
    const cookie = await mintSessionCookie(root, { secret, host: 'app.bench.test' });
    const check = await fetchOnce(`${auth.url}/bench-echo`, { host: 'app.bench.test', cookie });
    if (check.status !== 200 || !String(check.headers['x-seen-jwt'] ?? '').includes('.')) throw new Error(`${label}: signed-in check failed: ${check.status}`);
    const anon = await fetchOnce(`${auth.url}/`, { host: 'app.bench.test', accept: 'text/html' });
    if (anon.status !== 302) throw new Error(`${label}: anonymous got ${anon.status}`);
    scenarios.push({ id: `auth-${label}`, group: 'gatehouse-auth', label: `signed-in, ${label}`, url: `${auth.url}/`, headers: { Host: 'app.bench.test', Cookie: cookie }, pid: auth.pid, expectStatus: 200, output: outputOf(`auth-${label}`) });
  }
  const script = writeWrkScript(dir);
  // TOGETHER=1: before and after of each scenario loaded at the same time (two wrk, 25
  // connections each, on CPU 0; both proxies on CPU 1), round after round. Whatever else runs on
  // the machine then weighs on both alike, so their ratio holds on a busy machine.
  const together = process.env.TOGETHER === '1';
  if (together) await runTogether(scenarios, script);
  const results = together ? new Map() : await runMatrix(scenarios, { script, seconds, warmupSeconds: 2, repetitions, loadCpu: 0, proxyCpu: 1, log });
  if (!together) log('\nsummary (median req/s over repetitions; cpu µs/req):');
  for (const [id, { summary, runs }] of results) {
    const rps = runs.map((r) => Math.round(r.rps));
    const cpu = runs.map((r) => r.cpuUsPerRequest?.toFixed(1));
    log(`${id.padEnd(16)} median ${Math.round(summary.rps?.median ?? 0)}  runs ${rps.join(' / ')}  cpu µs/req ${cpu.join(' / ')}  other load % ${runs.map((r) => r.foreignLoadPercent?.toFixed(0)).join(' / ')}`);
  }
  if (alloc) {
    log('\nbytes allocated per request (--trace-gc-nvp, one more run of each scenario):');
    for (const scenario of scenarios) {
      const from = statSync(scenario.output).size;
      const run = await runWrk({ script, url: scenario.url, headers: scenario.headers, seconds, cpu: 0, expectStatus: scenario.expectStatus });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const text = readFileSync(scenario.output).subarray(from).toString('utf8');
      let bytes = 0;
      for (const match of text.matchAll(/ allocated=(\d+)/g)) bytes += Number(match[1]);
      log(`${scenario.id.padEnd(18)} ${(bytes / run.requests / 1024).toFixed(2)} KiB/request over ${run.requests} requests`);
    }
  }
} finally {
  for (const close of closers) await close().catch(() => {});
  await registry.stopAll();
}

async function runTogether(scenarios, script) {
  const pairs = ['public', 'auth'].map((kind) => [scenarios.find((s) => s.id === `${kind}-before`), scenarios.find((s) => s.id === `${kind}-after`)]);
  for (const pair of pairs) {
    const load = (s, secs) => runWrk({ script, url: s.url, headers: s.headers, seconds: secs, cpu: 0, connections: 25, expectStatus: s.expectStatus });
    await Promise.all(pair.map((s) => load(s, 2)));
    const cpuRatios = [];
    const rpsRatios = [];
    for (let round = 0; round < repetitions; round++) {
      const cpu0 = pair.map((s) => cpuMillis(s.pid));
      const runs = await Promise.all(pair.map((s) => load(s, seconds)));
      const us = pair.map((s, i) => ((cpuMillis(s.pid) - cpu0[i]) * 1000) / runs[i].requests);
      cpuRatios.push(us[1] / us[0]);
      rpsRatios.push(runs[1].rps / runs[0].rps);
      const problems = runs.flatMap((r) => r.problems);
      log(`  ${pair[0].id.replace('-before', '').padEnd(7)} round ${round + 1}: before ${us[0].toFixed(1)} µs/req ${Math.round(runs[0].rps)} req/s, after ${us[1].toFixed(1)} µs/req ${Math.round(runs[1].rps)} req/s${problems.length > 0 ? `  FAILED: ${problems.join('; ')}` : ''}`);
    }
    const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    log(`${pair[0].id.replace('-before', '')}: after ÷ before, median of ${repetitions} rounds: CPU per request ${median(cpuRatios).toFixed(3)}, req/s ${median(rpsRatios).toFixed(3)} (req/s ratios ${rpsRatios.map((r) => r.toFixed(2)).join(', ')})`);
  }
}
