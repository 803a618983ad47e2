import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { waitFor } from '../../helpers/http.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { browse, formAction, usersYaml } from '../../helpers/idp-app.ts';
import { freePort, startUpstream, type Upstream } from '../auth/support.ts';

/**
 * Gatehouse with only GATEHOUSE_AUTH_URL and a users file: the built-in provider is served on
 * the sign-in host by the proxy itself, and Gatehouse signs users in against it with the same
 * OpenID client it uses for an outside provider.
 */

const APP = 'app.builtin.gh.localhost';
const OTHER = 'other.builtin.gh.localhost';
const AUTH = 'auth.builtin.gh.localhost';

let port: number;
let gh: TestGatehouse;
let upstream: Upstream;
let workDir: string;
const url = (host: string, path = '/') => `http://${host}:${port}${path}`;

beforeAll(async () => {
  port = await freePort();
  workDir = await mkdtemp(join(tmpdir(), 'gh-builtin-'));
  upstream = await startUpstream('upstream');
  await mkdir(join(workDir, 'config'));
  const usersFile = join(workDir, 'config', 'users.yml');
  await writeFile(
    usersFile,
    await usersYaml({
      demo: { email: 'demo@example.com', name: 'Demo User', groups: ['demo'], password: 'demo-password' },
      olga: { email: 'olga@example.com', groups: ['ops'], password: 'olga-password' },
    }),
  );
  const routesFile = join(workDir, 'routes.yml');
  await writeFile(
    routesFile,
    stringify({
      routes: [
        { from: `http://${APP}`, to: upstream.origin, allow: 'group:demo', name: 'App' },
        { from: `http://${OTHER}`, to: upstream.origin, allow: '*', name: 'Other' },
      ],
    }),
  );
  gh = await startTestGatehouse({
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_CONFIG: routesFile,
    GATEHOUSE_AUTH_URL: `http://${AUTH}:${port}`,
    GATEHOUSE_USERS_FILE: usersFile,
    GATEHOUSE_DATA_DIR: join(workDir, 'data'),
    // Loopback plays the proxy in front: its X-Forwarded-For names the client.
    GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1',
  });
  // The routes file is published with the first table generation; wait until a route answers.
  await waitFor(async () => ((await loopbackFetch(url(OTHER), { headers: { accept: 'application/json' } })).status === 401 ? true : undefined), 'the routes file to be served');
});

