import { ratio } from './stats.mjs';

/**
 * The targets of the benchmark issue, each checked against figures from the same run. A
 * target whose figure could not be measured is `pass: null` with the reason. A miss says by
 * how much; `hint` points at what the measurement itself shows about the cause.
 */

const MB = 2 ** 20;

export function evaluateTargets(results) {
  const rps = (id) => results.throughput[id]?.summary.rps.median ?? null;
  const missing = (what) => results.unavailable[what] ?? `${what} was not measured in this run`;
  const targets = [];

  const atLeast = (id, name, value, goal, why, hint) => {
    targets.push({
      id,
      name,
      target: `≥ ${goal.toFixed(2)}×`,
      measured: value === null ? null : `${value.toFixed(3)}×`,
      pass: value === null ? null : value >= goal,
      miss: value === null || value >= goal ? null : `${((1 - value / goal) * 100).toFixed(1)}% short`,
      reason: value === null ? why : null,
      hint,
    });
  };
  const atMost = (id, name, value, goal, unit, why, hint) => {
    const show = (v) => `${v.toFixed(unit === '%' || unit === 'ms' ? 1 : 0)} ${unit}`;
    targets.push({
      id,
      name,
      target: `≤ ${show(goal)}`,
      measured: value === null ? null : show(value),
      pass: value === null ? null : value <= goal,
      miss: value === null || value <= goal ? null : `over by ${show(value - goal)}, +${((value / goal - 1) * 100).toFixed(0)}%`,
      reason: value === null ? why : null,
      hint,
    });
  };

  const profileHint = (name) => {
    const profile = results.profiles?.[name];
    if (!profile?.summary) return null;
    const areas = profile.summary.areas.slice(0, 5).map((a) => `${a.area} ${a.percent.toFixed(0)}%`).join(', ');
    const top = profile.summary.functions.slice(0, 3).map((f) => `${f.name}${f.where ? ` (${f.where})` : ''} ${f.percent.toFixed(0)}%`).join('; ');
    const owners = profile.summary.attributed?.slice(0, 5).map((a) => `${a.area} ${a.percent.toFixed(0)}%`).join(', ');
    return `CPU profile of the ${name} path, self time: ${areas}; charged to the caller: ${owners}. Hottest functions: ${top}.`;
  };

  // Shipped defaults: the access log on (read through a pipe), the image's NODE_OPTIONS.
  atLeast('public-vs-caddy', 'Public route vs Caddy, access log on (req/s)', ratio(rps('gh-public-log'), rps('caddy')), 1.1, missing('caddy'), profileHint('public'));
  atLeast('auth-vs-public', 'Authenticated vs Gatehouse public, both logging (req/s)', ratio(rps('gh-auth'), rps('gh-public-log')), 0.85, missing('auth'), profileHint('auth'));
  atLeast('auth-vs-caddy', 'Authenticated vs Caddy, access log on (req/s)', ratio(rps('gh-auth'), rps('caddy')), 1.0, rps('gh-auth') === null ? missing('auth') : missing('caddy'), profileHint('auth'));

  for (const [key, label] of [
    ['public', 'public'],
    ['auth', 'authenticated'],
  ]) {
    const run = results.fixedRate?.[key];
    const floor = run?.floor?.latencyMs?.p99;
    // The goal is Caddy's own p99 at the same rate on the same core: the tail this rig allows.
    const caddyP99 = run?.caddy?.latencyMs?.p99 ?? null;
    const p99 = run?.result?.latencyMs?.p99 ?? null;
    targets.push({
      id: `p99-half-${key}`,
      name: `p99 at 50% of own max load vs Caddy at that rate, ${label}`,
      target: caddyP99 === null ? '≤ Caddy' : `≤ Caddy (${caddyP99.toFixed(1)} ms)`,
      measured: p99 === null ? null : `${p99.toFixed(1)} ms`,
      pass: p99 === null || caddyP99 === null ? null : p99 <= caddyP99,
      miss: p99 === null || caddyP99 === null || p99 <= caddyP99 ? null : `over by ${(p99 - caddyP99).toFixed(1)} ms, ${(p99 / caddyP99).toFixed(2)}× Caddy's`,
      reason: p99 === null ? (run?.error ?? missing(key === 'auth' ? 'auth' : 'public')) : caddyP99 === null ? missing('caddy') : null,
      hint: floor === undefined || floor === null ? null : `The generator alone (direct to the upstream at the same rate) measured p99 ${floor.toFixed(2)} ms on this machine.`,
    });
  }

  // Paired per container: the same `docker run` timed to the first 200 through Gatehouse and to
  // the container answering directly, so Docker's own (noisy) start time cancels out.
  const live = results.labelToLive;
  const overhead = live?.overheadMs?.p95 ?? null;
  targets.push({
    id: 'label-to-live',
    name: 'Label to live: p95 over the Docker floor',
    target: '≤ floor + 100 ms',
    measured: overhead === null ? null : `floor + ${overhead.toFixed(0)} ms (${live.liveMs.p95.toFixed(0)} ms in all)`,
    pass: overhead === null ? null : overhead <= 100,
    miss: overhead === null || overhead <= 100 ? null : `over by ${(overhead - 100).toFixed(0)} ms`,
    reason: overhead !== null ? null : (live?.error ?? (live ? 'no paired measurement' : 'label-to-live was not measured')),
    hint:
      live?.startEventToPublishedMs?.p50 == null
        ? null
        : `From the engine's start event, Gatehouse published the route after ${live.startEventToPublishedMs.p50.toFixed(0)} ms (p50; p95 ${live.startEventToPublishedMs.p95.toFixed(0)} ms) and the first 200 came ${live.publishedToLiveMs.p50.toFixed(0)} ms after publishing (p50). ` +
          'Of that, 100 ms is the Docker watcher waiting GATEHOUSE_DOCKER_DEBOUNCE (default 100 ms) after the first event of a quiet period before it lists containers; listing at once on the first event and coalescing only what follows would remove it.',
  });
  const burst = live?.burst;
  atMost(
    'burst',
    `Burst of ${burst?.count ?? 50}: all live after the last start`,
    burst?.allLiveAfterLastStartMs ?? null,
    1000,
    'ms',
    live?.error ?? (burst ? `${burst.live} of ${burst.count} containers became live` : 'the burst was not measured'),
    burst && burst.count < 50 ? `Quick mode starts ${burst.count} containers, not 50.` : null,
  );

  const rebuild = results.rebuild?.results?.find((r) => r.size === 1000);
  atMost(
    'rebuild',
    'Route table rebuild after a container change, 1,000 containers (p95)',
    rebuild?.changeOneMs?.p95 ?? null,
    5,
    'ms',
    results.rebuild?.error ?? 'not measured',
    rebuild ? `The cold build of all 1,000 (once, at start) takes ${rebuild.totalMs.p50.toFixed(1)} ms (p50): translate ${rebuild.translateMs.p50.toFixed(1)} ms + build ${rebuild.buildMs.p50.toFixed(1)} ms. ${profileHint('rebuild') ?? ''}`.trim() : null,
  );

  // Issue 16: the table keeps up with a cluster's size.
  const large = results.rebuild?.results?.find((r) => r.size === 10000);
  const largeMissing = results.rebuild?.error ?? (results.rebuild ? 'quick mode stops at 1,000 containers' : 'not measured');
  const largeNote = large
    ? `Thread CPU time per step, which other processes on the machine do not inflate: one container changed ${large.changeOneCpuMeanMs?.toFixed(2) ?? '–'} ms, cold build ${large.coldCpuMeanMs?.toFixed(1) ?? '–'} ms. ${profileHint('rebuild') ?? ''}`.trim()
    : null;
  atMost('rebuild10k', 'Route table rebuild after a container change, 10,000 containers (p95)', large?.changeOneMs?.p95 ?? null, 5, 'ms', largeMissing, largeNote);
  atMost('cold10k', 'Route table cold build, 10,000 containers (p50, translate + build)', large?.totalMs?.p50 ?? null, 50, 'ms', largeMissing, largeNote);
  atMost('heap10k', 'Route table heap, 10,000 containers', large?.tableHeapMB ?? null, 15, 'MB', largeMissing, large ? `The control loop's builder (memo, claims, host index) and the live table together: ${large.builderHeapMB?.toFixed(1) ?? '–'} MB.` : null);

  const idle = results.idle ?? {};
  const floorHint =
    idle.bareNode == null
      ? null
      : `On this machine a bare Node process idles at ${(idle.bareNode / MB).toFixed(0)} MB, and Node with only Gatehouse's dependencies imported at ${(idle.dependencies / MB).toFixed(0)} MB. ` +
        `Largest dependencies (RSS above bare Node, each imported alone with a 1 MB young generation): ${Object.entries(idle.perDependency ?? {})
          .slice(0, 4)
          .map(([name, bytes]) => `${name} ${(bytes / MB).toFixed(0)} MB`)
          .join(', ')}.`;
  const mbOrNull = (bytes) => (bytes == null ? null : bytes / MB);
  atMost('idle-rss', 'Idle RSS, 1 route', mbOrNull(idle.public1), 70, 'MB', 'not measured', floorHint);
  atMost('idle-private', 'Idle private memory (RssAnon), 1 route', mbOrNull(idle.rssAnon?.public1), 35, 'MB', 'not measured', floorHint);
  atMost('idle-rss-1000', 'Idle RSS, 1,000 routes', mbOrNull(idle.public1000), 80, 'MB', 'not measured', floorHint);
  const peakOf = (id) => mbOrNull(results.throughput[id]?.summary.peakRssBytes);
  atMost('peak-rss-auth', 'Peak RSS under the signed-in load', peakOf('gh-auth'), 120, 'MB', missing('auth'), null);
  atMost('peak-rss-redirect', 'Peak RSS under a flood of sign-in redirects', peakOf('gh-redirect'), 150, 'MB', missing('redirect'), 'The redirect rows run on the signed-in instance after its authenticated runs, so this peak includes theirs.');
  const quick = results.quickStart;
  atMost('socket-proxy-rss', 'Socket proxy memory (docker stats)', mbOrNull(quick?.containers?.['docker-socket']?.idleBytes), 30, 'MB', quick?.error ?? 'the quick start was not measured (bench/quick-start-memory.mjs)', null);
  atMost('quick-start-memory', 'Quick start, every container but the app, after a sign-in and 10,000 signed-in requests (docker stats)', mbOrNull(quick?.totalWithoutAppBytes), 130, 'MB', quick?.error ?? 'the quick start was not measured (bench/quick-start-memory.mjs)', quick ? `Per container after the load: ${Object.entries(quick.containers).map(([name, c]) => `${name} ${(c.afterLoadBytes / MB).toFixed(1)} MB`).join(', ')}.` : null);
  atMost('soak', `RSS growth over the ${results.soak?.seconds ?? '–'} s soak`, results.soak?.growthPercent ?? null, 5, '%', results.soak?.error ?? 'not measured', null);
  const redis = results.swarm?.redis;
  targets.push({
    id: 'redis-per-request',
    name: 'Redis commands per signed-in request (examples/swarm/stack.yml, INFO commandstats)',
    target: '= 0',
    measured: redis ? `${redis.perRequest.toFixed(4)} (${redis.commands} over ${redis.requests} requests)` : null,
    pass: redis ? redis.commands === 0 : null,
    miss: redis && redis.commands !== 0 ? `${redis.commands} commands` : null,
    reason: redis ? null : (results.swarm?.error ?? 'the Swarm phase did not run (bench/swarm-mesh.mjs)'),
    hint: null,
  });
  for (const t of targets) if (t.pass === false) t.next = nextStep(t.id, results);
  return targets;
}

