import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor, type HttpResult } from '../../helpers/http.ts';
import { CookieJar, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { startAuthStack, type AuthStack } from '../auth/support.ts';

/**
 * The forward-auth endpoint against a real Gatehouse, a real OpenID provider and real sign-ins,
 * called the way Traefik, Caddy and nginx call it (their headers, from a trusted address), and
 * the way an attacker would (from an untrusted address, with forged headers).
 */

const FA = 'fa.fwd.gh.localhost';
const ADMIN = 'admin.fwd.gh.localhost';
const PROXIED = 'app.fwd.gh.localhost';

let stack: AuthStack;
const host = (name: string) => `${name}:${stack.port}`;

beforeAll(async () => {
  stack = await startAuthStack({
    authHost: 'auth.fwd.gh.localhost',
    users: [
      { sub: 'alice', email: 'alice@example.com', name: 'Alice', groups: ['staff'], password: 'alice-pw' },
      { sub: 'olga', email: 'olga@example.com', name: 'Olga', groups: ['ops'], password: 'olga-pw' },
    ],
    routes: [
      { from: `http://${FA}`, to: undefined, mode: 'forward_auth', allow: 'group:staff', bypass: '/public/' },
      { from: `http://${ADMIN}`, to: undefined, mode: 'forward_auth', allow: '*', deny: 'group:staff' },
      { from: `http://${PROXIED}`, allow: '*' },
    ],
    env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1' },
  });
});

afterAll(async () => {
  await stack?.close();
});

/** A forward-auth call as Traefik makes it: the original request in X-Forwarded-*, the browser's own headers copied. */
function traefikCall(original: { host: string; uri: string; method?: string }, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http(stack.port, `gatehouse:${stack.port}`, '/.iap/forward_auth', {
    headers: {
      'x-forwarded-method': original.method ?? 'GET',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': original.host,
      'x-forwarded-uri': original.uri,
      'x-forwarded-for': '198.51.100.7',
      ...headers,
    },
  });
}

/** nginx's auth_request as the README configures it: X-Original-URI and -Method, the original Host. */
function nginxCall(original: { host: string; uri: string; method?: string }, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http(stack.port, original.host, '/.iap/auth_request', {
    headers: { 'x-original-uri': original.uri, 'x-original-method': original.method ?? 'GET', 'x-forwarded-proto': 'http', ...headers },
  });
}

const BROWSER = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' };

async function signedInJar(user: string, password: string, routeHost: string, jar = new CookieJar()): Promise<CookieJar> {
  const start = `http://${host(routeHost)}/.iap/start?rd=${encodeURIComponent(`http://${host(routeHost)}/`)}`;
  const result = await signInViaHttp(start, user, password, jar);
  // The last hop is the route itself, which Gatehouse's own listener does not serve in this mode.
  expect(result.response.status).toBe(421);
  return jar;
}

describe('forward-auth', () => {
  it('sends a browser without a session to sign in on the app host itself, keeping the original URL', async () => {
    const response = await traefikCall({ host: host(FA), uri: '/docs/page?q=a,b' }, BROWSER);
    expect(response.status).toBe(302);
    const location = new URL(String(response.headers.location));
    expect(location.origin).toBe(`http://${host(FA)}`);
    expect(location.pathname).toBe('/.iap/start');
    expect(location.searchParams.get('rd')).toBe(`http://${host(FA)}/docs/page?q=a,b`);
  });

  it('answers an API client without a session with 401, and nginx a 401 carrying the sign-in redirect', async () => {
    const api = await traefikCall({ host: host(FA), uri: '/api' }, { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'sign_in_required' });
    const nginx = await nginxCall({ host: host(FA), uri: '/docs' }, BROWSER);
    expect(nginx.status).toBe(401);
    expect(String(nginx.headers.location)).toBe(`http://${host(FA)}/.iap/start?rd=${encodeURIComponent(`http://${host(FA)}/docs`)}`);
  });

  it('lets a signed-in user through with the identity headers for the outer proxy to copy', async () => {
    const jar = await signedInJar('alice', 'alice-pw', FA);
    const cookie = jar.header(new URL(`http://${host(FA)}/`)) as string;
    const traefik = await traefikCall({ host: host(FA), uri: '/docs' }, { cookie });
    expect(traefik.status).toBe(200);
    expect(traefik.headers['x-iap-user']).toBe('alice');
    expect(traefik.headers['x-iap-email']).toBe('alice@example.com');
    expect(traefik.headers['x-iap-groups']).toBe('staff');
    // The browser's cookies are the outer proxy's to forward; the answer never echoes them.
    expect(traefik.headers['set-cookie']).toBeUndefined();
    expect(traefik.headers.cookie).toBeUndefined();
    const nginx = await nginxCall({ host: host(FA), uri: '/docs', method: 'POST' }, { cookie });
    expect(nginx.status).toBe(200);
    expect(nginx.headers['x-iap-user']).toBe('alice');
  });

  it('answers 403 with the deciding entry in the audit stream when the policy refuses', async () => {
    const jar = await signedInJar('alice', 'alice-pw', ADMIN);
    const cookie = jar.header(new URL(`http://${host(ADMIN)}/`)) as string;
    const response = await traefikCall({ host: host(ADMIN), uri: '/settings' }, { cookie, accept: 'application/json' });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'access_denied', user: 'alice@example.com' });
    expect((await nginxCall({ host: host(ADMIN), uri: '/settings' }, { cookie })).status).toBe(403);
    const audit = join(stack.dataDir, 'data', 'audit.jsonl');
    const events = await waitFor(async () => {
      const lines = (await readFile(audit, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      return lines.some((line) => line.event === 'refused' && line.path === '/settings') ? lines : undefined;
    }, 'the refusal in audit.jsonl');
    expect(events.find((line) => line.event === 'refused' && line.path === '/settings')).toMatchObject({
      via: 'forward_auth',
      host: ADMIN,
      user: 'alice@example.com',
      reason: 'denied',
      entry: 'group:staff',
      ip: '198.51.100.7',
    });
    // No secret reaches the stream: no cookie, token or password.
    const text = await readFile(audit, 'utf8');
    expect(text).not.toMatch(/alice-pw|__Host-|gatehouse_session|token=|eyJ/);
  });

  it('lets a bypass path through without anyone, with empty identity headers that overwrite forged ones', async () => {
    const response = await traefikCall({ host: host(FA), uri: '/public/logo.png' }, { 'x-iap-user': 'root' });
    expect(response.status).toBe(200);
    expect(response.headers['x-iap-user']).toBe('');
    expect(response.headers['x-iap-email']).toBe('');
  });

  it('fails closed on a host no route claims: no redirect, nothing let through', async () => {
    const response = await traefikCall({ host: `evil.example:${stack.port}`, uri: '/' }, BROWSER);
    expect(response.status).toBe(404);
    expect(response.headers.location).toBeUndefined();
    expect((await nginxCall({ host: 'evil.example', uri: '/' }, BROWSER)).status).toBe(403);
  });

  it('refuses a caller that is not a trusted proxy, whatever it forges', async () => {
    const jar = await signedInJar('alice', 'alice-pw', FA);
    const cookie = jar.header(new URL(`http://${host(FA)}/`)) as string;
    // 127.0.0.2 is loopback too, but not in GATEHOUSE_TRUSTED_PROXIES (127.0.0.1).
    const response = await new Promise<HttpResult>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          localAddress: '127.0.0.2',
          port: stack.port,
          path: '/.iap/forward_auth',
          headers: { host: host(FA), cookie, 'x-forwarded-host': host(FA), 'x-forwarded-uri': '/docs', 'x-forwarded-method': 'GET' },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'forward_auth_untrusted' });
    expect(response.headers['x-iap-user']).toBeUndefined();
  });

  it('rejects a call that names no original URI, saying which header to send', async () => {
    const response = await http(stack.port, host(FA), '/.iap/forward_auth', { headers: { 'x-forwarded-host': host(FA) } });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(/X-Forwarded-Uri.*X-Original-URI/);
  });

  it("does not serve a forward_auth route on Gatehouse's own listener, and still serves proxied routes", async () => {
    const page = await http(stack.port, host(FA), '/docs', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(421);
    expect(page.body).toContain('served by another proxy');
    expect(stack.upstream.received.some((r) => r.headers.host?.startsWith(FA))).toBe(false);
    const jar = new CookieJar();
    const proxied = await signInViaHttp(`http://${host(PROXIED)}/hello`, 'olga', 'olga-pw', jar);
    expect(proxied.response.status).toBe(200);
  });
});
