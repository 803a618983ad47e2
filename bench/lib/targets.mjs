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
      measured: value === null ? null : `${value.toFixed(2)}×`,
      pass: value === null ? null : value >= goal,
      miss: value === null || value >= goal ? null : `${((1 - value / goal) * 100).toFixed(0)}% short`,
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
      miss: value === null || value <= goal ? null : `over by ${show(value - goal)} (${((value / goal - 1) * 100).toFixed(0)}%)`,
      reason: value === null ? why : null,
      hint,
    });
  };

  const profileHint = (name) => {
    const profile = results.profiles?.[name];
    if (!profile?.summary) return null;
    const areas = profile.summary.areas.slice(0, 5).map((a) => `${a.area} ${a.percent.toFixed(0)}%`).join(', ');
    const top = profile.summary.functions.slice(0, 3).map((f) => `${f.name} (${f.where}) ${f.percent.toFixed(0)}%`).join('; ');
    return `CPU profile of the ${name} path: ${areas}. Hottest functions: ${top}.`;
  };

  atLeast('public-vs-caddy', 'Public route vs Caddy (req/s)', ratio(rps('gh-public-1'), rps('caddy')), 1.0, missing('caddy'), profileHint('public'));
  atLeast('auth-vs-public', 'Authenticated vs Gatehouse public (req/s)', ratio(rps('gh-auth'), rps('gh-public-1')), 0.85, missing('auth'), profileHint('auth'));
  atLeast('auth-vs-caddy', 'Authenticated vs Caddy (req/s)', ratio(rps('gh-auth'), rps('caddy')), 1.0, rps('gh-auth') === null ? missing('auth') : missing('caddy'), profileHint('auth'));

  for (const [key, label] of [
    ['public', 'public'],
    ['auth', 'authenticated'],
  ]) {
    const run = results.fixedRate?.[key];
    const floor = run?.floor?.latencyMs?.p99;
    atMost(
      `p99-half-${key}`,
      `p99 at 50% of own max load, ${label}`,
      run?.result?.latencyMs?.p99 ?? null,
      3,
      'ms',
      run?.error ?? missing(key === 'auth' ? 'auth' : 'public'),
      floor === undefined || floor === null ? null : `The generator alone (direct to the upstream at the same rate) measured p99 ${floor.toFixed(2)} ms on this machine.`,
    );
  }

  const live = results.labelToLive;
  const liveGoal = live?.floorMs?.p50 === undefined || live?.floorMs?.p50 === null ? null : live.floorMs.p50 + 100;
  targets.push({
    id: 'label-to-live',
    name: 'docker run → first 200 through Gatehouse, p95',
    target: liveGoal === null ? '≤ Docker floor + 100 ms' : `≤ ${liveGoal.toFixed(0)} ms (floor p50 ${live.floorMs.p50.toFixed(0)} + 100)`,
    measured: live?.liveMs?.p95 == null ? null : `${live.liveMs.p95.toFixed(0)} ms`,
    pass: live?.liveMs?.p95 == null || liveGoal === null ? null : live.liveMs.p95 <= liveGoal,
    miss: live?.liveMs?.p95 == null || liveGoal === null || live.liveMs.p95 <= liveGoal ? null : `over by ${(live.liveMs.p95 - liveGoal).toFixed(0)} ms`,
    reason: live?.error ?? (live ? null : 'label-to-live was not measured'),
    hint:
      live?.startEventToLiveMs?.p50 == null
        ? null
        : `From the engine's start event to the first 200 took ${live.startEventToLiveMs.p50.toFixed(0)} ms (p50); Gatehouse waits GATEHOUSE_DOCKER_DEBOUNCE (100 ms by default) after an event before it lists containers.`,
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
    'Route table rebuild, 1,000 containers (p50)',
    rebuild?.totalMs.p50 ?? null,
    5,
    'ms',
    results.rebuild?.error ?? 'not measured',
    rebuild ? `${profileHint('rebuild') ?? ''} Translate ${rebuild.translateMs.p50.toFixed(1)} ms + build ${rebuild.buildMs.p50.toFixed(1)} ms (p50).`.trim() : null,
  );

  const idle = results.idle ?? {};
  const floorHint =
    idle.bareNode == null
      ? null
      : `On this machine a bare Node process idles at ${(idle.bareNode / MB).toFixed(0)} MB, and Node with only Gatehouse's dependencies imported at ${(idle.dependencies / MB).toFixed(0)} MB.`;
  atMost('idle-rss', 'Idle RSS, 1 route', idle.public1 == null ? null : idle.public1 / MB, 50, 'MB', 'not measured', floorHint);
  atMost('idle-rss-1000', 'Idle RSS, 1,000 routes', idle.public1000 == null ? null : idle.public1000 / MB, 80, 'MB', 'not measured', floorHint);
  const gatehousePeaks = Object.values(results.throughput)
    .filter((t) => t.scenario.group.startsWith('gatehouse'))
    .map((t) => t.summary.peakRssBytes)
    .filter((v) => v !== null);
  const soakPeak = results.soak?.peakRssBytes ?? null;
  const peak = Math.max(...gatehousePeaks, soakPeak ?? 0);
  atMost('peak-rss', 'Peak RSS under load', peak > 0 ? peak / MB : null, 130, 'MB', 'not measured', null);
  atMost('soak', `RSS growth over the ${results.soak?.seconds ?? '–'} s soak`, results.soak?.growthPercent ?? null, 5, '%', results.soak?.error ?? 'not measured', null);
  return targets;
}
