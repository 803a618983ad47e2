import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { imageNodeOptions, withNodeOptions } from './node-options.mjs';
import { freePort, waitFor } from './processes.mjs';

/**
 * The processes under test and their configuration: the nginx upstream, nginx and Caddy as
 * reverse proxies, and Gatehouse instances fed by a static routes file. Every listener is on
 * 127.0.0.1; every process is pinned (upstream on the load-generator CPU, proxies on the other).
 */

export const BODY_13 = 'hello world!\n';
export const BODY_1K = `${'x'.repeat(1023)}\n`;

/** nginx `return 200`: `/` → 13 bytes, `/1k` → 1 KiB, `/bench-echo` → echoes the identity headers it received. */
export async function startUpstream(registry, dir, cpu) {
  const port = await freePort();
  const conf = nginxConf(dir, 'upstream', `
    server {
      listen 127.0.0.1:${port} backlog=4096;
      location = / { return 200 "${BODY_13.replace('\n', '\\n')}"; }
      location = /1k { return 200 "${BODY_1K.replace('\n', '\\n')}"; }
      location = /bench-echo {
        add_header X-Seen-User $http_x_iap_user always;
        add_header X-Seen-Email $http_x_iap_email always;
        add_header X-Seen-Groups $http_x_iap_groups always;
        add_header X-Seen-Jwt $http_x_iap_jwt_assertion always;
        add_header X-Seen-Cookie $http_cookie always;
        return 200 "echo\\n";
      }
    }`);
  const proc = registry.start('upstream (nginx)', 'nginx', ['-p', dir, '-e', join(dir, 'upstream-error.log'), '-c', conf], { cpu, stopSignal: 'SIGQUIT' });
  await waitHttp(`http://127.0.0.1:${port}/`, 200, 'the nginx upstream');
  return { ...proc, port, url: `http://127.0.0.1:${port}` };
}

export async function startNginxProxy(registry, dir, cpu, upstreamPort) {
  const port = await freePort();
  const conf = nginxConf(dir, 'proxy', `
    upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
    server {
      listen 127.0.0.1:${port} backlog=4096;
      location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
      }
    }`);
  const proc = registry.start('nginx reverse proxy', 'nginx', ['-p', dir, '-e', join(dir, 'proxy-error.log'), '-c', conf], { cpu, stopSignal: 'SIGQUIT' });
  await waitHttp(`http://127.0.0.1:${port}/`, 200, 'the nginx reverse proxy');
  return { ...proc, port, url: `http://127.0.0.1:${port}` };
}

function nginxConf(dir, name, body) {
  const temp = join(dir, `nginx-${name}-temp`);
  mkdirSync(temp, { recursive: true });
  const path = join(dir, `nginx-${name}.conf`);
  writeFileSync(
    path,
    `worker_processes 1;
daemon off;
pid ${join(dir, `nginx-${name}.pid`)};
error_log ${join(dir, `nginx-${name}-error.log`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path ${temp};
  proxy_temp_path ${temp};
${body}
}
`,
  );
  return path;
}

/** Caddy 2 `reverse_proxy` with one Go scheduler thread (GOMAXPROCS=1), no admin API, no TLS. */
export async function startCaddy(registry, dir, cpu, upstreamPort) {
  const port = await freePort();
  const home = join(dir, 'caddy-home');
  mkdirSync(home, { recursive: true });
  const path = join(dir, 'Caddyfile');
  writeFileSync(
    path,
    `{
	admin off
	auto_https off
	storage file_system ${join(home, 'data')}
}
http://:${port} {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:${upstreamPort}
}
`,
  );
  const env = { PATH: process.env.PATH, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config'), GOMAXPROCS: '1' };
  const proc = registry.start('Caddy reverse_proxy', 'caddy', ['run', '--config', path, '--adapter', 'caddyfile'], { cpu, env, output: join(dir, 'caddy.log') });
  await waitHttp(`http://127.0.0.1:${port}/`, 200, 'Caddy', proc);
  return { ...proc, port, url: `http://127.0.0.1:${port}` };
}

/** `routes:` YAML: `count` public routes app-0001… to the upstream, plus any extra entries. */
export function writeRoutesFile(path, { upstreamPort, count = 0, extra = [] }) {
  const lines = ['routes:'];
  for (let i = 1; i <= count; i++) {
    lines.push(`  - from: http://${publicHost(i)}`, `    to: http://127.0.0.1:${upstreamPort}`, '    public: true');
  }
  for (const route of extra) {
    lines.push(`  - from: ${route.from}`, `    to: http://127.0.0.1:${upstreamPort}`);
    for (const [key, value] of Object.entries(route.settings ?? {})) {
      if (Array.isArray(value)) lines.push(`    ${key}:`, ...value.map((item) => `      - ${JSON.stringify(item)}`));
      else lines.push(`    ${key}: ${JSON.stringify(value)}`);
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function publicHost(index) {
  return `app-${String(index).padStart(4, '0')}.bench.test`;
}

/**
 * Environment for `gatehouse serve`: nothing inherited from the caller's GATEHOUSE_* variables or
 * NODE_OPTIONS; NODE_OPTIONS is `nodeOptions`, or absent when that is null.
 */
export function gatehouseEnv(settings, nodeOptions) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('GATEHOUSE_')) env[name] = value;
  return {
    ...withNodeOptions(env, nodeOptions),
    NODE_ENV: 'production',
    GATEHOUSE_ACCESS_LOG: 'false',
    GATEHOUSE_SHUTDOWN_GRACE: '1s',
    GATEHOUSE_LOG_LEVEL: 'info',
    ...settings,
  };
}

/**
 * Starts `node dist/cli/main.js serve` on `cpu` and waits for /readyz. `nodeOptions` is its
 * NODE_OPTIONS: the image's unless given (null: none, Node's defaults). `nodeArgs` go before the
 * script (e.g. --cpu-prof). `output` receives stdout and stderr (the access log too, when on).
 */
export async function startGatehouse(registry, { name, root, dir, cpu, settings, nodeOptions = imageNodeOptions(root), nodeArgs = [], output, port: chosenPort }) {
  const port = chosenPort ?? (await freePort());
  const adminPort = await freePort();
  const dataDir = join(dir, `data-${name}`);
  mkdirSync(dataDir, { recursive: true });
  const env = gatehouseEnv({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
    GATEHOUSE_DATA_DIR: dataDir,
    ...settings,
  }, nodeOptions);
  const proc = registry.start(`Gatehouse (${name})`, process.execPath, [...nodeArgs, join(root, 'dist/cli/main.js'), 'serve'], {
    cpu,
    env,
    cwd: dir,
    output: output ?? join(dir, `gatehouse-${name}.log`),
  });
  const started = performance.now();
  await waitHttp(`http://127.0.0.1:${adminPort}/readyz`, 200, `Gatehouse (${name})`, proc, 30_000);
  return { ...proc, name, port, adminPort, nodeOptions, url: `http://127.0.0.1:${port}`, startupMs: performance.now() - started };
}

/** One GET; the status, headers and body text. */
export async function fetchOnce(url, headers = {}) {
  const response = await request(url, { method: 'GET', headers, maxRedirections: 0 });
  const body = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body };
}

async function waitHttp(url, status, what, proc, timeoutMs = 15_000) {
  let exitCode;
  proc?.exited.then((code) => (exitCode = code));
  await waitFor(
    what,
    async () => {
      if (exitCode !== undefined) throw Object.assign(new Error(`${what} exited with code ${exitCode}; see its log in the run directory`), { fatal: true });
      return (await fetchOnce(url)).status === status;
    },
    { timeoutMs },
  );
}
