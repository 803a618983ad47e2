import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startTestGatehouse, type TestGatehouse } from '../../helpers/gatehouse.ts';
import { waitFor } from '../../helpers/http.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { usersYaml } from '../../helpers/idp-app.ts';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.ts';
import { startTcpBalancer, type TcpBalancer } from '../../helpers/tcp-balancer.ts';
import { startUpstream, type Upstream } from '../auth/support.ts';

/**
 * Three Gatehouse replicas with the built-in provider, each with its own data dir, sharing one
 * real redis-server (GATEHOUSE_REDIS_URL) behind a TCP balancer, as behind the Swarm routing
 * mesh. No GATEHOUSE_SECRET: the generated secret and keys are shared through Redis too.
 */

const APP = 'app.replicas.gh.localhost';
const AUTH = 'auth.replicas.gh.localhost';
/** One connection per request, so the balancer decides each time. */
const CLOSE = { connection: 'close' };

let redis: RedisServer;
let balancer: TcpBalancer;
let upstream: Upstream;
let workDir: string;
const ports: number[] = [];
const replicas: TestGatehouse[] = [];
const url = (host: string, path = '/') => `http://${host}:${balancer.port}${path}`;

beforeAll(async () => {
  redis = await startRedisServer();
  balancer = await startTcpBalancer(ports);
  upstream = await startUpstream('upstream');
  workDir = await mkdtemp(join(tmpdir(), 'gh-replicas-'));
  const usersFile = join(workDir, 'users.yml');
  await writeFile(
    usersFile,
    await usersYaml({
      demo: { email: 'demo@example.com', groups: ['demo'], password: 'demo-password' },
      victim: { email: 'victim@example.com', groups: ['demo'], password: 'victim-password' },
    }),
  );
  const routesFile = join(workDir, 'routes.yml');
  await writeFile(routesFile, stringify({ routes: [{ from: `http://${APP}`, to: upstream.origin, allow: 'group:demo', name: 'App' }] }));
  // Started at once, as a stack deploy would: they race to generate the keys, and must agree.
  const started = await Promise.all(
    [0, 1, 2].map((index) =>
      startTestGatehouse({
        GATEHOUSE_CONFIG: routesFile,
        GATEHOUSE_AUTH_URL: `http://${AUTH}:${balancer.port}`,
        GATEHOUSE_USERS_FILE: usersFile,
        GATEHOUSE_DATA_DIR: join(workDir, `data-${index}`),
        GATEHOUSE_REDIS_URL: redis.url,
      }),
    ),
  );
  replicas.push(...started);
  ports.push(...started.map((replica) => replica.proxyPort));
  for (const index of [0, 1, 2]) {
    balancer.pin(index);
    await waitFor(async () => ((await loopbackFetch(url(APP), { headers: { accept: 'application/json', ...CLOSE } })).status === 401 ? true : undefined), `replica ${index} to serve the routes file`);
  }
  balancer.roundRobin();
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(replicas.map((replica) => replica.stop()));
  await balancer?.close();
  await upstream?.close();
  await redis?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

async function appStatus(replica: number, cookie: string | undefined): Promise<number> {
  balancer.pin(replica);
  try {
    const response = await loopbackFetch(url(APP, '/api'), { headers: { accept: 'application/json', ...CLOSE, ...(cookie === undefined ? {} : { cookie }) } });
    await response.arrayBuffer();
    return response.status;
  } finally {
    balancer.roundRobin();
  }
}

const appCookie = (jar: CookieJar) => jar.header(new URL(url(APP)))!;

async function signIn(user = 'demo', password = 'demo-password', jar = new CookieJar()) {
  const result = await signInViaHttp(url(APP, '/hello'), user, password, jar, { headers: CLOSE });
  return result;
}

/** Signs out through the confirmation page and its form, on one replica. */
async function signOut(replica: number, cookie: string): Promise<void> {
  balancer.pin(replica);
  try {
    const page = await (await loopbackFetch(url(APP, '/.iap/sign_out'), { headers: { accept: 'text/html', cookie, ...CLOSE } })).text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
    expect(action).toBeDefined();
    const posted = await loopbackFetch(url(APP, action!.replaceAll('&amp;', '&')), { method: 'POST', headers: { accept: 'text/html', cookie, ...CLOSE } });
    expect(posted.status).toBe(303);
  } finally {
    balancer.roundRobin();
  }
}

async function readyz(replica: TestGatehouse): Promise<{ identity: { sharedState?: { state: string } } }> {
  return (await (await loopbackFetch(`http://127.0.0.1:${replica.adminPort}/readyz`, { headers: CLOSE })).json()) as never;
}

describe('three replicas sharing one Redis', () => {
  it('agree on one set of keys although they started at once', async () => {
    const jwks = await Promise.all(
      [0, 1, 2].map(async (index) => {
        balancer.pin(index);
        const response = await loopbackFetch(url(AUTH, '/idp/jwks'), { headers: CLOSE });
        return response.text();
      }),
    );
    balancer.roundRobin();
    expect(new Set(jwks).size).toBe(1);
    expect((await readyz(replicas[0]!)).identity.sharedState).toMatchObject({ state: 'ready' });
  });

  it('finishes a sign-in whose steps land on different replicas, and the session works on every replica', async () => {
    const before = balancer.served.length;
    const result = await signIn();
    expect(result.submittedLogin).toBe(true);
    expect(result.response.status).toBe(200);
    // The flow's requests went to all three replicas in turn.
    expect(new Set(balancer.served.slice(before))).toEqual(new Set([0, 1, 2]));
    const cookie = appCookie(result.jar);
    for (const replica of [0, 1, 2]) expect(await appStatus(replica, cookie)).toBe(200);
  });

  it('costs no Redis round trip on the signed-in path', async () => {
    const cookie = appCookie((await signIn()).jar);
    const probe = new Redis(redis.url);
    const processed = async () => Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))![1]);
    try {
      const before = await processed();
      for (let i = 0; i < 60; i += 1) expect(await appStatus(i % 3, cookie)).toBe(200);
      // The only command in between is the second INFO itself.
      expect((await processed()) - before).toBe(1);
    } finally {
      probe.disconnect();
    }
  });

  it('a sign-out through one replica is refused on every replica within one second', async () => {
    const { jar } = await signIn();
    const cookie = appCookie(jar);
    await signOut(0, cookie);
    const signedOutAt = Date.now();
    for (const replica of [1, 2, 0]) {
      await waitFor(async () => ((await appStatus(replica, cookie)) === 401 ? true : undefined), `replica ${replica} to refuse the signed-out session`, 1_000, 10);
    }
    expect(Date.now() - signedOutAt).toBeLessThan(1_000);
  });

  it('a sign-in link used on one replica is refused on another', async () => {
    const jar = new CookieJar();
    const captured = await signInViaHttp(url(APP, '/hello'), 'demo', 'demo-password', jar, { headers: CLOSE, stopAt: (next) => next.pathname === '/.iap/callback' });
    expect(captured.url.pathname).toBe('/.iap/callback');
    const cookie = jar.header(captured.url);
    const use = async (replica: number) => {
      balancer.pin(replica);
      try {
        return await loopbackFetch(captured.url, { headers: { accept: 'text/html', ...CLOSE, ...(cookie === undefined ? {} : { cookie }) } });
      } finally {
        balancer.roundRobin();
      }
    };
    expect((await use(1)).status).toBe(302);
    const second = await use(2);
    expect(second.status).toBe(400);
    expect(await second.text()).toContain('This sign-in link cannot be used');
  });

  it('sign-in failures add up across replicas: five wrong passwords, one or two per replica, lock the account on all', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      balancer.pin(attempt % 3);
      const result = await signInViaHttp(url(APP, '/hello'), 'victim', 'wrong-password', new CookieJar(), { headers: CLOSE });
      expect(result.submittedLogin).toBe(true);
      expect(result.response.status).not.toBe(200);
    }
    balancer.roundRobin();
    for (const replica of [0, 1, 2]) {
      balancer.pin(replica);
      const result = await signInViaHttp(url(APP, '/hello'), 'victim', 'victim-password', new CookieJar(), { headers: CLOSE });
      expect(result.response.status, `replica ${replica}`).toBe(429);
      expect(result.body).toContain('Too many attempts');
    }
    balancer.roundRobin();
  }, 60_000);

  it('while Redis is away: sessions keep working, sign-outs seen before still hold, new sign-ins are refused; all recovers when it returns', async () => {
    const kept = appCookie((await signIn()).jar);
    const signedOut = appCookie((await signIn()).jar);
    const signedOutDuring = appCookie((await signIn()).jar);
    await signOut(1, signedOut);
    for (const replica of [0, 2]) await waitFor(async () => ((await appStatus(replica, signedOut)) === 401 ? true : undefined), 'the sign-out to reach every replica', 1_000, 10);

    await redis.stop();
    for (const replica of replicas) await waitFor(async () => ((await readyz(replica)).identity.sharedState?.state === 'unreachable' ? true : undefined), '/readyz to report Redis unreachable');
    for (const replica of [0, 1, 2]) {
      expect(await appStatus(replica, kept), `kept session on replica ${replica}`).toBe(200);
      expect(await appStatus(replica, signedOut), `signed-out session on replica ${replica}`).toBe(401);
    }
    const refused = await signIn();
    expect(refused.response.status).toBe(503);
    expect(refused.body).toContain('Sign-in is paused');
    expect(refused.submittedLogin).toBe(false);
    // A sign-out during the outage holds at once where it was made; the others learn it when Redis returns.
    await signOut(0, signedOutDuring);
    expect(await appStatus(0, signedOutDuring)).toBe(401);
    expect(await appStatus(2, signedOutDuring)).toBe(200);

    await redis.start();
    for (const replica of replicas) await waitFor(async () => ((await readyz(replica)).identity.sharedState?.state === 'ready' ? true : undefined), '/readyz to report Redis back');
    for (const replica of [1, 2]) await waitFor(async () => ((await appStatus(replica, signedOutDuring)) === 401 ? true : undefined), `replica ${replica} to learn the sign-out made during the outage`);
    expect(await appStatus(1, kept)).toBe(200);
    const again = await signIn();
    expect(again.response.status).toBe(200);
    for (const replica of [0, 1, 2]) expect(await appStatus(replica, appCookie(again.jar))).toBe(200);
  }, 90_000);
});
