import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal, unseal } from '../../../src/auth/seal.ts';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { logsWith, startAuthStack, type AuthStack } from './support.ts';

/**
 * `/oauth2/callback` against a real provider: the flow cookie binds `state`, `nonce` and the
 * PKCE verifier to this browser; every tampering ends in a 400 page and no session.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: ['staff'], password: 'alice-pw' };
const APP = 'app.callback.gh.localhost';

let stack: AuthStack;

beforeAll(async () => {
  stack = await startAuthStack({ users: [alice], routes: [{ from: `http://${APP}`, allow: '*' }] });
});

afterAll(async () => {
  await stack?.close();
});

interface PendingSignIn {
  jar: CookieJar;
  callback: URL;
  flowCookie: { name: string; value: string };
}

/** Starts a sign-in and logs in at the provider, stopping before the callback is requested. */
async function pendingSignIn(jar = new CookieJar()): Promise<PendingSignIn> {
  const start = await loopbackFetch(`${stack.authUrl}/oauth2/start?rd=${encodeURIComponent(stack.url(APP, '/after'))}&bind=${'b'.repeat(43)}`, { headers: { accept: 'text/html' } });
  expect(start.status).toBe(302);
  jar.store(new URL(stack.authUrl), start.headers.getSetCookie());
  const provider = start.headers.get('location')!;
  const authorize = new URL(provider);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  const result = await signInViaHttp(provider, alice.email, alice.password, jar, { stopAt: (url) => url.pathname === '/oauth2/callback' });
  expect(result.url.pathname).toBe('/oauth2/callback');
  const flow = jar.all().find((cookie) => cookie.name.startsWith('gatehouse_flow_'))!;
  return { jar, callback: result.url, flowCookie: { name: flow.name, value: flow.value } };
}

async function callback(url: URL | string, cookie: string | undefined) {
  return loopbackFetch(url, { headers: { accept: 'text/html', ...(cookie === undefined ? {} : { cookie }) } });
}

function sessionSet(response: Response): boolean {
  return response.headers.getSetCookie().some((cookie) => cookie.startsWith('gatehouse_session') && !/Max-Age=0/.test(cookie));
}

async function expectRefused(response: Response): Promise<void> {
  expect(response.status).toBe(400);
  expect(sessionSet(response)).toBe(false);
  expect(await response.text()).toContain('Sign-in failed');
}

function withParam(url: URL, name: string, value: string | null): URL {
  const copy = new URL(url);
  if (value === null) copy.searchParams.delete(name);
  else copy.searchParams.set(name, value);
  return copy;
}

function resealFlow(pending: PendingSignIn, change: (flow: Record<string, unknown>) => void): string {
  const flow = unseal(stack.keys('flow'), pending.flowCookie.value, Date.now())!;
  expect(flow).not.toBeNull();
  change(flow);
  return `${pending.flowCookie.name}=${seal(stack.keys('flow'), flow as { exp: number }, Date.now())}`;
}

