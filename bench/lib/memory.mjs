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

export async function baselineRss(registry, { root, cpu, settleMs }) {
  const bare = registry.start('bare node', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cpu, cwd: root });
  const imports = DEPENDENCIES.map((name) => `import(${JSON.stringify(name)})`).join(', ');
  const deps = registry.start(
    'node with dependencies',
    process.execPath,
    ['--input-type=module', '-e', `await Promise.all([${imports}]); setInterval(() => {}, 1000);`],
    { cpu, cwd: root, env: { ...process.env, NODE_ENV: 'production' } },
  );
  try {
    const rss = await idleRss({ bareNode: bare.pid, dependencies: deps.pid }, settleMs);
    return { ...rss, dependencyList: DEPENDENCIES };
  } finally {
    await registry.stop(bare.pid);
    await registry.stop(deps.pid);
  }
}
