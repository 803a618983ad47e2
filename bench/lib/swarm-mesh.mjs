import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './processes.mjs';

/**
 * examples/swarm/stack.yml deployed with `docker stack deploy` on a single-node swarm (the
 * images built from this checkout, the demo user of examples/users.yml), then:
 * - signed-in requests (wrk, keep-alive) through the routing mesh to two replicas, to one, and to
 *   one replica on its own port; where the kernel has no IPVS, Swarm's mesh forwards nothing, and
 *   the layer-4 stand-in of the stack test (test/integration/swarm/mesh-stand-in.mjs) takes its
 *   place, which the rows then say;
 * - Redis commands per signed-in request: `INFO commandstats` in the stack's Redis before and after.
 */

const run = promisify(execFile);
const SECRETS = ['gatehouse-redis-url', 'gatehouse-secret'];
const REDIS_IMAGE = 'gatehouse-test-redis-server:local';
// Debian's nginx (keep-alive, as a real app behind Gatehouse keeps its connections), built by the
// shared debian-image tool as the tests build it (test/helpers/images.ts).
const APP_IMAGE = 'gh-nginx';

async function docker(args, env) {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 2 ** 20, env: { ...process.env, ...env } });
  return stdout.trim();
}

function dockerInput(input, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker ${args.join(' ')}: ${err}`))));
    child.stdin.end(input);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(probe, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1_000);
  }
}

async function buildSideImages(root, dir) {
  if (!(await docker(['image', 'inspect', REDIS_IMAGE]).then(() => true, () => false))) {
    writeFileSync(join(dir, 'Dockerfile.redis'), 'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*\nCMD ["redis-server"]\n');
    await docker(['build', '-q', '-t', REDIS_IMAGE, '-f', join(dir, 'Dockerfile.redis'), dir]);
  }
  if (!(await docker(['image', 'inspect', APP_IMAGE]).then(() => true, () => false))) {
    await run('bash', [join(root, '..', 'shared', 'tools', 'debian-image.sh'), APP_IMAGE, 'nginx-light', '--', 'nginx', '-g', 'daemon off;'], { maxBuffer: 16 * 2 ** 20 });
  }
}

/** The demo user's session cookie, signed in over HTTP through `port` (the test helper, run by Node's type stripping). */
async function signIn(root, url, connectPort) {
  const helper = pathToFileURL(join(root, 'test/helpers/http-sign-in.ts')).href;
  const script = `import { signInViaHttp, CookieJar } from '${helper}';
const jar = new CookieJar();
const result = await signInViaHttp(${JSON.stringify(url)}, 'demo', 'gatehouse-demo', jar, { headers: { connection: 'close' }, connectPort: ${connectPort} });
if (result.response.status !== 200) throw new Error('sign-in ended with HTTP ' + result.response.status);
console.log(jar.header(new URL(${JSON.stringify(url)})));`;
  const { stdout } = await run(process.execPath, ['--experimental-transform-types', '--no-warnings', '--input-type=module', '-e', script], { cwd: root });
  return stdout.trim();
}

async function wrk({ port, host, cookie, seconds, connections }) {
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, '-H', `Cookie: ${cookie}`, `http://127.0.0.1:${port}/`], { maxBuffer: 2 ** 20 });
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p99Ms = p99 === null ? null : Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(stdout)?.[1] ?? null;
  return { requests, rps, p99Ms, non2xx, socketErrors };
}