describe('the sign-in callback', () => {
  it('completes with the untouched response (control) and clears the flow cookie', async () => {
    const pending = await pendingSignIn();
    const response = await callback(pending.callback, pending.jar.header(pending.callback));
    expect(response.status).toBe(302);
    expect(sessionSet(response)).toBe(true);
    expect(response.headers.getSetCookie().some((c) => c.startsWith(`${pending.flowCookie.name}=;`) && /Max-Age=0/.test(c))).toBe(true);
    // The cookies are set here; the handoff to the app host follows from /oauth2/start.
    const location = new URL(response.headers.get('location')!);
    expect(location.origin).toBe(stack.authUrl);
    expect(location.pathname).toBe('/oauth2/start');
    expect(location.searchParams.get('rd')).toBe(stack.url(APP, '/after'));
    pending.jar.store(pending.callback, response.headers.getSetCookie());
    const handoff = await callback(location, pending.jar.header(location));
    expect(handoff.status).toBe(302);
    expect(new URL(handoff.headers.get('location')!).host).toBe(`${APP}:${stack.port}`);
    expect(new URL(handoff.headers.get('location')!).pathname).toBe('/.iap/callback');

    // A browser that did not keep the cookie gets an error page instead of a loop through the provider.
    const dropped = await callback(location, undefined);
    expect(dropped.status).toBe(400);
    expect(await dropped.text()).toContain('Sign-in did not stick');
  });

  it('refuses a callback without state, or with an empty one', async () => {
    const pending = await pendingSignIn();
    await expectRefused(await callback(withParam(pending.callback, 'state', null), pending.jar.header(pending.callback)));
    await expectRefused(await callback(withParam(pending.callback, 'state', ''), pending.jar.header(pending.callback)));
    await expectRefused(await callback(`${stack.authUrl}/oauth2/callback`, undefined));
  });

  it('refuses a changed state', async () => {
    const pending = await pendingSignIn();
    const state = pending.callback.searchParams.get('state')!;
    await expectRefused(await callback(withParam(pending.callback, 'state', `${state.slice(0, -1)}${state.endsWith('a') ? 'b' : 'a'}`), pending.jar.header(pending.callback)));
  });

  it('refuses a callback in a browser that did not start the sign-in (login CSRF)', async () => {
    const pending = await pendingSignIn();
    await expectRefused(await callback(pending.callback, undefined));
    await expectRefused(await callback(pending.callback, 'gatehouse_flow_00000000=whatever'));
  });

  it('refuses a tampered flow cookie', async () => {
    const pending = await pendingSignIn();
    const value = pending.flowCookie.value;
    const tampered = `${pending.flowCookie.name}=${value.slice(0, 40)}${value[40] === 'A' ? 'B' : 'A'}${value.slice(41)}`;
    await expectRefused(await callback(pending.callback, tampered));
  });

  it('refuses a flow cookie whose nonce was swapped (the ID token nonce no longer matches)', async () => {
    const pending = await pendingSignIn();
    const cookie = resealFlow(pending, (flow) => {
      flow.nonce = 'attacker-chosen-nonce-0123456789abcdef';
    });
    await expectRefused(await callback(pending.callback, cookie));
    expect(logsWith(stack.gh, 'sign-in failed').at(-1)?.err).toMatch(/nonce/i);
  });

  it('refuses a flow cookie whose PKCE verifier was swapped (the provider refuses the code)', async () => {
    const pending = await pendingSignIn();
    const cookie = resealFlow(pending, (flow) => {
      flow.codeVerifier = 'x'.repeat(43);
    });
    await expectRefused(await callback(pending.callback, cookie));
    expect(logsWith(stack.gh, 'sign-in failed').at(-1)?.err).toMatch(/invalid_grant|code_verifier|PKCE/i);
  });

  it('refuses a changed code and a changed iss (RFC 9207)', async () => {
    const first = await pendingSignIn();
    await expectRefused(await callback(withParam(first.callback, 'code', 'forged-code'), first.jar.header(first.callback)));
    const second = await pendingSignIn();
    await expectRefused(await callback(withParam(second.callback, 'iss', 'https://evil.example'), second.jar.header(second.callback)));
  });

  it('refuses a replay of a completed callback', async () => {
    const pending = await pendingSignIn();
    const cookie = pending.jar.header(pending.callback);
    expect((await callback(pending.callback, cookie)).status).toBe(302);
    await expectRefused(await callback(pending.callback, cookie));
  });

  it('shows an error page (no loop) when the provider answers with an error', async () => {
    const pending = await pendingSignIn();
    const url = new URL(`${stack.authUrl}/oauth2/callback`);
    url.searchParams.set('error', 'access_denied');
    url.searchParams.set('state', pending.callback.searchParams.get('state')!);
    url.searchParams.set('iss', stack.op.issuer);
    const response = await callback(url, pending.jar.header(pending.callback));
    await expectRefused(response);
    expect(response.headers.getSetCookie().some((c) => c.startsWith(`${pending.flowCookie.name}=;`))).toBe(true);
  });

  it('keeps at most five sign-ins in progress per browser', async () => {
    const jar = new CookieJar();
    for (let i = 0; i < 8; i += 1) {
      const start = await loopbackFetch(`${stack.authUrl}/oauth2/start`, { headers: { accept: 'text/html', cookie: jar.header(new URL(stack.authUrl)) ?? '' } });
      jar.store(new URL(stack.authUrl), start.headers.getSetCookie());
    }
    expect(jar.all().filter((cookie) => cookie.name.startsWith('gatehouse_flow_'))).toHaveLength(5);
  });

  it('never logs codes, state or tokens', () => {
    const text = JSON.stringify(stack.gh.logs);
    expect(text).not.toMatch(/"(code|state|token|id_token|access_token)":"[^"[]/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./);
  });
});