/**
 * The highest RSS of Gatehouse as shipped under load (matrix and soak), in bytes: the row
 * started without the image's NODE_OPTIONS is a comparison, not what users run.
 */
export function shippedPeakRssBytes(results) {
  const peaks = Object.values(results.throughput)
    .filter((t) => t.scenario.group.startsWith('gatehouse') && t.scenario.nodeOptions !== null)
    .map((t) => t.summary.peakRssBytes)
    .filter((v) => v !== null);
  return Math.max(...peaks, results.soak?.peakRssBytes ?? 0);
}

/** What to try next for a missed target, with this run's own figures where they help. */
function nextStep(id, results) {
  const areaShare = (profile, area) => results.profiles?.[profile]?.summary?.areas.find((a) => a.area === area)?.percent ?? null;
  const pct = (v) => (v === null ? '–' : `${v.toFixed(0)}%`);
  switch (id) {
    case 'public-vs-caddy':
    case 'auth-vs-caddy':
      return (
        `Gatehouse's own code is ${pct(ownShare(results, 'public'))} of the CPU on the public path (${pct(ownShare(results, 'auth'))} with sign-in); the rest is Node's HTTP server and sockets, undici and Fastify. ` +
        'Compare CPU µs per request with Caddy in the table: the gap is per-request work below Gatehouse, so the next step is fewer allocations and system calls per request (response headers written in one call, no per-request closures).'
      );
    case 'auth-vs-public':
      return `The sign-in check (gatehouse auth/) is ${pct(areaShare('auth', 'gatehouse auth/'))} of the CPU on the authenticated path; compare the two profiles below for what else differs (identity headers and the JWT header add bytes to every upstream request).`;
    case 'p99-half-public':
    case 'p99-half-auth':
      return `${tailReference(results, id === 'p99-half-auth' ? 'auth' : 'public')}Check the other-load column first: on a shared core every preemption lands in the tail. Then GC: old-generation mark-compact pauses of several ms are the usual cause, and each request's garbage (about 20 KB, most of it in Node's HTTP server, undici and Fastify) sets how often they come. ${tailWithoutNodeOptions(results)} The young-generation cap sets how much of that garbage is promoted: \`HEAP_PEAKS=1 node bench/v8-settings.mjs 30\` gives p99 beside Caddy, req/s, peaks and the major-GC count for each cap in one run (\`--single-threaded-gc\` and \`--minor-ms\` were measured and cost 8 MB idle).`;
    case 'label-to-live':
      return 'List containers at once on the first event after a quiet period and debounce only the events that follow (Traefik throttles this way), so a lone `docker run` does not wait GATEHOUSE_DOCKER_DEBOUNCE.';
    case 'rebuild':
      return 'Unchanged containers are not translated again and unchanged routes are reused with their serialised form, so the cost should follow what changed; if it does not, profile the rebuild below for work done per container rather than per change.';
    case 'idle-rss':
    case 'idle-rss-1000':
      return idleExplanation(results);
    case 'peak-rss-auth':
    case 'peak-rss-redirect':
      return (
        `${peakWithoutNodeOptions(results)} ` +
        "Measured (bench/README.md, \"V8 settings per role\"): at a peak, about 55 MB is file-backed (Node's executable, as idle), the V8 heap 32–60 MB (the young generation 16 MB once grown to the image's cap, the old generation 22–48 MB), malloc 10–15 MB. " +
        'A redirect keeps no server-side state (the nonce travels in a cookie), and the session and JWT caches are bounded, so the peak is garbage: the young-generation cap is the lever, and a smaller one (or `--optimize-for-size`, 112–119 MB) trades it for 3–5× as many old-generation collections, the p99 trade above. ' +
        '`HEAP_PEAKS=1 node bench/v8-settings.mjs 30` measures each setting\'s peaks, p99 and req/s in one run.'
      );
    case 'idle-private':
      return idleExplanation(results);
    case 'socket-proxy-rss':
      return 'The socket proxy is nginx with an allow list (socket-proxy/); check that the image in use is that one and not an older Node-based one.';
    case 'quick-start-memory':
      return 'Most of it is the Gatehouse container: see the idle and peak rows above for the process itself, and the CPU and memory profiles for where it goes.';
    case 'soak':
      return 'Take heap snapshots at the start and end of the soak and compare retained sizes by constructor.';
    default:
      return null;
  }
}

