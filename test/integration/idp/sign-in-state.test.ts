import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
 * Gatehouse with the built-in provider, restarted over the same data directory: a used
 * sign-in link stays used and a lock stays locked; locks hold for the account whichever name
 * was typed; and sign-out ends the provider's session on the server.
 */

const APP = 'app.state.gh.localhost';
const AUTH = 'auth.state.gh.localhost';

let port: number;
let gh: TestGatehouse;
let upstream: Upstream;
let workDir: string;
let env: Record<string, string>;
const url = (host: string, path = '/') => `http://${host}:${port}${path}`;

async function startGatehouse(): Promise<void> {
  gh = await startTestGatehouse(env);
  await waitFor(async () => ((await loopbackFetch(url(APP), { headers: { accept: 'application/json' } })).status === 401 ? true : undefined), 'the routes file to be served');
}

async function restart(): Promise<void> {
  await gh.stop();
  await startGatehouse();
}

beforeAll(async () => {
  port = await freePort();
  workDir = await mkdtemp(join(tmpdir(), 'gh-state-'));
  upstream = await startUpstream('upstream');
  await mkdir(join(workDir, 'config'));
  await writeFile(
    join(workDir, 'config', 'users.yml'),
    await usersYaml({
      demo: { email: 'demo@example.com', password: 'demo-password' },
      bob: { email: 'bob@example.com', password: 'bob-password' },
      carol: { email: 'carol@example.com', password: 'carol-password' },
    }),
  );
  await writeFile(join(workDir, 'routes.yml'), stringify({ routes: [{ from: `http://${APP}`, to: upstream.origin, allow: '*' }] }));
  env = {
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_CONFIG: join(workDir, 'routes.yml'),
    GATEHOUSE_AUTH_URL: `http://${AUTH}:${port}`,
    GATEHOUSE_USERS_FILE: join(workDir, 'config', 'users.yml'),
    GATEHOUSE_DATA_DIR: join(workDir, 'data'),
    GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1',
  };
  await startGatehouse();
});

afterAll(async () => {
  await gh?.stop();
  await upstream?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** A different client address per test, so address locks of one test never touch another. */
const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

describe('sign-in state across a restart', () => {
  it('refuses a used sign-in link after a restart: the use was on disk before the session cookie went out', async () => {
    const jar = new CookieJar();
    const stopped = await signInViaHttp(url(APP, '/report'), 'demo', 'demo-password', jar, { stopAt: (next) => next.pathname === '/.iap/callback', ...from('198.51.100.1') });
    const callback = stopped.url;
    const cookie = jar.header(callback) ?? '';
    const used = await loopbackFetch(callback, { headers: { accept: 'text/html', cookie } });
    expect(used.status).toBe(302);
    expect(used.headers.get('location')).toBe(url(APP, '/report'));
    const stored = JSON.parse(await readFile(join(workDir, 'data', 'state', 'used-handoffs.json'), 'utf8')) as { entries: unknown[] };
    expect(stored.entries.length).toBeGreaterThan(0);

    await restart();
    const replay = await loopbackFetch(callback, { headers: { accept: 'text/html', cookie } });
    expect(replay.status).toBe(400);
    expect(replay.headers.getSetCookie().filter((c) => c.startsWith('gatehouse_session=v1'))).toEqual([]);
    expect(gh.logs.find((line) => line.msg === 'sign-in handoff refused')).toMatchObject({ reason: 'replayed', host: APP });
  });

  it('keeps an account locked after a restart', async () => {
    for (let i = 0; i < 5; i += 1) await signInViaHttp(url(APP), 'carol', `wrong-${i}`, new CookieJar(), from(`198.51.100.${10 + i}`));
    const locked = await signInViaHttp(url(APP), 'carol', 'carol-password', new CookieJar(), from('198.51.100.20'));
    expect(locked.response.status).toBe(429);
    await restart();
    const still = await signInViaHttp(url(APP), 'carol', 'carol-password', new CookieJar(), from('198.51.100.21'));
    expect(still.response.status).toBe(429);
    expect(still.body).toContain('Too many attempts');
  });
});

describe('sign-in locks', () => {
  it('hold for the account whichever name, email or case is typed', async () => {
    // Each attempt from its own address, so only the account lock can be what refuses.
    for (let i = 0; i < 5; i += 1) await signInViaHttp(url(APP), 'bob', `wrong-${i}`, new CookieJar(), from(`198.51.100.${30 + i}`));
    for (const [i, login] of ['bob', 'BOB', 'bob@example.com', ' Bob@Example.COM '].entries()) {
      const attempt = await signInViaHttp(url(APP), login, 'bob-password', new CookieJar(), from(`198.51.100.${40 + i}`));
      expect(attempt.response.status, login).toBe(429);
    }
    expect(gh.logs.filter((line) => line.event === 'sign_in' && line.outcome === 'success' && line.user === 'bob')).toEqual([]);
  });
  // Per client address: 'throttles by the client address the proxy in front reports' (gatehouse-builtin.test.ts).
});

describe('sign-out with the built-in provider', () => {
  it('ends the provider session on the server: a copied provider cookie no longer signs in silently', async () => {
    const jar = new CookieJar();
    const signedIn = await signInViaHttp(url(APP), 'demo', 'demo-password', jar, from('198.51.100.60'));
    expect(signedIn.response.status).toBe(200);
    // Someone copies the provider's cookies (all of them, path /idp on the sign-in host).
    const copied = new CookieJar();
    const idpUrl = new URL(url(AUTH, '/idp/'));
    copied.store(idpUrl, jar.matching(idpUrl).map((c) => `${c.name}=${c.value}; Path=/idp; HttpOnly`));
    expect(copied.matching(idpUrl).length).toBeGreaterThan(0);
    // While the session lasts, the copy signs in without a password (single sign-on).
    const sso = await signInViaHttp(url(APP), 'demo', 'unused', cloneOf(copied, idpUrl), from('198.51.100.61'));
    expect(sso.submittedLogin).toBe(false);

    // Sign-out on the app; the browser never goes on to the sign-in host.
    const confirm = await browse(jar, url(APP, '/.iap/sign_out'));
    const posted = await loopbackFetch(formAction(confirm.body, confirm.url), { method: 'POST', headers: { accept: 'text/html', cookie: jar.header(new URL(url(APP)))! } });
    expect(posted.status).toBe(303);
    expect(gh.logs.filter((line) => line.msg === 'signed out')).not.toEqual([]);

    const again = await signInViaHttp(url(APP), 'demo', 'demo-password', copied, from('198.51.100.62'));
    expect(again.submittedLogin, again.visited.map((u) => u.pathname).join(' ')).toBe(true);
    expect(gh.logs.some((line) => line.event === 'provider_session_ended')).toBe(true);
  });
});

function cloneOf(jar: CookieJar, at: URL): CookieJar {
  const copy = new CookieJar();
  copy.store(at, jar.matching(at).map((c) => `${c.name}=${c.value}; Path=/idp; HttpOnly`));
  return copy;
}
