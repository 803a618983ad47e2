import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { http, waitFor } from '../../helpers/http.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from './support.ts';

/** The identity provider is down when Gatehouse starts, or goes down while users are signed in. */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const APP = 'app.outage.gh.localhost';
const OTHER = 'other.outage.gh.localhost';
const PUBLIC = 'public.outage.gh.localhost';

let stack: AuthStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function readiness(s: AuthStack): Promise<{ status: number; body: { identity: { provider: string; lastError: string | null } } }> {
  const response = await http(s.gh.adminPort, 'localhost', '/readyz');
  return { status: response.status, body: JSON.parse(response.body) };
}

describe('identity provider outages', () => {
  it('starts while the provider is down, answers sign-in with 503, then signs in once it is back', async () => {
    stack = await startAuthStack({
      users: [alice],
      providerDown: true,
      routes: [
        { from: `http://${APP}`, allow: '*' },
        { from: `http://${PUBLIC}`, public: 'true' },
      ],
    });
    const s = stack;
    // Gatehouse is up and serving what needs no sign-in.
    expect((await loopbackFetch(s.url(PUBLIC, '/'), { headers: { accept: 'application/json' } })).status).toBe(200);
    // Ready (once Docker has been listed) although the provider is down: sign-in is not what readiness gates.
    const ready = await waitFor(async () => {
      const current = await readiness(s);
      return current.status === 200 ? current : undefined;
    }, 'readiness');
    expect(['discovering', 'unreachable']).toContain(ready.body.identity.provider);

    const start = await loopbackFetch(`${s.authUrl}/oauth2/start?rd=${encodeURIComponent(s.url(APP, '/'))}&bind=${'b'.repeat(43)}`, { headers: { accept: 'text/html' } });
    expect(start.status).toBe(503);
    expect(start.headers.get('retry-after')).toBe('5');
    const page = await start.text();
    expect(page).toContain('Identity provider unreachable');
    expect(page).not.toContain('ECONNREFUSED');
    expect(page).not.toContain('127.0.0.1');
    // The app itself still sends browsers to sign in (no loop, no 500).
    expect((await loopbackFetch(s.url(APP, '/'), { headers: { accept: 'text/html' } })).status).toBe(302);

    await s.op.restart();
    // Each sign-in attempt retries discovery (at most one attempt at a time), so a retry soon succeeds.
    await waitFor(async () => {
      const retry = await loopbackFetch(`${s.authUrl}/oauth2/start`, { headers: { accept: 'text/html' } });
      return retry.status === 302 ? true : undefined;
    }, 'sign-in to work again', 10_000, 100);
    const result = await signInViaHttp(s.url(APP, '/back'), alice.email, alice.password);
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(s.url(APP, '/back'));
    await waitFor(async () => ((await readiness(s)).body.identity.provider === 'ready' ? true : undefined), 'the provider to be ready');
  });

  it('keeps existing sessions, and single sign-on to another app, working while the provider is down', async () => {
    stack = await startAuthStack({
      users: [alice],
      routes: [
        { from: `http://${APP}`, allow: '*' },
        { from: `http://${OTHER}`, allow: '*' },
      ],
    });
    const s = stack;
    const jar = new CookieJar();
    expect((await signInViaHttp(s.url(APP, '/'), alice.email, alice.password, jar)).response.status).toBe(200);
    await s.op.stop();

    const api = await loopbackFetch(s.url(APP, '/during-outage'), { headers: { accept: 'application/json', cookie: jar.header(new URL(s.url(APP)))! } });
    expect(api.status).toBe(200);
    expect(s.upstream.received.at(-1)?.headers['x-iap-user']).toBe('u-alice');

    const sso = await signInViaHttp(s.url(OTHER, '/'), alice.email, alice.password, jar);
    expect(sso.submittedLogin).toBe(false);
    expect(sso.response.status).toBe(200);
    expect(sso.url.href).toBe(s.url(OTHER, '/'));

    // A browser without a session is sent to the provider, which is down: the callback never
    // comes, and Gatehouse's own pages keep answering.
    const portal = await loopbackFetch(`${s.authUrl}/`, { headers: { accept: 'text/html' } });
    expect(portal.status).toBe(200);
  });
});
