import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { bridgeAddress, dockerRun, dockerStop, epochMs, removeContainers, watchEvents } from './docker-engine.mjs';
import { distribution, max } from './stats.mjs';

/**
 * Label to live with real containers on the default bridge: `docker run` with labels → first
 * 200 through Gatehouse, beside the Docker floor (`docker run` → the same container answering
 * directly on its bridge address) measured on the same container from the same instant.
 * Then `docker stop` → Gatehouse answering 503/404, and one burst of containers started at once.
 */

const IMAGE = 'busybox:local';
const POLL_MS = 5;
const BURST_POLL_MS = 20;
const MAX_PROBES_IN_FLIGHT = 100;
const PROBE_TIMEOUT_MS = 250;

/** `logPath`: Gatehouse's log, read afterwards for when each route was published and withdrawn. */
export async function measureLabelToLive({ gatehouseUrl, logPath, prefix, runId, singles, burst, log }) {
  const runLabel = `gatehouse-bench=${runId}`;
  const names = [];
  const events = await watchEvents(runLabel);
  const pool = new Pool(gatehouseUrl, { connections: 128 });
  const hostFor = (tag) => `${tag}-${runId}.live.bench.test`;
  const labelsFor = (tag) => ({
    'gatehouse-bench': runId,
    [`${prefix}.from`]: `http://${hostFor(tag)}`,
    [`${prefix}.public`]: 'true',
    [`${prefix}.port`]: '80',
  });
  // A request routed to a container that just vanished can wait seconds for EHOSTUNREACH, so
  // each probe gives up after 250 ms and counts as "not yet" (Gatehouse answers in ~1 ms).
  const status = async (host, headersTimeout = PROBE_TIMEOUT_MS) => {
    const response = await pool.request({ path: '/', method: 'GET', headers: { host }, headersTimeout });
    await response.body.dump();
    return response.statusCode;
  };

  try {
    const runs = [];
    for (let i = 0; i < singles; i++) {
      const tag = `s${i}`;
      const name = `ghbench-${runId}-${tag}`;
      names.push(name);
      runs.push(await singleRun({ name, host: hostFor(tag), labels: labelsFor(tag), events, status }));
      await removeContainers([name], runLabel);
      log(`  single ${i + 1}/${singles}: live ${fmt(runs.at(-1).liveMs)} ms, floor ${fmt(runs.at(-1).floorMs)} ms, gone ${fmt(runs.at(-1).goneMs)} ms`);
    }
    const burstResult = burst > 0 ? await burstRun({ count: burst, runId, hostFor, labelsFor, events, status, names }) : null;
    if (burstResult) log(`  burst of ${burst}: all live ${fmt(burstResult.allLiveAfterLastStartMs)} ms after the last start`);
    addPublishTimes(runs, burstResult, logPath);
    return summarise(runs, burstResult);
  } finally {
    events.close();
    await pool.close();
    await removeContainers(names, runLabel);
  }
}

async function singleRun({ name, host, labels, events, status }) {
  const t0 = epochMs();
  const run = dockerRun(name, labels, IMAGE);
  const seen = {};
  const live = pollUntil(() => status(host), (s) => s === 200, seen, POLL_MS);
  const floor = (async () => {
    const started = await events.waitFor(name, 'start');
    const address = await bridgeAddress(started.id);
    const answered = await pollUntil(() => directStatus(address), (s) => s === 200, {}, POLL_MS);
    return { started, answered };
  })();
  const [, liveAt, { started, answered }] = await Promise.all([run, live, floor]);

  const t1 = epochMs();
  const stop = dockerStop([name]);
  const during = {};
  const goneAt = await pollUntil(() => status(host), (s) => s === 503 || s === 404, during, POLL_MS);
  await stop;
  const died = await events.waitFor(name, 'die').catch(() => null);
  return {
    containerId: started.id,
    startEventMs: started.timeMs,
    dieEventMs: died?.timeMs ?? null,
    liveAt,
    goneAt,
    liveMs: liveAt - t0,
    floorMs: answered - t0,
    overheadMs: liveAt - answered,
    runToStartEventMs: started.timeMs - t0,
    startEventToLiveMs: liveAt - started.timeMs,
    beforeLiveStatuses: seen,
    goneMs: goneAt - t1,
    dieEventToGoneMs: died === null ? null : goneAt - died.timeMs,
    removalStatuses: during,
  };
}

