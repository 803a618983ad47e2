import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageNodeOptions, withNodeOptions } from './node-options.mjs';
import { readProfile, summariseProfile } from './profile.mjs';
import { runCommand } from './processes.mjs';
import { startGatehouse } from './servers.mjs';
import { runWrk } from './wrk.mjs';

/**
 * Where the CPU goes: a separate Gatehouse instance under `node --cpu-prof` (with the image's
 * NODE_OPTIONS unless `nodeOptions` says otherwise), warmed up and loaded with wrk exactly like
 * the matrix, then stopped so the profile is written. Only samples from the measured window are
 * counted. Also the route-table rebuild under the profiler.
 */

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export async function profileGatehouse({ registry, root, dir, cpu, loadCpu, name, settings, nodeOptions, request, script, seconds, warmupSeconds }) {
  const profileDir = join(dir, `profile-${name}`);
  const instance = await startGatehouse(registry, {
    root,
    dir,
    cpu,
    name: `profile-${name}`,
    settings,
    nodeOptions,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=250'],
  });
  try {
    const wrkOptions = { script, url: `${instance.url}${request.path}`, headers: request.headers, cpu: loadCpu, expectStatus: request.expectStatus ?? 200 };
    await runWrk({ ...wrkOptions, seconds: warmupSeconds });
    const start = monotonicUs();
    const result = await runWrk({ ...wrkOptions, seconds });
    const end = monotonicUs();
    await registry.stop(instance.pid);
    const { path, profile } = readProfile(profileDir);
    return { rps: result.rps, problems: result.problems, file: path, summary: summariseProfile(profile, { windowUs: [start, end] }) };
  } finally {
    await registry.stop(instance.pid);
  }
}

export async function profileRebuild({ root, dir, cpu }) {
  const profileDir = join(dir, 'profile-rebuild');
  const script = fileURLToPath(new URL('./table-rebuild.mjs', import.meta.url));
  await runCommand(
    process.execPath,
    ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${profileDir}`, script, root, JSON.stringify({ sizes: [1000], iterations: 200, churn: 0 })],
    { cpu, env: withNodeOptions(process.env, imageNodeOptions(root)), timeoutMs: 300_000 },
  );
  const { path, profile } = readProfile(profileDir);
  return { file: path, summary: summariseProfile(profile) };
}
