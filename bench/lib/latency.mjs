import { fileURLToPath } from 'node:url';
import { residentBytes, runCommand } from './processes.mjs';
import { median } from './stats.mjs';

/**
 * Open-loop measurements with the fixed-rate generator (fixed-rate.mjs, its own pinned
 * process): latency at a set share of a proxy's measured maximum, and the soak, where the RSS
 * of the process under test is sampled every second for the whole run.
 */

const GENERATOR = fileURLToPath(new URL('./fixed-rate.mjs', import.meta.url));

export async function runFixedRate({ url, headers = {}, rate, seconds, warmupSeconds, cpu, expectStatus = 200 }) {
  const options = { url, headers, rate: Math.max(1, Math.round(rate)), seconds, warmupSeconds, expectStatus };
  const { stdout } = await runCommand(process.execPath, [GENERATOR, JSON.stringify(options)], {
    cpu,
    timeoutMs: (seconds + warmupSeconds + 60) * 1000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/**
 * Load at `rate` for `seconds` after `warmupSeconds`, sampling the RSS of `pid` each second.
 * Growth is the median of the last tenth of the samples over the highest sample of the first
 * half: V8 may take another step of young-generation or heap growth early on, which is not a
 * leak; a leak keeps climbing past anything seen in the first half.
 */
export async function soak({ pid, ...load }) {
  const samples = [];
  const started = performance.now();
  const timer = setInterval(() => {
    const rss = residentBytes(pid);
    if (rss !== null) samples.push({ atS: (performance.now() - started) / 1000, rssBytes: rss });
  }, 1_000);
  let result;
  try {
    result = await runFixedRate(load);
  } finally {
    clearInterval(timer);
  }
  const measured = samples.filter((s) => s.atS >= load.warmupSeconds);
  const tenth = Math.max(1, Math.floor(measured.length / 10));
  const firstHalf = measured.slice(0, Math.max(1, Math.floor(measured.length / 2)));
  const first = firstHalf.length > 0 ? Math.max(...firstHalf.map((s) => s.rssBytes)) : null;
  const last = median(measured.slice(-tenth).map((s) => s.rssBytes));
  return {
    seconds: load.seconds,
    warmupSeconds: load.warmupSeconds,
    rate: load.rate,
    load: result,
    samples,
    firstRssBytes: first,
    lastRssBytes: last,
    peakRssBytes: Math.max(...samples.map((s) => s.rssBytes)),
    growthPercent: first && last ? ((last - first) / first) * 100 : null,
  };
}
