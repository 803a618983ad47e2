import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMillis, residentBytes, watchForeignLoad } from './processes.mjs';
import { max, median, min } from './stats.mjs';
import { runWrk } from './wrk.mjs';

/**
 * The closed-loop matrix: every scenario is measured `repetitions` times, in an order that
 * rotates each round so no scenario always runs first or last. Each measurement is preceded by
 * a warm-up against the same target. While wrk runs, the process under test is sampled for RSS
 * every 200 ms and its CPU time is read before and after, giving CPU µs per request; the share
 * of the proxy's core used by anything else is recorded as the run's noise.
 */

const RSS_SAMPLE_MS = 200;

/**
 * scenario: { id, label, url, headers, expectStatus, pid (process under test) }.
 * Returns id → { runs: [...], summary }.
 */
export async function runMatrix(scenarios, { script, seconds, warmupSeconds, repetitions, loadCpu, proxyCpu, log }) {
  const results = new Map(scenarios.map((s) => [s.id, { scenario: s, runs: [] }]));
  const step = Math.max(1, Math.floor(scenarios.length / repetitions));
  for (let round = 0; round < repetitions; round++) {
    const offset = (round * step) % scenarios.length;
    const order = [...scenarios.slice(offset), ...scenarios.slice(0, offset)];
    for (const scenario of order) {
      const run = await measureOnce(scenario, { script, seconds, warmupSeconds, loadCpu, proxyCpu });
      results.get(scenario.id).runs.push(run);
      log(
        `  [${round + 1}/${repetitions}] ${scenario.label.padEnd(44)} ${String(Math.round(run.rps)).padStart(7)} req/s  p50 ${run.latencyMs.p50.toFixed(2)} ms  p99 ${run.latencyMs.p99.toFixed(2)} ms` +
          (run.foreignLoadPercent >= 10 ? `  (other load on the proxy core ${run.foreignLoadPercent.toFixed(0)}%)` : '') +
          (run.problems.length > 0 ? `  FAILED: ${run.problems.join('; ')}` : ''),
      );
    }
  }
  return new Map([...results].map(([id, { scenario, runs }]) => [id, { scenario, runs, summary: summarise(runs) }]));
}

async function measureOnce(scenario, { script, seconds, warmupSeconds, loadCpu, proxyCpu }) {
  const wrkOptions = { script, url: scenario.url, headers: scenario.headers, cpu: loadCpu, expectStatus: scenario.expectStatus };
  if (warmupSeconds > 0) await runWrk({ ...wrkOptions, seconds: warmupSeconds });
  await sleep(200);
  let peakRss = residentBytes(scenario.pid) ?? 0;
  const sampler = setInterval(() => {
    const rss = residentBytes(scenario.pid);
    if (rss !== null && rss > peakRss) peakRss = rss;
  }, RSS_SAMPLE_MS);
  const cpuBefore = cpuMillis(scenario.pid);
  // Direct runs have nothing of ours on the proxy core, so there is no noise to attribute.
  const foreignLoad = scenario.group === 'direct' ? () => null : watchForeignLoad(proxyCpu, scenario.pid);
  try {
    const result = await runWrk({ ...wrkOptions, seconds });
    const cpuMs = cpuMillis(scenario.pid) - cpuBefore;
    return {
      ...result,
      peakRssBytes: peakRss,
      cpuUsPerRequest: result.requests > 0 ? (cpuMs * 1000) / result.requests : null,
      foreignLoadPercent: foreignLoad(),
    };
  } finally {
    clearInterval(sampler);
  }
}

function summarise(runs) {
  const ok = runs.filter((run) => run.problems.length === 0);
  const pick = (f) => runs.map(f);
  return {
    failed: runs.length - ok.length,
    problems: [...new Set(runs.flatMap((run) => run.problems))],
    rps: { median: median(pick((r) => r.rps)), min: min(pick((r) => r.rps)), max: max(pick((r) => r.rps)) },
    p50Ms: { median: median(pick((r) => r.latencyMs.p50)), min: min(pick((r) => r.latencyMs.p50)), max: max(pick((r) => r.latencyMs.p50)) },
    p99Ms: { median: median(pick((r) => r.latencyMs.p99)), min: min(pick((r) => r.latencyMs.p99)), max: max(pick((r) => r.latencyMs.p99)) },
    cpuUsPerRequest: median(pick((r) => r.cpuUsPerRequest)),
    peakRssBytes: max(pick((r) => r.peakRssBytes)),
    foreignLoadPercent: max(pick((r) => r.foreignLoadPercent)),
  };
}
