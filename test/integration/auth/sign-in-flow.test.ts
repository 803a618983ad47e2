import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import { http } from '../../helpers/http.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { logsWith, startAuthStack, type AuthStack } from './support.ts';

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice Example', groups: ['admins', 'staff'], password: 'alice-pw' };
const bob: TestUser = { sub: 'u-bob', email: 'bob@example.test', name: 'Bob', groups: ['staff'], password: 'bob-pw' };

const APP = 'app.flow.gh.localhost';
const OTHER = 'other.flow.gh.localhost';
const ADMIN = 'admin.flow.gh.localhost';
const PUBLIC = 'public.flow.gh.localhost';
const JWT_ONLY = 'jwt.flow.gh.localhost';
const NO_IDENTITY = 'none.flow.gh.localhost';

let stack: AuthStack;

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice, bob],
    routes: [
      { from: `http://${APP}`, allow: '*', name: 'App', header: { 'X-Who': 'user={user} email={email} groups={groups}' } },
      { from: `http://${OTHER}`, allow: '@example.test', name: 'Other' },
      { from: `http://${ADMIN}`, allow: 'group:admins', name: 'Admin' },
      { from: `http://${PUBLIC}`, public: 'true', name: 'Public' },
      { from: `http://${JWT_ONLY}`, allow: '*', identity: 'jwt', name: 'Jwt' },
      { from: `http://${NO_IDENTITY}`, allow: '*', identity: 'none', name: 'None' },
    ],
  });
});

afterAll(async () => {
  await stack?.close();
});

const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function signIn(user: TestUser, start: string, jar = new CookieJar()) {
  const result = await signInViaHttp(start, user.email, user.password, jar);
  return result;
}

function lastReceived(host: string) {
  const request = stack.upstream.received.filter((r) => r.headers.host?.startsWith(host)).at(-1);
  expect(request, `the upstream saw no request for ${host}`).toBeDefined();
  return request!;
}

describe('requests without a session', () => {
  it("sends a browser navigation to the route host's own sign-in start (one hop) with the original URL, port, path and query", async () => {
    const response = await loopbackFetch(stack.url(APP, '/reports/2024?tab=summary&x=%2F'), { headers: { accept: browserAccept } });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(new URL(stack.url(APP, '/')).origin);
    expect(location.pathname).toBe('/.iap/start');
    expect(location.searchParams.get('rd')).toBe(stack.url(APP, '/reports/2024?tab=summary&x=%2F'));
    expect(stack.upstream.received.some((r) => r.url.startsWith('/reports/2024'))).toBe(false);
  });

  it.each([
    ['an Accept header without text/html', { method: 'GET', headers: { accept: 'application/json' } }],
    ['no Accept header', { method: 'GET', headers: {} }],
    ['a POST', { method: 'POST', headers: { accept: browserAccept, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }],
    ['X-Requested-With', { method: 'GET', headers: { accept: browserAccept, 'x-requested-with': 'XMLHttpRequest' } }],
    ['a fetch() from a page (Sec-Fetch-Mode: cors)', { method: 'GET', headers: { accept: browserAccept, 'sec-fetch-mode': 'cors' } }],
  ])('answers %s with 401 JSON and WWW-Authenticate', async (_label, init) => {
    const response = await loopbackFetch(stack.url(APP, '/api/items'), init);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="gatehouse"/);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('sign_in_required');
    expect(String(body.signIn)).toBe(`${new URL(stack.url(APP, '/')).origin}/.iap/start?rd=${encodeURIComponent(stack.url(APP, '/api/items'))}`);
  });

  it('refuses a websocket upgrade with 401 before contacting the upstream', async () => {
    const before = stack.upstream.websocketHandshakes.length;
    const response = await http(stack.port, `${APP}:${stack.port}`, '/socket', {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', accept: browserAccept },
    });
    expect(response.status).toBe(401);
    expect(stack.upstream.websocketHandshakes.length).toBe(before);
  });

  it('lets public routes through without a session and without identity headers', async () => {
    const response = await loopbackFetch(stack.url(PUBLIC, '/'), { headers: { accept: 'application/json', 'x-iap-user': 'mallory', 'x-iap-email': 'boss@example.test' } });
    expect(response.status).toBe(200);
    const seen = lastReceived(PUBLIC);
    expect(seen.headers['x-iap-user']).toBeUndefined();
    expect(seen.headers['x-iap-email']).toBeUndefined();
    expect(seen.headers['x-iap-jwt-assertion']).toBeUndefined();
  });

  it('logs the decision with the route and reason', () => {
    const lines = logsWith(stack.gh, 'sign-in required');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ route: expect.stringContaining('file:'), reason: 'sign_in_required' });
  });
});