/** Share of the CPU spent in Gatehouse's own modules (every `gatehouse …/` area) in one profile. */
function ownShare(results, profile) {
  const areas = results.profiles?.[profile]?.summary?.areas;
  if (!areas) return null;
  return areas.filter((a) => a.area.startsWith('gatehouse ')).reduce((sum, a) => sum + a.percent, 0);
}

/** Where idle memory sits: Node's own floor, the dependencies, the file-backed part. */
function idleExplanation(results) {
  const idle = results.idle ?? {};
  const mb = (bytes) => (bytes == null ? '–' : `${(bytes / MB).toFixed(0)} MB`);
  const anon = idle.rssAnon?.public1;
  const file = idle.rssFile?.public1;
  const floor =
    idle.bareNode == null
      ? ''
      : `A bare Node process idles at ${mb(idle.bareNode)} here (${mb(idle.rssAnon?.bareNode)} private) and Node with Gatehouse's dependencies imported at ${mb(idle.dependencies)} (${mb(idle.rssAnon?.dependencies)} private), before any route exists. `;
  const split =
    anon == null || file == null
      ? ''
      : `Of the 1-route figure, ${mb(file)} is file-backed (pages of Node's own executable: the compilers and built-in modules that running any real program touches, shared with other Node processes and reclaimable) and ${mb(anon)} is private. `;
  return (
    `${floor}${split}Already done (bench/README.md, "Experiments"): sign-in code loads only when sign-in is configured; dockerode, prom-client, Fastify's schema compilers (Ajv) and undici's fetch/WebSocket layer are not loaded; ` +
    'the young generation is held at its initial size while Gatehouse starts, so idle instances no longer keep a grown one. ' +
    "What is left of the private part is the V8 heap of the code every configuration runs (zod's schemas, Fastify, undici's dispatcher, pino, yaml and chokidar for the routes file, Gatehouse itself: about 20 MB of old generation, half of it source text) and Node's own threads and buffers. " +
    "The RSS target would take less than Node's file-backed floor allows for a program of this size; the private target is within reach of V8 flags that Node refuses in NODE_OPTIONS (`--optimize-for-size`, measured in bench/v8-settings.mjs)."
  );
}

