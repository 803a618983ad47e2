import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { CookieJar, loopbackFetch, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from './support.ts';

/** A user in 300 groups: the session no longer fits one cookie and is split into numbered chunks. */

const groups = Array.from({ length: 300 }, (_, i) => `team-${String(i).padStart(3, '0')}-engineering`);
const frank: TestUser = { sub: 'u-frank', email: 'frank@example.test', name: 'Frank', groups, password: 'frank-pw' };
const APP = 'app.groups.gh.localhost';
const LAST = 'last.groups.gh.localhost';

let stack: AuthStack;
const jar = new CookieJar();

beforeAll(async () => {
  stack = await startAuthStack({
    users: [frank],
    routes: [
      { from: `http://${APP}`, allow: 'group:team-000-engineering' },
      { from: `http://${LAST}`, allow: 'group:team-299-engineering' },
    ],
  });
});

afterAll(async () => {
  await stack?.close();
});

describe('large group lists', () => {
  it('signs in, with the session split into chunks on the sign-in host and the route host', async () => {
    const result = await signInViaHttp(stack.url(APP, '/big'), frank.email, frank.password, jar);
    expect(result.response.status).toBe(200);
    for (const url of [new URL(stack.authUrl), new URL(stack.url(APP))]) {
      const names = jar.matching(url).map((cookie) => cookie.name).filter((name) => name.startsWith('gatehouse_session'));
      expect(names.length).toBeGreaterThan(1);
      expect(names.every((name) => /^gatehouse_session\.\d$/.test(name))).toBe(true);
      for (const cookie of jar.matching(url)) expect(cookie.name.length + cookie.value.length).toBeLessThan(4_000);
    }
  });

  it('gives the upstream every group, in the headers and in the assertion, and none of the chunks', async () => {
    const seen = stack.upstream.received.filter((r) => r.url === '/big').at(-1)!;
    expect(seen.headers['x-iap-groups']).toBe(groups.join(','));
    expect((decodeJwt(seen.headers['x-iap-jwt-assertion'] as string).groups as string[]).length).toBe(300);
    expect(seen.headers.cookie).toBeUndefined();
  });

  it('matches a group at the end of the list, single sign-on included', async () => {
    const result = await signInViaHttp(stack.url(LAST, '/'), frank.email, frank.password, jar);
    expect(result.submittedLogin).toBe(false);
    expect(result.response.status).toBe(200);
  });

  it('keeps working on repeat requests carrying the chunked cookie', async () => {
    const response = await loopbackFetch(stack.url(APP, '/again'), { headers: { accept: 'application/json', cookie: `${jar.header(new URL(stack.url(APP)))}; app=1` } });
    expect(response.status).toBe(200);
    expect(stack.upstream.received.at(-1)?.headers.cookie).toBe('app=1');
  });
});
