import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/http.ts';
import { NGINX_IMAGE } from '../../helpers/images.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { freePort, startAuthStack, type AuthStack } from './support.ts';

/**
 * Network conditions with real sockets from different loopback addresses (Linux routes all of
 * 127.0.0.0/8 to lo, so a client can be 127.0.0.9 or 127.0.0.2): straight to Gatehouse, and
 * through a real nginx in front. Gatehouse trusts 127.0.0.1 (GATEHOUSE_TRUSTED_PROXIES), the
 * address nginx connects from; a second nginx server connects from 127.0.0.3, a proxy Gatehouse
 * does not trust, to show what the README warns about.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const LAN = 'lan.nr.gh.localhost';
const TRUSTED = 'trusted.nr.gh.localhost';
const DENIED = 'denied.nr.gh.localhost';
const PUBLIC_LAN = 'public-lan.nr.gh.localhost';
const HOME = '127.0.0.9';
const KIOSK = '127.0.0.17';
const BLOCKED = '127.0.0.25';
const OUTSIDE = '127.0.0.2';

const docker = promisify(execFile);
let stack: AuthStack;
let dir: string;
let nginxId: string | null = null;
let trustedFront: number;
let untrustedFront: number;

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

/** A JSON request from `from` to `port`, for `host`. */
function ask(port: number, host: string, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', localAddress: from, agent: false, headers: { host: `${host}:${stack.port}`, accept: 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice],
    routes: [
      { from: `http://${LAN}`, allow: '*', networks: '127.0.0.8/29' },
      { from: `http://${TRUSTED}`, allow: 'nobody@example.test', trusted_networks: '127.0.0.16/29' },
      { from: `http://${DENIED}`, allow: '*', deny: 'ip:127.0.0.24/29' },
      { from: `http://${PUBLIC_LAN}`, public: 'true', networks: '127.0.0.8/29' },
    ],
    env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1/32' },
  });
  dir = await mkdtemp(join(tmpdir(), 'gh-network-rules-'));
  trustedFront = await freePort();
  untrustedFront = await freePort();
  const pass = `proxy_pass http://127.0.0.1:${stack.port}; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`;
  await writeFile(
    join(dir, 'nginx.conf'),
    'user root;\nworker_processes 1;\nerror_log stderr;\npid /tmp/nginx.pid;\nevents {}\n' +
      `http { access_log off;\n` +
      `  server { listen 127.0.0.1:${trustedFront}; location / { ${pass} } }\n` +
      `  server { listen 127.0.0.1:${untrustedFront}; location / { proxy_bind 127.0.0.3; ${pass} } }\n}\n`,
  );
  const run = await docker('docker', ['run', '-d', '--rm', '--network', 'host', '-v', `${join(dir, 'nginx.conf')}:/etc/gh-nginx.conf:ro`, NGINX_IMAGE, 'nginx', '-c', '/etc/gh-nginx.conf', '-g', 'daemon off;']);
  nginxId = run.stdout.trim();
  await waitFor(async () => ((await ask(trustedFront, LAN, HOME).catch(() => null))?.status === 401 ? true : undefined), 'nginx in front of Gatehouse', 30_000, 100);
});

afterAll(async () => {
  if (nginxId !== null) await docker('docker', ['rm', '-f', nginxId]).catch(() => undefined);
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('network rules, straight to Gatehouse', () => {
  it('limits a route to its networks before any sign-in', async () => {
    expect(await ask(stack.port, LAN, HOME)).toMatchObject({ status: 401, json: { error: 'sign_in_required' } });
    expect(await ask(stack.port, LAN, OUTSIDE)).toMatchObject({ status: 403, json: { error: 'network_refused' } });
  });

  it('applies the limit to a public route too', async () => {
    expect((await ask(stack.port, PUBLIC_LAN, HOME)).status).toBe(200);
    expect(await ask(stack.port, PUBLIC_LAN, OUTSIDE)).toMatchObject({ status: 403, json: { error: 'network_refused' } });
  });

  it('lets a trusted network in without sign-in, as nobody: no identity reaches the app', async () => {
    const before = stack.upstream.received.length;
    const answer = await ask(stack.port, TRUSTED, KIOSK, { 'x-iap-user': 'admin', 'x-iap-email': 'admin@example.test' });
    expect(answer.status).toBe(200);
    const received = stack.upstream.received[before];
    expect(received?.headers['x-iap-user']).toBeUndefined();
    expect(received?.headers['x-iap-email']).toBeUndefined();
    expect(await ask(stack.port, TRUSTED, OUTSIDE)).toMatchObject({ status: 401, json: { error: 'sign_in_required' } });
  });

  it('refuses a denied ip: network before sign-in, and only that network', async () => {
    expect(await ask(stack.port, DENIED, BLOCKED)).toMatchObject({ status: 403, json: { error: 'network_refused' } });
    expect(await ask(stack.port, DENIED, HOME)).toMatchObject({ status: 401, json: { error: 'sign_in_required' } });
  });

  it('ignores X-Forwarded-For from a peer it does not trust', async () => {
    expect(await ask(stack.port, LAN, OUTSIDE, { 'x-forwarded-for': HOME })).toMatchObject({ status: 403, json: { error: 'network_refused' } });
    expect(await ask(stack.port, TRUSTED, OUTSIDE, { 'x-forwarded-for': KIOSK })).toMatchObject({ status: 401 });
    expect(await ask(stack.port, DENIED, BLOCKED, { 'x-forwarded-for': HOME })).toMatchObject({ status: 403, json: { error: 'network_refused' } });
  });
});

describe('network rules behind nginx', () => {
  it('judges the client nginx saw, when nginx is a trusted proxy', async () => {
    expect(await ask(trustedFront, LAN, HOME)).toMatchObject({ status: 401, json: { error: 'sign_in_required' } });
    expect(await ask(trustedFront, LAN, OUTSIDE)).toMatchObject({ status: 403, json: { error: 'network_refused' } });
    expect((await ask(trustedFront, TRUSTED, KIOSK)).status).toBe(200);
    expect(await ask(trustedFront, DENIED, BLOCKED)).toMatchObject({ status: 403, json: { error: 'network_refused' } });
  });

  it("reads X-Forwarded-For from the right: a client's own entry changes nothing", async () => {
    // nginx appends the real peer; Gatehouse stops at the first hop it does not trust.
    expect(await ask(trustedFront, TRUSTED, OUTSIDE, { 'x-forwarded-for': KIOSK })).toMatchObject({ status: 401 });
    expect(await ask(trustedFront, LAN, OUTSIDE, { 'x-forwarded-for': HOME })).toMatchObject({ status: 403, json: { error: 'network_refused' } });
  });

  it('sees every client as the proxy when the proxy is not trusted (the setting the README warns about)', async () => {
    expect(await ask(untrustedFront, LAN, HOME)).toMatchObject({ status: 403, json: { error: 'network_refused' } });
    expect(await ask(untrustedFront, TRUSTED, KIOSK)).toMatchObject({ status: 401 });
  });
});
