import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A tiny real web app for integration tests, built from the local busybox image:
 * `/` answers "ok", `/cgi-bin/echo` answers with the request as the app saw it (CGI
 * environment: every header as HTTP_*, the method, the path) and the container's hostname,
 * so tests can tell replicas apart and see exactly which headers reached the upstream.
 */
export const ECHO_IMAGE = 'gatehouse-test-echo:local';

const ECHO_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "HOSTNAME=$(cat /etc/hostname)"
echo "REQUEST_METHOD=$REQUEST_METHOD"
echo "REQUEST_URI=$REQUEST_URI"
env | grep '^HTTP_' | sort
`;

let built: Promise<void> | null = null;

export function ensureEchoImage(): Promise<void> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-echo-'));
    try {
      await mkdir(join(dir, 'www', 'cgi-bin'), { recursive: true });
      await writeFile(join(dir, 'www', 'index.html'), 'ok\n');
      await writeFile(join(dir, 'www', 'cgi-bin', 'echo'), ECHO_CGI);
      await chmod(join(dir, 'www', 'cgi-bin', 'echo'), 0o755);
      await writeFile(
        join(dir, 'Dockerfile'),
        'FROM busybox:local\nCOPY www /www\nEXPOSE 80\nCMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]\n',
      );
      await run('docker', ['build', '-q', '-t', ECHO_IMAGE, dir]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return built;
}

/** Parses the echo app's answer into its HTTP_* variables and request facts. */
export function parseEcho(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * Stands in for httpbin (mccutchen/go-httpbin) in the quick start, built from the local Node
 * image: like go-httpbin it exposes port 8080 only; `/headers` answers `{"headers": {…}}` with
 * the request headers as go-httpbin writes them (canonical names, lists of values), and every
 * other path answers with the method, the URL and the headers.
 */
export const HTTPBIN_STAND_IN_IMAGE = 'gatehouse-test-httpbin:local';

const HTTPBIN_SERVER = `const http = require('node:http');
const canonical = (name) => name.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase()).join('-');
http.createServer((req, res) => {
  const headers = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) (headers[canonical(req.rawHeaders[i])] ??= []).push(req.rawHeaders[i + 1]);
  const path = req.url.split('?')[0];
  const body = path === '/headers' ? { headers } : { method: req.method, url: req.url, headers };
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body, null, 2) + '\\n');
}).listen(8080);
process.on('SIGTERM', () => process.exit(0));
`;

let httpbinBuilt: Promise<void> | null = null;

export function ensureHttpbinStandIn(): Promise<void> {
  httpbinBuilt ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-httpbin-'));
    try {
      await writeFile(join(dir, 'server.cjs'), HTTPBIN_SERVER);
      await writeFile(join(dir, 'Dockerfile'), 'FROM node:24-bookworm-slim\nCOPY server.cjs /server.cjs\nUSER node\nEXPOSE 8080\nCMD ["node","/server.cjs"]\n');
      await run('docker', ['build', '-q', '-t', HTTPBIN_STAND_IN_IMAGE, dir]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return httpbinBuilt;
}

/**
 * Debian's nginx (nginx-light) as an image, for tests that need a real nginx. No registry is
 * reachable, so it is built from Debian's packages by the shared debian-image tool once.
 */
export const NGINX_IMAGE = 'gh-nginx';

let nginxBuilt: Promise<void> | null = null;

export function ensureNginxImage(): Promise<void> {
  nginxBuilt ??= (async () => {
    const exists = await run('docker', ['image', 'inspect', NGINX_IMAGE]).then(() => true, () => false);
    if (exists) return;
    const tool = process.env.GATEHOUSE_DEBIAN_IMAGE_TOOL ?? join(process.cwd(), '..', 'shared', 'tools', 'debian-image.sh');
    await run('bash', [tool, NGINX_IMAGE, 'nginx-light', '--', 'nginx', '-g', 'daemon off;'], { maxBuffer: 16 * 1024 * 1024 });
  })();
  return nginxBuilt;
}

/**
 * Debian's git and Python, for a real smart-HTTP git server (git http-backend behind Python's
 * CGI server). Built from Debian's packages by the shared debian-image tool once.
 */
export const GIT_IMAGE = 'gatehouse-test-git:local';

let gitBuilt: Promise<void> | null = null;

export function ensureGitImage(): Promise<void> {
  gitBuilt ??= (async () => {
    const exists = await run('docker', ['image', 'inspect', GIT_IMAGE]).then(() => true, () => false);
    if (exists) return;
    const tool = process.env.GATEHOUSE_DEBIAN_IMAGE_TOOL ?? join(process.cwd(), '..', 'shared', 'tools', 'debian-image.sh');
    await run('bash', [tool, GIT_IMAGE, 'git', 'python3'], { maxBuffer: 16 * 1024 * 1024 });
  })();
  return gitBuilt;
}
