import { Pool } from 'undici';

/**
 * Open-loop load at a fixed rate (wrk2 is not in Debian): request i is due at start + i/rate,
 * and its latency is measured from that due time, not from when it was sent, so a stalled
 * proxy cannot hide its queue (coordinated omission). Run as its own pinned process:
 *
 *   node fixed-rate.mjs '{"url":"http://127.0.0.1:8080/","headers":{…},"rate":5000,"seconds":10}'
 *
 * Prints one JSON line: achieved rate, latency percentiles (ms), statuses, errors.
 */

const options = JSON.parse(process.argv[2] ?? '{}');
const { url, headers = {}, rate, seconds, warmupSeconds = 0, connections = 50, expectStatus = 200 } = options;
const target = new URL(url);
const path = `${target.pathname}${target.search}`;
const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });

// The first `warmupSeconds` open the connections and warm both sides up; they are not recorded.
const skipped = Math.floor(rate * warmupSeconds);
const total = skipped + Math.floor(rate * seconds);
const latencies = new Float64Array(total);
const statuses = new Map();
let completed = 0;
let recorded = 0;
let errors = 0;
let sent = 0;
let inFlight = 0;
let maxInFlight = 0;
let lastError = null;

const intervalMs = 1000 / rate;
const start = performance.now();

function send(index) {
  const due = start + index * intervalMs;
  inFlight++;
  if (inFlight > maxInFlight) maxInFlight = inFlight;
  pool.dispatch(
    { origin: target.origin, path, method: 'GET', headers },
    {
      onRequestStart() {},
      onResponseStart(_controller, statusCode) {
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      },
      onResponseData() {},
      onResponseEnd() {
        if (index >= skipped) latencies[recorded++] = performance.now() - due;
        completed++;
        inFlight--;
      },
      onResponseError(_controller, error) {
        errors++;
        lastError = error.message;
        inFlight--;
      },
    },
  );
}

// A 1 ms tick sends everything that has fallen due; a late tick sends the backlog at once,
// and those requests carry the delay in their latency.
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
    while (sent < due) send(sent++);
    if (sent < total) setTimeout(tick, 1);
    else resolve();
  };
  tick();
});
const drainDeadline = performance.now() + 10_000;
while (completed + errors < total && performance.now() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 5));
const elapsed = (performance.now() - start) / 1000 - warmupSeconds;
await pool.close();

const sorted = latencies.slice(0, recorded).sort();
const quantile = (q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
const problems = [];
if (errors > 0) problems.push(`${errors} request errors (last: ${lastError})`);
const unexpected = [...statuses].filter(([status]) => status !== expectStatus);
if (unexpected.length > 0) problems.push(`unexpected statuses (expected ${expectStatus}): ${unexpected.map(([s, n]) => `${s} ×${n}`).join(', ')}`);
if (completed + errors < total) problems.push(`${total - completed - errors} requests still unanswered 10 s after the last was sent`);

process.stdout.write(
  `${JSON.stringify({
    targetRate: rate,
    achievedRate: recorded / elapsed,
    requests: recorded,
    maxInFlight,
    latencyMs: { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), p999: quantile(0.999), max: sorted.length ? sorted[sorted.length - 1] : null },
    statuses: Object.fromEntries(statuses),
    problems,
  })}\n`,
);