function imageOptionsText(results) {
  const flags = results.settings?.gatehouseNodeOptions;
  return `The image sets NODE_OPTIONS (${flags ? `\`${flags}\`` : 'empty'}) and every Gatehouse figure here is with them, except the "Node's default heap" row`;
}

/** Peak RSS of the 1-route instance with the image's NODE_OPTIONS and without them. */
function peakWithoutNodeOptions(results) {
  const shipped = results.throughput['gh-public-1']?.summary;
  const v8default = results.throughput['gh-public-v8default']?.summary;
  if (!shipped?.peakRssBytes || !v8default?.peakRssBytes) return `${imageOptionsText(results)}, which was not measured in this run.`;
  const saved = (v8default.peakRssBytes - shipped.peakRssBytes) / MB;
  return (
    `${imageOptionsText(results)}: the 1-route instance peaked at ${(shipped.peakRssBytes / MB).toFixed(0)} MB at ${Math.round(shipped.rps.median)} req/s, ` +
    `against ${(v8default.peakRssBytes / MB).toFixed(0)} MB at ${Math.round(v8default.rps.median)} req/s with Node's default heap (${Math.abs(saved).toFixed(0)} MB ${saved >= 0 ? 'less' : 'more'} with them).`
  );
}

/** The generator's own p99 and Caddy's p99 at the same rate, when measured: what any proxy gets in this rig. */
function tailReference(results, key) {
  const run = results.fixedRate?.[key];
  const floor = run?.floor?.latencyMs?.p99;
  const caddy = run?.caddy?.latencyMs?.p99;
  if (floor == null) return '';
  return `At the same rate the generator alone had p99 ${floor.toFixed(2)} ms${caddy == null ? '' : ` and Caddy on the same core ${caddy.toFixed(2)} ms`}. `;
}

/** p99 at 50% of each instance's own maximum, with the image's NODE_OPTIONS and without them. */
function tailWithoutNodeOptions(results) {
  const shipped = results.fixedRate?.public?.result?.latencyMs?.p99;
  const v8default = results.fixedRate?.publicV8Default?.result?.latencyMs?.p99;
  if (shipped == null || v8default == null) return `${imageOptionsText(results)}, whose latency at a fixed rate was not measured in this run.`;
  return `${imageOptionsText(results)}: at 50% of its own maximum the 1-route instance had p99 ${shipped.toFixed(2)} ms, and ${v8default.toFixed(2)} ms with Node's default heap.`;
}