describe('signing in over HTTP', () => {
  const jar = new CookieJar();

  it('lands on the original URL after the provider login, with identity headers upstream', async () => {
    const result = await signIn(alice, stack.url(APP, '/deep/page?q=1&r=two'), jar);
    expect(result.submittedLogin).toBe(true);
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(stack.url(APP, '/deep/page?q=1&r=two'));
    const hosts = result.visited.map((url) => url.host);
    expect(hosts).toContain(new URL(stack.authUrl).host);
    expect(result.visited.some((url) => url.pathname === '/.iap/callback' && url.hostname === APP)).toBe(true);

    const seen = lastReceived(APP);
    expect(seen.url).toBe('/deep/page?q=1&r=two');
    expect(seen.headers['x-iap-user']).toBe('u-alice');
    expect(seen.headers['x-iap-email']).toBe('alice@example.test');
    expect(seen.headers['x-iap-groups']).toBe('admins,staff');
    expect(seen.headers['x-iap-name']).toBe('Alice Example');
    expect(seen.headers['x-iap-jwt-assertion']).toMatch(/^ey/);
    expect(seen.headers['x-who']).toBe('user=u-alice email=alice@example.test groups=admins,staff');
  });

  it('sets a host-only, HttpOnly, SameSite=Lax session cookie on each host (plain names on http routes)', () => {
    const appCookie = jar.get('gatehouse_session', new URL(stack.url(APP)));
    expect(appCookie).toMatchObject({ hostOnly: true, httpOnly: true, sameSite: 'lax', path: '/', secure: false, domain: APP });
    const authCookie = jar.get('gatehouse_session', new URL(stack.authUrl));
    expect(authCookie).toMatchObject({ hostOnly: true, httpOnly: true, domain: new URL(stack.authUrl).hostname });
    // The flow cookie was single use.
    expect(jar.all().filter((c) => c.name.startsWith('gatehouse_flow_'))).toEqual([]);
  });

  it('signs in to a second route host without a second prompt (single sign-on)', async () => {
    const result = await signIn(alice, stack.url(OTHER, '/welcome'), jar);
    expect(result.submittedLogin).toBe(false);
    expect(result.response.status).toBe(200);
    expect(result.url.href).toBe(stack.url(OTHER, '/welcome'));
    expect(lastReceived(OTHER).headers['x-iap-email']).toBe('alice@example.test');
  });

  it('answers a signed-in API request directly', async () => {
    const response = await loopbackFetch(stack.url(APP, '/api/me'), { headers: { accept: 'application/json', cookie: jar.header(new URL(stack.url(APP)))! } });
    expect(response.status).toBe(200);
    expect(lastReceived(APP).headers['x-iap-user']).toBe('u-alice');
  });

  it('refuses a user the rule does not allow with a 403 page that names the user and not the rule', async () => {
    const bobJar = new CookieJar();
    const result = await signIn(bob, stack.url(ADMIN, '/'), bobJar);
    expect(result.response.status).toBe(403);
    expect(result.body).toContain('bob@example.test');
    expect(result.body).toContain('/.iap/sign_out');
    expect(result.body).not.toContain('admins');
    expect(result.body).not.toContain('group:');
    expect(stack.upstream.received.some((r) => r.headers.host?.startsWith(ADMIN) && r.headers['x-iap-user'] === 'u-bob')).toBe(false);
    const denied = logsWith(stack.gh, 'access denied').at(-1);
    expect(denied).toMatchObject({ user: 'bob@example.test', sub: 'u-bob', reason: 'not_allowed', allow: false });

    const json = await loopbackFetch(stack.url(ADMIN, '/'), { headers: { accept: 'application/json', cookie: bobJar.header(new URL(stack.url(ADMIN)))! } });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ error: 'access_denied', user: 'bob@example.test' });
  });

  it('lets a group member in and logs the deciding entry', async () => {
    const result = await signIn(alice, stack.url(ADMIN, '/panel'), jar);
    expect(result.response.status).toBe(200);
    expect(result.submittedLogin).toBe(false);
    const allowed = logsWith(stack.gh, 'access allowed').filter((line) => line.path === '/panel').at(-1);
    expect(allowed).toMatchObject({ user: 'alice@example.test', reason: 'allowed', entry: 'group:admins' });
  });

  it('sends only the assertion for identity=jwt and nothing for identity=none', async () => {
    await signIn(alice, stack.url(JWT_ONLY, '/'), jar);
    const jwtOnly = lastReceived(JWT_ONLY);
    expect(jwtOnly.headers['x-iap-jwt-assertion']).toMatch(/^ey/);
    expect(jwtOnly.headers['x-iap-user']).toBeUndefined();
    expect(jwtOnly.headers['x-iap-email']).toBeUndefined();

    await signIn(alice, stack.url(NO_IDENTITY, '/'), jar);
    const none = lastReceived(NO_IDENTITY);
    expect(Object.keys(none.headers).filter((name) => name.startsWith('x-iap-'))).toEqual([]);
  });

  it('issues an assertion that verifies against the JWKS with aud = route host and iss = the sign-in URL', async () => {
    const token = lastReceived(APP).headers['x-iap-jwt-assertion'] as string;
    for (const host of [APP, new URL(stack.authUrl).hostname]) {
      const response = await loopbackFetch(stack.url(host, '/.well-known/iap/jwks.json'));
      expect(response.status).toBe(200);
      const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(jwks.keys[0]).not.toHaveProperty('d');
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
        issuer: stack.authUrl,
        audience: APP,
        algorithms: ['ES256'],
      });
      expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid);
      expect(payload).toMatchObject({ sub: 'u-alice', email: 'alice@example.test', groups: ['admins', 'staff'], name: 'Alice Example' });
      expect(Number.isInteger(payload.iat) && Number.isInteger(payload.exp)).toBe(true);
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(typeof payload.jti).toBe('string');
      expect(typeof payload.sid).toBe('string');
    }
    const jwks = (await (await loopbackFetch(stack.url(APP, '/.well-known/iap/jwks.json'))).json()) as never;
    await expect(jwtVerify(token, createLocalJWKSet(jwks), { issuer: stack.authUrl, audience: OTHER })).rejects.toThrow(/aud/);
    const otherToken = lastReceived(OTHER).headers['x-iap-jwt-assertion'] as string;
    expect(decodeJwt(otherToken).aud).toBe(OTHER);
  });

  it('reuses the cached assertion for repeat requests of one session', async () => {
    const cookie = jar.header(new URL(stack.url(APP)))!;
    await loopbackFetch(stack.url(APP, '/one'), { headers: { accept: 'application/json', cookie } });
    const first = lastReceived(APP).headers['x-iap-jwt-assertion'];
    await loopbackFetch(stack.url(APP, '/two'), { headers: { accept: 'application/json', cookie } });
    expect(lastReceived(APP).headers['x-iap-jwt-assertion']).toBe(first);
  });
});