afterAll(async () => {
  await gh?.stop();
  await upstream?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

function lastReceived(host: string) {
  const request = upstream.received.filter((r) => r.headers.host?.startsWith(host)).at(-1);
  expect(request, `the upstream saw no request for ${host}`).toBeDefined();
  return request!;
}

describe('Gatehouse with the built-in identity provider', () => {
  it('starts the built-in provider when GATEHOUSE_AUTH_URL is set without an issuer', async () => {
    const enabled = gh.logs.find((line) => line.msg === 'sign-in enabled');
    expect(enabled).toMatchObject({ provider: 'builtin', issuer: `http://${AUTH}:${port}/idp`, clientId: 'gatehouse' });
    const discovery = await loopbackFetch(url(AUTH, '/idp/.well-known/openid-configuration'));
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(`http://${AUTH}:${port}/idp`);
    const ready = await loopbackFetch(`http://127.0.0.1:${gh.adminPort}/readyz`);
    const body = (await ready.json()) as { identity: Record<string, unknown> };
    expect(body.identity).toMatchObject({ kind: 'builtin', issuer: `http://${AUTH}:${port}/idp`, provider: 'ready' });
  });

  it('signs in at the built-in sign-in page and forwards the identity to the app', async () => {
    const result = await signInViaHttp(url(APP, '/hello?x=1'), 'demo', 'demo-password');
    expect(result.submittedLogin).toBe(true);
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(url(APP, '/hello?x=1'));
    const paths = result.visited.map((visited) => `${visited.hostname}${visited.pathname}`);
    expect(paths).toEqual(expect.arrayContaining([`${AUTH}/oauth2/start`, `${AUTH}/idp/auth`, `${AUTH}/oauth2/callback`, `${APP}/.iap/callback`]));
    expect(paths.some((path) => path.startsWith(`${AUTH}/idp/interaction/`))).toBe(true);
    const received = lastReceived(APP);
    expect(received.url).toBe('/hello?x=1');
    expect(received.headers['x-iap-user']).toBe('demo');
    expect(received.headers['x-iap-email']).toBe('demo@example.com');
    expect(received.headers['x-iap-groups']).toBe('demo');
    expect(received.headers['x-iap-name']).toBe('Demo User');
    // Nothing of the provider's own cookies or Gatehouse's reaches the app.
    expect(received.headers.cookie ?? '').not.toMatch(/gatehouse_idp_|__Host-|gatehouse/);
    // The provider's pages went through the proxy's access log like every other request.
    const idpLines = gh.logs.filter((line) => line.msg === 'request' && line.host === AUTH && String(line.path).startsWith('/idp/'));
    expect(idpLines.map((line) => line.status)).toEqual(expect.arrayContaining([303, 200]));
    expect(idpLines.every((line) => typeof line.requestId === 'string' && line.clientIp === '127.0.0.1')).toBe(true);
    expect(gh.logs.some((line) => line.event === 'sign_in' && line.outcome === 'success' && line.user === 'demo' && line.ip === '127.0.0.1')).toBe(true);
  });

  it('signs in once for every app: the second app needs no password', async () => {
    const jar = new CookieJar();
    await signInViaHttp(url(APP), 'demo', 'demo-password', jar);
    const second = await signInViaHttp(url(OTHER, '/two'), 'demo', 'not-even-asked', jar);
    expect(second.submittedLogin).toBe(false);
    expect(second.response.status).toBe(200);
    expect(second.visited.some((visited) => visited.pathname.startsWith('/idp/'))).toBe(false);
    expect(lastReceived(OTHER).headers['x-iap-email']).toBe('demo@example.com');
  });

  it('applies the route policy to built-in users', async () => {
    const result = await signInViaHttp(url(APP, '/private'), 'olga', 'olga-password');
    expect(result.response.status).toBe(403);
    expect(result.body).toContain('You are signed in as olga@example.com, but App does not let this account in.');
    expect(upstream.received.some((r) => r.url === '/private')).toBe(false);
  });

  it('serves the provider only on the sign-in host', async () => {
    const response = await loopbackFetch(url(OTHER, '/idp/.well-known/openid-configuration'), { headers: { accept: 'application/json' } });
    expect(response.status).toBe(401);
  });

  it('signs out everywhere with one confirmation, ending the provider session on the server', async () => {
    const jar = new CookieJar();
    await signInViaHttp(url(APP), 'demo', 'demo-password', jar);
    const confirm = await browse(jar, url(APP, '/.iap/sign_out'));
    expect(confirm.body).toContain('Sign out?');
    const done = await browse(jar, formAction(confirm.body, confirm.url), { method: 'POST' });
    // Gatehouse ended the provider's session itself: no stop at the provider's sign-out page.
    expect(done.visited.map((visited) => visited.pathname)).not.toContain('/idp/session/end');
    expect(done.url.href).toBe(url(AUTH, '/oauth2/signed_out'));
    expect(done.body).toContain('You are signed out');
    // Both sessions are over: the next visit asks for the password again.
    const again = await signInViaHttp(url(OTHER), 'demo', 'demo-password', jar);
    expect(again.submittedLogin).toBe(true);
    expect(again.response.status).toBe(200);
  });

  it('throttles by the client address the proxy in front reports', async () => {
    const attacker = { 'x-forwarded-for': '203.0.113.7' };
    // Twenty wrong passwords for twenty different names from one address lock that address.
    // Five at a time: each unknown name costs a full password hash, two at once, so twenty at once
    // would queue single requests past their timeout on a busy machine.
    const failures = [];
    for (let batch = 0; batch < 4; batch += 1) {
      failures.push(
        ...(await Promise.all(
          Array.from({ length: 5 }, (_, i) => signInViaHttp(url(OTHER), `guess-${batch * 5 + i}`, 'wrong-password', new CookieJar(), { headers: attacker })),
        )),
      );
    }
    expect(failures.every((result) => result.submittedLogin && [401, 429].includes(result.response.status))).toBe(true);
    const locked = await signInViaHttp(url(OTHER), 'demo', 'demo-password', new CookieJar(), { headers: attacker });
    expect(locked.response.status).toBe(429);
    expect(locked.body).toContain('Too many attempts');
    expect(gh.logs.some((line) => line.event === 'sign_in_locked' && line.scope === 'ip' && line.ip === '203.0.113.7')).toBe(true);
    // Another client, and the same user, are not affected.
    const neighbour = await signInViaHttp(url(OTHER), 'demo', 'demo-password', new CookieJar(), { headers: { 'x-forwarded-for': '203.0.113.8' } });
    expect(neighbour.response.status).toBe(200);
    expect(gh.logs.some((line) => line.event === 'sign_in' && line.outcome === 'success' && line.ip === '203.0.113.8')).toBe(true);
  });
});