export async function measureSwarmMesh({ root, log = () => {}, seconds = 10, connections = 20, images }) {
  const ipvs = existsSync('/proc/net/ip_vs');
  const id = Math.random().toString(16).slice(2, 8);
  const stack = `ghbm${id}`;
  const standIn = `${stack}-mesh`;
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-swarm-'));
  let initialised = false;
  const result = { ipvs, through: ipvs ? 'the Swarm routing mesh' : 'a layer-4 stand-in on the apps network (this kernel has no IPVS: the routing mesh forwards nothing)', seconds, connections, rows: [] };
  try {
    await buildSideImages(root, dir);
    if ((await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])) !== 'active') {
      await docker(['swarm', 'init']).catch(() => docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']));
      initialised = true;
    }
    const password = Math.random().toString(16).slice(2) + Math.random().toString(16).slice(2);
    await dockerInput(`redis://:${password}@redis:6379/0`, ['secret', 'create', SECRETS[0], '-']);
    await dockerInput(Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))).toString('base64'), ['secret', 'create', SECRETS[1], '-']);
    const meshPort = await freePort();
    const standInPort = await freePort();
    const front = ipvs ? meshPort : standInPort;
    const host = `whoami.${stack}.gh.localhost:${front}`;
    await docker(['stack', 'deploy', '-c', join(root, 'examples/swarm/stack.yml'), stack], {
      GATEHOUSE_IMAGE: images.gatehouse,
      GATEHOUSE_SOCKET_PROXY_IMAGE: images.socketProxy,
      REDIS_IMAGE,
      WHOAMI_IMAGE: APP_IMAGE,
      GATEHOUSE_PORT: String(meshPort),
      GATEHOUSE_AUTH_URL: `http://auth.${stack}.gh.localhost:${front}`,
      WHOAMI_FROM: `http://${host}`,
    });
    await docker(['service', 'scale', '-d', `${stack}_gatehouse=2`]);
    // Right after a deploy the engine may not yet attach a container to the stack's network
    // ("network … not found"): the container it created is removed and the run tried again.
    await until(() => docker(['rm', '-f', standIn]).catch(() => undefined).then(() => docker(['run', '-d', '--name', standIn, '--network', `${stack}_apps`, '-p', `127.0.0.1:${standInPort}:8080`, '-p', '127.0.0.1::8081',
      '-v', `${join(root, 'test/integration/swarm/mesh-stand-in.mjs')}:/mesh-stand-in.mjs:ro`, '-e', `TARGET=tasks.${stack}_gatehouse`, '-e', 'PINNED=1',
      'node:24-bookworm-slim', 'node', '/mesh-stand-in.mjs'])).then(() => true), 'the stand-in on the stack network', 60_000);
    const pinned = Number((await docker(['port', standIn, '8081/tcp'])).split('\n')[0].split(':').pop());
    const healthy = async (count) => (await docker(['service', 'ps', `${stack}_gatehouse`, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}'])).split('\n').filter((line) => line.startsWith('Running')).length === count;
    await until(() => healthy(2), 'two healthy replicas', 300_000);
    let cookie = '';
    await until(async () => (cookie = await signIn(root, `http://${host}/`, front)) !== '', 'a sign-in through the stack', 120_000);
    const redisTask = (await docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_redis`])).split('\n')[0];
    // Calls per command (INFO commandstats), leaving out the probe's own AUTH and INFO.
    const calls = async () => {
      const text = await docker(['exec', redisTask, 'redis-cli', '--no-auth-warning', '-a', password, 'INFO', 'commandstats']);
      const counts = {};
      for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (name !== 'auth' && name !== 'info') counts[name] = Number(count);
      return counts;
    };

    log(`  two replicas through ${ipvs ? 'the mesh' : 'the stand-in'}`);
    const before = await calls();
    const two = await wrk({ port: front, host, cookie, seconds, connections });
    const after = await calls();
    const byCommand = Object.fromEntries(Object.entries(after).map(([name, count]) => [name, count - (before[name] ?? 0)]).filter(([, delta]) => delta > 0));
    const commands = Object.values(byCommand).reduce((sum, delta) => sum + delta, 0);
    result.redis = { commands, byCommand, requests: two.requests, perRequest: commands / Math.max(1, two.requests) };
    result.rows.push({ name: `two replicas, ${ipvs ? 'routing mesh' : 'layer-4 stand-in'}`, ...two });
    log(`  one replica, its own port`);
    result.rows.push({ name: 'one replica, its own port on the stand-in (no balancing)', ...(await wrk({ port: pinned, host, cookie, seconds, connections })) });
    await docker(['service', 'scale', '-d', `${stack}_gatehouse=1`]);
    await until(() => healthy(1), 'one replica', 120_000);
    await sleep(3_000);
    log(`  one replica through ${ipvs ? 'the mesh' : 'the stand-in'}`);
    result.rows.push({ name: `one replica, ${ipvs ? 'routing mesh' : 'layer-4 stand-in'}`, ...(await wrk({ port: front, host, cookie, seconds, connections })) });
    return result;
  } finally {
    await docker(['rm', '-f', standIn]).catch(() => undefined);
    await docker(['stack', 'rm', stack]).catch(() => undefined);
    await until(async () => (await docker(['network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])) === '', 'the stack networks to go', 90_000).catch(() => undefined);
    await until(() => docker(['volume', 'rm', `${stack}_redis-data`]).then(() => true), 'the Redis volume', 30_000).catch(() => undefined);
    for (const name of SECRETS) await docker(['secret', 'rm', name]).catch(() => undefined);
    if (initialised) await until(() => docker(['swarm', 'leave', '--force']).then(() => true), 'leaving the swarm', 60_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** BENCHMARKS.md lines for the "More than one machine" subsection. */
export function swarmMeshSection(swarm) {
  if (!swarm || swarm.error) return ['### More than one machine', '', `Not measured: ${swarm?.error ?? 'the phase did not run'}.`, ''];
  const out = ['### More than one machine', '', `examples/swarm/stack.yml on a single-node swarm, through ${swarm.through}; wrk -t1 -c${swarm.connections} -d${swarm.seconds}s with the demo user's session cookie (signed in over HTTP through the stack), the app Debian's nginx (its default page, keep-alive). Everything shares the machine's cores, the balancer included.`, ''];
  out.push('| path | req/s | p99 ms | non-2xx | socket errors |', '|---|---:|---:|---:|---|');
  for (const row of swarm.rows) out.push(`| ${row.name} | ${row.rps.toFixed(0)} | ${row.p99Ms?.toFixed(2) ?? '–'} | ${row.non2xx} | ${row.socketErrors ?? 'none'} |`);
  out.push('', `Redis commands per signed-in request: **${swarm.redis.perRequest.toFixed(4)}** (${swarm.redis.commands} commands over ${swarm.redis.requests} requests${swarm.redis.commands > 0 ? `: ${Object.entries(swarm.redis.byCommand).map(([name, n]) => `${name} ${n}`).join(', ')}` : ''}; \`INFO commandstats\` in the stack's Redis before and after, the probe's own AUTH and INFO left out; target 0).`, '');
  return out;
}
