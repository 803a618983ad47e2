import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from './support.ts';

/**
 * Each kind of policy entry against users signed in through a real provider, which releases
 * email and groups only through UserInfo. `email_verified: false` must make email and domain
 * entries miss, while group and user entries still apply.
 */

const carol: TestUser = { sub: 'u-carol', email: 'Carol@Example.test', name: 'Carol C', groups: ['ops'], password: 'carol-pw' };
const dave: TestUser = { sub: 'u-dave', email: 'dave@example.test', emailVerified: false, name: 'Dave', groups: 'ops contractors', password: 'dave-pw' };
const erin: TestUser = { sub: 'u-erin', email: 'erin@default.test', name: 'Erin', groups: [], password: 'erin-pw' };

const ROUTES = {
  email: { allow: 'carol@example.test, dave@example.test' },
  domain: { allow: '@example.test' },
  group: { allow: 'group:ops' },
  claim: { allow: 'claim:name=Carol C' },
  user: { allow: 'user:u-carol, user:u-dave' },
  deny: { allow: '*', deny: 'group:contractors' },
  fallback: {},
} as const;
type RouteName = keyof typeof ROUTES;
const host = (name: RouteName) => `${name}.rules.gh.localhost`;

const EXPECTED: Record<string, Record<RouteName, number>> = {
  carol: { email: 200, domain: 200, group: 200, claim: 200, user: 200, deny: 200, fallback: 403 },
  dave: { email: 403, domain: 403, group: 200, claim: 403, user: 200, deny: 403, fallback: 403 },
  erin: { email: 403, domain: 403, group: 403, claim: 403, user: 403, deny: 200, fallback: 200 },
};

let stack: AuthStack;

beforeAll(async () => {
  stack = await startAuthStack({
    users: [carol, dave, erin],
    routes: (Object.keys(ROUTES) as RouteName[]).map((name) => ({ from: `http://${host(name)}`, name, ...ROUTES[name] })),
    env: { GATEHOUSE_DEFAULT_ALLOW: '@default.test' },
  });
});

afterAll(async () => {
  await stack?.close();
});

describe.each([
  ['carol', carol],
  ['dave', dave],
  ['erin', erin],
] as const)('%s', (label, user) => {
  const jar = new CookieJar();
  it.each(Object.keys(ROUTES) as RouteName[])('the %s route', async (name) => {
    const result = await signInViaHttp(stack.url(host(name), '/'), user.email, user.password, jar);
    expect(result.response.status, result.body.slice(0, 200)).toBe(EXPECTED[label]![name]);
    if (result.response.status === 403) {
      expect(result.body).toContain(user.email);
      // The page names the user; nothing of the route's rules may show besides that.
      const page = result.body.toLowerCase().replaceAll(user.email.toLowerCase(), '');
      for (const rule of ['group:', 'claim:', 'user:', '@default.test', '@example.test', 'contractors']) expect(page).not.toContain(rule);
    }
  });
});

describe('the deciding entry is logged', () => {
  it('names the deny entry that refused dave', () => {
    const line = stack.gh.logs.filter((l) => l.msg === 'access denied' && l.sub === 'u-dave' && l.reason === 'denied').at(-1);
    expect(line).toMatchObject({ entry: 'group:contractors', user: 'dave@example.test' });
  });

  it('names the default allow entry that let erin in', () => {
    const line = stack.gh.logs.filter((l) => l.msg === 'access allowed' && l.sub === 'u-erin' && String(l.route).endsWith('#6')).at(-1);
    expect(line).toMatchObject({ entry: '@default.test', reason: 'allowed' });
  });

  it('shows email_verified=false on the user page', async () => {
    const jar = new CookieJar();
    await signInViaHttp(stack.url(host('group'), '/'), dave.email, dave.password, jar);
    const result = await signInViaHttp(stack.url(host('group'), '/.iap/user'), dave.email, dave.password, jar);
    expect(JSON.parse(result.body)).toMatchObject({ email: 'dave@example.test', emailVerified: false, groups: ['ops', 'contractors'] });
  });
});
