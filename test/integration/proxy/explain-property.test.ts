import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../../src/auth/session.ts';
import { http } from '../../helpers/http.ts';
import { loopbackFetch } from '../../helpers/http-sign-in.ts';
import { mintHandoff, startAuthStack, type AuthStack } from '../auth/support.ts';

/**
 * `gatehouse explain` against real requests: for generated identities, paths, methods and every
 * kind of rule, the running Gatehouse's /api/explain (what the command asks) must give the
 * decision a real request to the same Gatehouse gets. Sessions are real: sealed by a handoff
 * through /.iap/callback, as the sign-in host hands them over.
 */

const D = 'xp.gh.localhost';
const ROUTES = [
  { from: `http://email.${D}`, allow: 'alice@example.com' },
  { from: `http://domain.${D}`, allow: '@example.com' },
  { from: `http://group.${D}`, allow: 'group:staff' },
  { from: `http://claim.${D}`, allow: 'claim:role=admin' },
  { from: `http://user.${D}`, allow: 'user:u-bob' },
  { from: `http://any.${D}`, allow: '*', deny: 'group:banned' },
  { from: `http://deny.${D}`, allow: '@example.org', deny: 'mallory@example.com, @example.org' },
  { from: `http://public.${D}`, public: true },
  { from: `http://bypass.${D}`, allow: 'group:ops', bypass: 'GET /health, /share/' },
  { from: `http://default.${D}` },
  { from: `http://cors.${D}`, allow: 'group:ops', cors_preflight: true },
  { from: `http://paths.${D}`, path: '/admin', allow: 'group:admins' },
  { from: `http://paths.${D}`, allow: '*' },
  { from: `http://fa.${D}`, to: undefined, mode: 'forward_auth', allow: 'group:staff', deny: 'claim:role=intern' },
  // The client's network and the sign-in method: the address comes from X-Forwarded-For, which the trusted proxy (loopback) may set.
  { from: `http://net.${D}`, allow: '*', networks: '192.168.1.0/24, 2001:db8::/32' },
  { from: `http://trusted.${D}`, allow: 'group:staff', trusted_networks: '10.0.0.0/8' },
  { from: `http://ip.${D}`, allow: 'ip:192.168.1.0/24, group:ops', deny: 'ip:203.0.113.0/24' },
  { from: `http://prov.${D}`, allow: 'provider:corp', deny: 'provider:legacy' },
  // A Pomerium route: PPL rules about the user, the method and the client address, deny winning.
  {
    from: `http://ppl.${D}`,
    policy: [
      { allow: { and: [{ groups: { has: 'staff' } }, { http_method: { is: 'GET' } }] } },
      { allow: { or: [{ source_ip: '192.168.1.0/24' }] } },
      { deny: { or: [{ 'claim/role': 'intern' }, { not: [{ authenticated_user: true }, { source_ip: '10.0.0.0/8' }] }] } },
    ],
  },
];
const HOSTS = [...new Set(ROUTES.map((route) => new URL(route.from).hostname))];

let stack: AuthStack;

beforeAll(async () => {
  stack = await startAuthStack({
    users: [{ sub: 'u-alice', email: 'alice@example.com', name: 'Alice', groups: [], password: 'x' }],
    routes: ROUTES,
    env: { GATEHOUSE_DEFAULT_ALLOW: 'group:everyone', GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1' },
  });
});
afterAll(async () => {
  await stack?.close();
});

interface GeneratedIdentity {
  sub: string;
  email: string | null;
  groups: string[];
  role: string | null;
  provider: string | null;
}

const identity: fc.Arbitrary<GeneratedIdentity | null> = fc.option(
  fc.record({
    sub: fc.constantFrom('u-alice', 'u-bob', 'u-carol', 'u-mallory'),
    email: fc.option(fc.constantFrom('alice@example.com', 'bob@example.org', 'mallory@example.com', 'carol@other.net', 'ALICE@Example.com'), { nil: null }),
    groups: fc.subarray(['staff', 'ops', 'banned', 'admins', 'everyone']),
    role: fc.option(fc.constantFrom('admin', 'user', 'intern'), { nil: null }),
    provider: fc.option(fc.constantFrom('corp', 'local', 'legacy'), { nil: null }),
  }),
  { nil: null, freq: 4 },
);
const requestShape = fc.record({
  host: fc.constantFrom(...HOSTS),
  path: fc.constantFrom('/', '/health', '/health/x', '/share', '/share/a', '/admin', '/admin/x', '/administrator', '/other'),
  method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'DELETE'),
  preflight: fc.boolean(),
  // The client address the request comes from: loopback itself, or one a trusted proxy reports.
  ip: fc.constantFrom('127.0.0.1', '192.168.1.20', '10.0.0.7', '203.0.113.5', '2001:db8::5', '198.51.100.1'),
});

