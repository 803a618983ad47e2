import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from './support.ts';

/**
 * A browser that never keeps the app host's session cookie (as with an https route opened over
 * http, or blocked cookies) would bounce between the app and the sign-in host forever.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: [], password: 'alice-pw' };
const APP = 'app.loop.gh.localhost';

/** Drops every session cookie the app host sets; keeps everything else. */
class SessionDroppingJar extends CookieJar {
  dropping = true;

  override store(url: URL, setCookieHeaders: readonly string[]): string[] {
    const drop = this.dropping && url.hostname === APP;
    const kept = drop ? setCookieHeaders.filter((header) => !header.startsWith('gatehouse_session')) : setCookieHeaders;
    return super.store(url, kept);
  }
}

let stack: AuthStack;

beforeAll(async () => {
  stack = await startAuthStack({ users: [alice], routes: [{ from: `http://${APP}`, allow: '*' }] });
});

afterAll(async () => {
  await stack?.close();
});

describe('redirect-loop breaker', () => {
  it('shows an error page after three round trips for the same URL instead of redirecting again', async () => {
    const target = stack.url(APP, '/loop?x=1');
    const result = await signInViaHttp(target, alice.email, alice.password, new SessionDroppingJar(), { maxRedirects: 60 });
    expect(result.response.status).toBe(400);
    expect(result.body).toContain('Sign-in did not stick');
    expect(result.body).toContain('cookies');
    const visitsToTarget = result.visited.filter((url) => url.href === target);
    expect(visitsToTarget).toHaveLength(4);
    // Only the first round trip needed the provider's login form; the rest were single sign-on.
    expect(result.submittedLogin).toBe(true);
    expect(stack.upstream.received.some((request) => request.url === '/loop?x=1')).toBe(false);
  });

  it('starts counting afresh after the error page, so "Try again" works once cookies stick', async () => {
    const target = stack.url(APP, '/retry');
    const jar = new SessionDroppingJar();
    const looped = await signInViaHttp(target, alice.email, alice.password, jar, { maxRedirects: 60 });
    expect(looped.response.status).toBe(400);
    jar.dropping = false;
    const retried = await signInViaHttp(target, alice.email, alice.password, jar);
    expect(retried.response.status).toBe(200);
    expect(retried.url.href).toBe(target);
    expect(retried.submittedLogin).toBe(false);
  });
});