describe('who am I', () => {
  it('shows the user at /.iap/ (HTML and JSON) and /.iap/user, and nothing without a session', async () => {
    const jar = new CookieJar();
    await signIn(alice, stack.url(APP, '/'), jar);
    const cookie = jar.header(new URL(stack.url(APP)))!;
    const page = await loopbackFetch(stack.url(APP, '/.iap/'), { headers: { accept: browserAccept, cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('alice@example.test');
    expect(text).toContain('/.iap/sign_out');
    const asJson = await loopbackFetch(stack.url(APP, '/.iap/'), { headers: { accept: 'application/json', cookie } });
    expect(await asJson.json()).toMatchObject({ sub: 'u-alice', email: 'alice@example.test', groups: ['admins', 'staff'] });
    const user = await loopbackFetch(stack.url(APP, '/.iap/user'), { headers: { cookie } });
    const body = await user.text();
    expect(JSON.parse(body)).toMatchObject({ sub: 'u-alice', name: 'Alice Example', emailVerified: true });
    expect(body).not.toMatch(/id_token|access_token|eyJ/);
    const anonymous = await loopbackFetch(stack.url(APP, '/.iap/user'));
    expect(anonymous.status).toBe(401);
    // Served on public routes too, before route matching.
    const publicHost = await loopbackFetch(stack.url(PUBLIC, '/.iap/user'));
    expect(publicHost.status).toBe(401);
    expect(stack.upstream.received.some((r) => r.url.startsWith('/.iap'))).toBe(false);
  });

  it('lists the apps the user may open on the sign-in portal', async () => {
    const jar = new CookieJar();
    await signIn(bob, stack.url(OTHER, '/'), jar);
    const portal = await loopbackFetch(`${stack.authUrl}/`, { headers: { accept: 'application/json', cookie: jar.header(new URL(stack.authUrl))! } });
    const body = (await portal.json()) as { apps: Array<{ name: string; url: string }> };
    const names = body.apps.map((app) => app.name);
    expect(names).toEqual(expect.arrayContaining(['App', 'Other', 'Public']));
    expect(names).not.toContain('Admin');
    expect(body.apps.find((app) => app.name === 'Other')?.url).toBe(stack.url(OTHER, '/'));
  });
});

describe('readiness', () => {
  it('reports the provider state in the admin /readyz detail', async () => {
    const response = await http(stack.gh.adminPort, 'localhost', '/readyz');
    const body = JSON.parse(response.body) as { identity?: Record<string, unknown> };
    expect(body.identity).toMatchObject({ provider: 'ready', authUrl: stack.authUrl, issuer: stack.op.issuer });
  });
});