/** One sealed session cookie per (identity, host), minted once. */
const cookies = new Map<string, string>();
async function sessionCookie(who: GeneratedIdentity, host: string): Promise<string> {
  const key = `${JSON.stringify(who)} ${host}`;
  const cached = cookies.get(key);
  if (cached !== undefined) return cached;
  const session = createSession(
    { sub: who.sub, email: who.email, emailVerified: true, name: null, groups: who.groups, claims: who.role === null ? {} : { role: who.role }, host, ...(who.provider === null ? {} : { provider: who.provider }) },
    { now: Date.now(), ttlMs: 3_600_000 },
  );
  const { host: _host, ...handed } = session;
  const minted = mintHandoff(stack, { session: handed, returnTo: `http://${host}:${stack.port}/` });
  const response = await loopbackFetch(minted.url, { headers: { accept: 'text/html', cookie: minted.cookie } });
  expect(response.status).toBe(302);
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';', 1)[0] as string)
    .filter((pair) => pair.startsWith('gatehouse_session'))
    .join('; ');
  expect(cookie).not.toBe('');
  cookies.set(key, cookie);
  return cookie;
}

/** What a real request's status says about the decision. */
function observed(status: number, forwardAuthAnswer: number | null): string {
  // In forward-auth mode the decision is the endpoint's answer; the listener's 421 says nothing about it.
  if (forwardAuthAnswer !== null) return forwardAuthAnswer === 200 ? 'allow' : forwardAuthAnswer === 401 ? 'sign_in' : forwardAuthAnswer === 403 ? 'deny' : `status ${forwardAuthAnswer}`;
  return status === 200 ? 'allow' : status === 401 ? 'sign_in' : status === 403 ? 'deny' : status === 404 ? 'page' : `status ${status}`;
}

describe('gatehouse explain', () => {
  it('gives the decision a real request gets, for every rule kind', async () => {
    await fc.assert(
      fc.asyncProperty(identity, requestShape, async (who, shape) => {
        const params = new URLSearchParams({ url: `http://${shape.host}${shape.path}`, method: shape.method, ip: shape.ip });
        if (shape.preflight) {
          params.set('origin', 'https://elsewhere.example');
          params.set('request_method', 'PUT');
        }
        if (who !== null) {
          params.set('sub', who.sub);
          if (who.email !== null) params.set('user', who.email);
          for (const group of who.groups) params.append('groups', group);
          if (who.role !== null) params.append('claim', `role=${who.role}`);
          if (who.provider !== null) params.set('provider', who.provider);
        }
        const explained = await loopbackFetch(`http://127.0.0.1:${stack.gh.adminPort}/api/explain?${params}`);
        expect(explained.status).toBe(200);
        const explanation = (await explained.json()) as { outcome: string; status: number; route: { mode: string } | null };

        const headers: Record<string, string> = { accept: 'application/json' };
        if (shape.ip !== '127.0.0.1') headers['x-forwarded-for'] = shape.ip;
        if (who !== null) headers.cookie = await sessionCookie(who, shape.host);
        if (shape.preflight) {
          headers.origin = 'https://elsewhere.example';
          headers['access-control-request-method'] = 'PUT';
        }
        const real = await http(stack.port, `${shape.host}:${stack.port}`, shape.path, { method: shape.method, headers });
        const forwardAuth =
          explanation.route?.mode === 'forward_auth'
            ? await http(stack.port, `gatehouse:${stack.port}`, '/.iap/forward_auth', {
                headers: { ...headers, 'x-forwarded-host': `${shape.host}:${stack.port}`, 'x-forwarded-uri': shape.path, 'x-forwarded-method': shape.method },
              })
            : null;
        // The real request is an API client: a sign-in is its 401 where a browser gets a redirect.
        const context = JSON.stringify({ who, shape, explanation, real: real.status, forwardAuth: forwardAuth?.status });
        expect(observed(real.status, forwardAuth?.status ?? null), context).toBe(explanation.outcome);
        // Gatehouse's own listener never serves a forward_auth route, whatever the decision.
        if (forwardAuth !== null) expect(real.status, context).toBe(421);
        const answered = forwardAuth?.status ?? real.status;
        if (explanation.outcome !== 'sign_in') expect(answered, context).toBe(explanation.status);
      }),
      { numRuns: 200 },
    );
  });
});
