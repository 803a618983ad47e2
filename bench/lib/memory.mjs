import { setTimeout as sleep } from 'node:timers/promises';
import { imageNodeOptions, withNodeOptions } from './node-options.mjs';
import { residentBreakdown } from './processes.mjs';

/**
 * Idle memory: the RSS of a process once it has settled (and its RssAnon and RssFile), and two
 * floors to read Gatehouse's figure against: a bare Node process, and Node with Gatehouse's
 * runtime dependencies imported but none of its own code. The floors run with the image's
 * NODE_OPTIONS, like Gatehouse.
 */

// The runtime dependencies (package.json); the Docker client is Gatehouse's own, over node:http.
const DEPENDENCIES = ['fastify', 'undici', 'pino', 'zod', 'openid-client', 'jose', 'yaml', 'chokidar', 'ws'];

/** name → RSS bytes, plus `rssAnon` and `rssFile`: name → bytes. Null for a process that is gone. */
export async function idleRss(pids, settleMs) {
  await sleep(settleMs);
  const readings = Object.entries(pids).map(([name, pid]) => [name, residentBreakdown(pid)]);
  const pick = (key) => Object.fromEntries(readings.map(([name, reading]) => [name, reading?.[key] ?? null]));
  return { ...pick('rss'), rssAnon: pick('anon'), rssFile: pick('file') };
}

/** Several idleRss results as one, their `rssAnon` and `rssFile` merged too. */
export function mergeIdle(...parts) {
  const merged = Object.assign({}, ...parts);
  for (const key of ['rssAnon', 'rssFile']) merged[key] = Object.assign({}, ...parts.map((part) => part[key]));
  return merged;
}

/**
 * Also each dependency imported on its own, as RSS above a bare process, both with a 1 MB young
 * generation so the figure is what the module keeps rather than what V8 grew while parsing it.
 */
export async function baselineRss(registry, { root, cpu, settleMs }) {
  const importing = (names) => [
    '--input-type=module',
    '-e',
    `await Promise.all([${names.map((name) => `import(${JSON.stringify(name)})`).join(', ')}]); setInterval(() => {}, 1000);`,
  ];
  const env = { ...process.env, NODE_ENV: 'production' };
  const options = { cpu, cwd: root, env: withNodeOptions(env, imageNodeOptions(root)) };
  const started = {
    bareNode: registry.start('bare node', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], options),
    dependencies: registry.start('node with dependencies', process.execPath, importing(DEPENDENCIES), options),
  };
  const small = ['--max-semi-space-size=1'];
  const smallOptions = { ...options, env: withNodeOptions(env, null) };
  started.smallBare = registry.start('bare node, small young generation', process.execPath, [...small, '-e', 'setInterval(() => {}, 1000)'], smallOptions);
  for (const name of DEPENDENCIES) started[`dep:${name}`] = registry.start(`node with ${name}`, process.execPath, [...small, ...importing([name])], smallOptions);
  try {
    const idle = await idleRss(Object.fromEntries(Object.entries(started).map(([key, proc]) => [key, proc.pid])), settleMs);
    const perDependency = Object.fromEntries(
      DEPENDENCIES.map((name) => [name, idle[`dep:${name}`] === null || idle.smallBare === null ? null : idle[`dep:${name}`] - idle.smallBare]).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)),
    );
    const floors = ['bareNode', 'dependencies'];
    const only = (map) => Object.fromEntries(floors.map((name) => [name, map[name]]));
    return { bareNode: idle.bareNode, dependencies: idle.dependencies, perDependency, rssAnon: only(idle.rssAnon), rssFile: only(idle.rssFile) };
  } finally {
    await Promise.all(Object.values(started).map((proc) => registry.stop(proc.pid)));
  }
}
