import { setTimeout as sleep } from 'node:timers/promises';
import { residentBytes } from './processes.mjs';

/**
 * Idle memory: the RSS of a process once it has settled, and two floors to read Gatehouse's
 * figure against: a bare Node process, and Node with Gatehouse's runtime dependencies imported
 * but none of its own code.
 */

const DEPENDENCIES = ['fastify', '@fastify/reply-from', 'undici', 'pino', 'zod', 'dockerode', 'openid-client', 'jose', 'yaml', 'chokidar', 'prom-client', 'ws'];

export async function idleRss(pids, settleMs) {
  await sleep(settleMs);
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, residentBytes(pid)]));
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
  const options = { cpu, cwd: root, env: { ...process.env, NODE_ENV: 'production' } };
  const started = {
    bareNode: registry.start('bare node', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], options),
    dependencies: registry.start('node with dependencies', process.execPath, importing(DEPENDENCIES), options),
  };
  const small = ['--max-semi-space-size=1'];
  started.smallBare = registry.start('bare node, small young generation', process.execPath, [...small, '-e', 'setInterval(() => {}, 1000)'], options);
  for (const name of DEPENDENCIES) started[`dep:${name}`] = registry.start(`node with ${name}`, process.execPath, [...small, ...importing([name])], options);
  try {
    const rss = await idleRss(Object.fromEntries(Object.entries(started).map(([key, proc]) => [key, proc.pid])), settleMs);
    const perDependency = Object.fromEntries(
      DEPENDENCIES.map((name) => [name, rss[`dep:${name}`] === null || rss.smallBare === null ? null : rss[`dep:${name}`] - rss.smallBare]).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)),
    );
    return { bareNode: rss.bareNode, dependencies: rss.dependencies, perDependency };
  } finally {
    await Promise.all(Object.values(started).map((proc) => registry.stop(proc.pid)));
  }
}
