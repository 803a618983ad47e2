import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCookie } from '../../../src/auth/cookie.ts';
import { consumeHandoff, parseUsedHandoff } from '../../../src/auth/handoff.ts';
import { unseal } from '../../../src/auth/seal.ts';
import { createSession, sessionCookies } from '../../../src/auth/session.ts';
import { openMemoryState } from '../../../src/state/index.ts';
import { http } from '../../helpers/http.ts';
import { startAuthStack, type AuthStack } from './support.ts';
import { OPEN_REDIRECT_CORPUS } from '../../fixtures/open-redirects.ts';

/**
 * `/oauth2/start?rd=` with every payload of the open-redirect corpus: the browser must end at
 * the portal, never at a host Gatehouse does not serve. The known hosts match the corpus.
 */

const corpus = OPEN_REDIRECT_CORPUS;

const AUTH_HOST = 'auth.example.com';
let stack: AuthStack;
let portal: string;
let sessionCookie: string;

beforeAll(async () => {
  stack = await startAuthStack({
    users: [],
    authHost: AUTH_HOST,
    routes: [
      { from: 'http://app.example.com', allow: '*' },
      { from: 'http://files.example.net', allow: '*' },
      { from: 'http://xn--bcher-kva.example', allow: '*' },
      { from: 'http://[::1]', allow: '*' },
    ],
  });
  portal = `${stack.authUrl}/`;
  // A signed-in browser on the sign-in host, so /oauth2/start answers with its redirect at once.
  const now = Date.now();
  const session = createSession(
    { sub: 'u-alice', email: 'alice@example.com', emailVerified: true, name: 'Alice', groups: [], claims: {}, host: AUTH_HOST },
    { now, ttlMs: 3_600_000 },
  );
  const cookies = sessionCookies(session, { secure: false, keys: stack.keys('session'), now });
  if ('error' in cookies) throw new Error('session too large');
  sessionCookie = cookies.map((c) => c.split(';')[0]).join('; ');
});

afterAll(async () => {
  await stack?.close();
});

/** A browser binding as a route host's `/.iap/start` would send it. */
const BINDING = 'b'.repeat(43);

function start(rd: string, cookie?: string, bind: string | null = BINDING) {
  return http(stack.port, `${AUTH_HOST}:${stack.port}`, `/oauth2/start?rd=${encodeURIComponent(rd)}${bind === null ? '' : `&bind=${bind}`}`, {
    headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) },
  });
}

describe('open redirects through /oauth2/start', () => {
  it('has a corpus of at least 50 distinct payloads', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    expect(new Set(corpus).size).toBe(corpus.length);
  });

  it.each(corpus.map((payload) => [JSON.stringify(payload), payload]))('%s ends at the portal', async (_label, payload) => {
    const response = await start(payload, sessionCookie);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(portal);
  });

  it('hands a legitimate target over to its route host, keeping its port, path and query', async () => {
    const target = `http://app.example.com:${stack.port}/dashboard?tab=1`;
    const response = await start(target, sessionCookie);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.location as string);
    expect(location.origin).toBe(`http://app.example.com:${stack.port}`);
    expect(location.pathname).toBe('/.iap/callback');
    const used = openMemoryState().map('used-handoffs', { maxEntries: 10, parse: parseUsedHandoff });
    const place = { origin: `http://app.example.com:${stack.port}`, host: 'app.example.com', holds: (b: string) => b === BINDING };
    const handed = consumeHandoff(stack.keys('handoff'), location.searchParams.get('token')!, place, used, Date.now());
    expect(handed).toMatchObject({ ok: true, returnTo: target });
  });

  it.each([
    ['another port of a route host', (port: number) => `http://app.example.com:${port + 1}/`],
    ['the default port of a route host', () => 'http://app.example.com/'],
    ['https on a route host served over http', (port: number) => `https://app.example.com:${port + 1}/`],
    ['another port of the sign-in host', (port: number) => `http://${AUTH_HOST}:${port + 1}/`],
    ['https on the sign-in host', (port: number) => `https://${AUTH_HOST}:${port}/`],
  ])('sends %s to the portal, with no handoff token', async (_label, target) => {
    const response = await start(target(stack.port), sessionCookie);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(portal);
  });

  it("sends a target without the route host's binding through that host's own sign-in start first", async () => {
    const target = `http://app.example.com:${stack.port}/dashboard?tab=1`;
    const response = await start(target, sessionCookie, null);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://app.example.com:${stack.port}/.iap/start?rd=${encodeURIComponent(target)}`);
    const malformed = await start(target, sessionCookie, 'not-a-binding');
    expect(malformed.headers.location).toBe(`http://app.example.com:${stack.port}/.iap/start?rd=${encodeURIComponent(target)}`);
  });

  it('treats a redirect chain as an ordinary path on a known host', async () => {
    const target = `http://app.example.com:${stack.port}/oauth2/start?rd=//evil.com`;
    const response = await start(target, sessionCookie);
    const location = new URL(response.headers.location as string);
    expect(location.host).toBe(`app.example.com:${stack.port}`);
    expect(location.pathname).toBe('/.iap/callback');
  });

  it.each(['//evil.com', 'https://evil.com', 'http://app.example.com.evil.com/', 'javascript:alert(1)'])(
    'keeps the portal as the return address of a new sign-in for %s',
    async (payload) => {
      const response = await start(payload);
      expect(response.status).toBe(302);
      expect(new URL(response.headers.location as string).origin).toBe(stack.op.issuer);
      const setCookies = [response.headers['set-cookie'] ?? []].flat();
      const flowCookie = setCookies.map((c) => c.split(';')[0]!).find((c) => c.startsWith('gatehouse_flow_'))!;
      const name = flowCookie.slice(0, flowCookie.indexOf('='));
      const flow = unseal(stack.keys('flow'), getCookie(flowCookie, name)!, Date.now());
      expect(flow?.returnTo).toBe(portal);
    },
  );

  it('answers the portal itself on the sign-in host', async () => {
    const response = await http(stack.port, `${AUTH_HOST}:${stack.port}`, '/', { headers: { accept: 'text/html', cookie: sessionCookie } });
    expect(response.status).toBe(200);
    expect(response.body).toContain('alice@example.com');
  });
});
