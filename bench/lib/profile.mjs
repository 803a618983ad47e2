import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A flat summary of a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per
 * area (a package under node_modules, a Gatehouse module under dist/, Node core, GC), and the
 * same time charged to the library or Gatehouse module that asked for it, counted only inside a
 * time window when one is given. V8 and libuv both read CLOCK_MONOTONIC, so a
 * window taken with process.hrtime in another process lines up with the profile's timestamps.
 */

export function readProfile(dir) {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile was written in ${dir}`);
  return { path: join(dir, file), profile: JSON.parse(readFileSync(join(dir, file), 'utf8')) };
}

/** `windowUs`: [startUs, endUs] on the monotonic clock (process.hrtime.bigint() / 1000n). */
export function summariseProfile(profile, { windowUs = null, top = 15 } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const attributed = new Map();
  const byFunction = new Map();
  const byArea = new Map();
  let time = profile.startTime;
  let total = 0;
  let idle = 0;
  const inWindow = windowUs !== null && windowUs[0] >= profile.startTime && windowUs[1] <= profile.endTime + 1_000_000;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    if (inWindow && (time < windowUs[0] || time > windowUs[1])) continue;
    const frame = nodes.get(profile.samples[i]).callFrame;
    if (frame.functionName === '(idle)') {
      idle += delta;
      continue;
    }
    total += delta;
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + delta);
    byFunction.set(frameKey(frame), (byFunction.get(frameKey(frame)) ?? 0) + delta);
    // Node core and native work (socket writes, stream plumbing) is charged to the nearest
    // library or Gatehouse frame below it on the stack: who asked for that work.
    let owner = area;
    for (let id = profile.samples[i]; id !== undefined && !isOwner(owner); id = parents.get(id)) owner = areaOf(nodes.get(id).callFrame);
    if (!isOwner(owner)) owner = area === 'GC' || area.startsWith('V8') ? area : 'Node itself (HTTP server, sockets; no library on the stack)';
    attributed.set(owner, (attributed.get(owner) ?? 0) + delta);
  }
  const share = (value) => (total === 0 ? 0 : (value / total) * 100);
  return {
    windowApplied: inWindow,
    busyMs: total / 1000,
    idleMs: idle / 1000,
    areas: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, percent: share(us) })),
    attributed: [...attributed].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, percent: share(us) })),
    functions: ranked(byFunction, top, share),
  };
}

function isOwner(area) {
  return area.startsWith('gatehouse') || !(area === 'Node core' || area.startsWith('native') || area.startsWith('V8') || area === 'other');
}

function frameKey(frame) {
  return `${frame.functionName || '(anonymous)'}\t${shortUrl(frame.url)}${frame.lineNumber >= 0 ? `:${frame.lineNumber + 1}` : ''}\t${areaOf(frame)}`;
}

function ranked(times, top, share) {
  return [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [name, where, area] = key.split('\t');
      return { name, where, area, percent: share(us) };
    });
}

function shortUrl(url) {
  if (!url) return '';
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

function areaOf(frame) {
  const { functionName, url } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.startsWith('node:')) return 'Node core';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `gatehouse ${dist[1]}/`;
  if (/\/dist\/[^/]+\.js$/.test(url)) return 'gatehouse';
  return url === '' ? 'native (bindings, builtins)' : 'other';
}