async function burstRun({ count, runId, hostFor, labelsFor, events, status, names }) {
  const tags = Array.from({ length: count }, (_, i) => `b${i}`);
  const burstNames = tags.map((tag) => `ghbench-${runId}-${tag}`);
  names.push(...burstNames);
  const t0 = epochMs();
  const runs = Promise.all(tags.map((tag, i) => dockerRun(burstNames[i], labelsFor(tag), IMAGE)));
  const liveAt = new Map();
  const deadline = t0 + 60_000;
  while (liveAt.size < count && epochMs() < deadline) {
    const pending = tags.filter((tag) => !liveAt.has(tag));
    await Promise.all(
      pending.map(async (tag) => {
        const s = await status(hostFor(tag)).catch(() => 0);
        if (s === 200) liveAt.set(tag, epochMs());
      }),
    );
    if (liveAt.size < count) await sleep(BURST_POLL_MS);
  }
  await runs;
  const starts = await Promise.all(burstNames.map((name) => events.waitFor(name, 'start')));
  const lastStart = max(starts.map((s) => s.timeMs));
  const allLive = max([...liveAt.values()]);
  const perContainer = tags.map((tag, i) => (liveAt.has(tag) ? liveAt.get(tag) - starts[i].timeMs : null));
  const containerIds = starts.map((s) => s.id);

  const t1 = epochMs();
  await removeContainers(burstNames, `gatehouse-bench=${runId}`);
  const removedAt = epochMs();
  let allGone = null;
  while (epochMs() < removedAt + 30_000) {
    const statuses = await Promise.all(tags.map((tag) => status(hostFor(tag)).catch(() => 0)));
    if (statuses.every((s) => s === 404 || s === 503)) {
      allGone = epochMs();
      break;
    }
    await sleep(BURST_POLL_MS);
  }
  return {
    count,
    live: liveAt.size,
    runToLastStartMs: lastStart - t0,
    allLiveAfterLastStartMs: liveAt.size === count ? allLive - lastStart : null,
    runToAllLiveMs: liveAt.size === count ? allLive - t0 : null,
    startToLive: distribution(perContainer),
    removeToAllGoneMs: allGone === null ? null : allGone - t1,
    pollIntervalMs: BURST_POLL_MS,
    containerIds,
    startEventsMs: starts.map((s) => s.timeMs),
  };
}

/**
 * Starts `probe` every `intervalMs` without waiting for earlier ones, so one request stuck on a
 * vanished container cannot hide the moment new requests are answered differently. Counts
 * every result in `seen`; resolves with the epoch ms when the first result satisfying `done`
 * arrived.
 */
function pollUntil(probe, done, seen, intervalMs, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    let finished = false;
    let inFlight = 0;
    const finish = (outcome) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      clearTimeout(deadline);
      outcome();
    };
    const launch = () => {
      if (inFlight >= MAX_PROBES_IN_FLIGHT) return;
      inFlight++;
      probe()
        .catch((error) => error.code ?? 'error')
        .then((result) => {
          inFlight--;
          if (finished) return;
          seen[result] = (seen[result] ?? 0) + 1;
          if (done(result)) {
            const at = epochMs();
            finish(() => resolve(at));
          }
        });
    };
    const timer = setInterval(launch, intervalMs);
    const deadline = setTimeout(() => finish(() => reject(new Error(`gave up after ${timeoutMs} ms (seen: ${JSON.stringify(seen)})`))), timeoutMs);
    launch();
  });
}

/** busybox httpd closes every connection, so each probe is a fresh one. */
function directStatus(address) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: address, port: 80, path: '/', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/**
 * Gatehouse logs "routes updated" with the routes added and removed; route ids contain the
 * container id. This splits start → live into the engine + Gatehouse's discovery part (start
 * event → table published) and the rest (published → first 200 seen).
 */
function addPublishTimes(runs, burst, logPath) {
  const published = new Map();
  const withdrawn = new Map();
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"routes updated"')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const at = Date.parse(entry.time);
    for (const id of entry.added ?? []) for (const hex of String(id).match(/[0-9a-f]{64}/g) ?? []) if (!published.has(hex)) published.set(hex, at);
    for (const id of entry.removed ?? []) for (const hex of String(id).match(/[0-9a-f]{64}/g) ?? []) if (!withdrawn.has(hex)) withdrawn.set(hex, at);
  }
  for (const run of runs) {
    const up = published.get(run.containerId);
    const down = withdrawn.get(run.containerId);
    run.startEventToPublishedMs = up === undefined ? null : up - run.startEventMs;
    run.publishedToLiveMs = up === undefined ? null : run.liveAt - up;
    run.dieEventToWithdrawnMs = down === undefined || run.dieEventMs === null ? null : down - run.dieEventMs;
  }
  if (burst) {
    const delays = burst.containerIds.map((id, i) => (published.has(id) ? published.get(id) - burst.startEventsMs[i] : null));
    burst.startEventToPublished = distribution(delays);
  }
}

function summarise(runs, burst) {
  const pick = (key) => runs.map((run) => run[key]);
  return {
    singles: runs.length,
    liveMs: distribution(pick('liveMs')),
    floorMs: distribution(pick('floorMs')),
    overheadMs: distribution(pick('overheadMs')),
    startEventToPublishedMs: distribution(pick('startEventToPublishedMs')),
    publishedToLiveMs: distribution(pick('publishedToLiveMs')),
    dieEventToWithdrawnMs: distribution(pick('dieEventToWithdrawnMs')),
    runToStartEventMs: distribution(pick('runToStartEventMs')),
    startEventToLiveMs: distribution(pick('startEventToLiveMs')),
    goneMs: distribution(pick('goneMs')),
    dieEventToGoneMs: distribution(pick('dieEventToGoneMs')),
    removalStatuses: mergeCounts(pick('removalStatuses')),
    runs,
    burst,
    pollIntervalMs: POLL_MS,
  };
}

function mergeCounts(list) {
  const total = {};
  for (const counts of list) for (const [key, n] of Object.entries(counts)) total[key] = (total[key] ?? 0) + n;
  return total;
}

function fmt(value) {
  return value === null || value === undefined ? '–' : Math.round(value);
}
