import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './processes.mjs';

/**
 * wrk, closed loop (`-t1 -c50`, no pipelining). A small Lua script counts every response by
 * status in each thread and prints one JSON summary at the end, so a run can be failed on any
 * status other than the expected one; wrk itself only counts 4xx and 5xx as errors.
 */

const SCRIPT = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do counts[status] = (counts[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},"statuses":{%s}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    table.concat(parts, ",")))
end
`;

export function writeWrkScript(dir) {
  const path = join(dir, 'wrk-status.lua');
  writeFileSync(path, SCRIPT);
  return path;
}

/**
 * One wrk run on `cpu`. Returns the parsed summary plus `problems`: socket errors, or any
 * response whose status is not `expectStatus`.
 */
export async function runWrk({ script, url, headers = {}, seconds, connections = 50, cpu, expectStatus = 200 }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', script];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const { stdout } = await runCommand('wrk', args, { cpu, timeoutMs: (seconds + 30) * 1000 });
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  const summary = JSON.parse(line.slice('WRK_JSON '.length));
  const problems = [];
  const socketErrors = Object.entries(summary.errors).filter(([kind, n]) => kind !== 'status' && n > 0);
  if (socketErrors.length > 0) problems.push(`socket errors: ${socketErrors.map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  const unexpected = Object.entries(summary.statuses).filter(([status]) => Number(status) !== expectStatus);
  if (unexpected.length > 0) problems.push(`unexpected statuses (expected ${expectStatus}): ${unexpected.map(([s, n]) => `${s} ×${n}`).join(', ')}`);
  if (summary.requests === 0) problems.push('no request completed');
  const seconds_ = summary.durationUs / 1e6;
  return {
    requests: summary.requests,
    rps: summary.requests / seconds_,
    latencyMs: Object.fromEntries(Object.entries(summary.latencyUs).map(([k, v]) => [k, v / 1000])),
    statuses: summary.statuses,
    errors: summary.errors,
    bytes: summary.bytes,
    problems,
  };
}
