import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCookie } from '../../../src/auth/cookie.ts';
import { consumeHandoff } from '../../../src/auth/handoff.ts';
import { unseal } from '../../../src/auth/seal.ts';
import { createSession, sessionCookies } from '../../../src/auth/session.ts';
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

function start(rd: string, cookie?: string) {
  return http(stack.port, `${AUTH_HOST}:${stack.port}`, `/oauth2/start?rd=${encodeURIComponent(rd)}`, {
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
    const handed = consumeHandoff(stack.keys('handoff'), location.searchParams.get('token')!, 'app.example.com', Date.now());
    expect(handed).toMatchObject({ ok: true, returnTo: target });
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
