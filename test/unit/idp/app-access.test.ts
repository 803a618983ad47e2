import { describe, expect, it } from 'vitest';
import { createAppAccounts } from '../../../src/idp/app-accounts.ts';
import { appAccess } from '../../../src/idp/app-interaction.ts';
import type { Identity, SignInFacts } from '../../../src/policy/index.ts';
import type { SignedInUser } from '../../../src/idp/app-interaction.ts';
import type { Route } from '../../../src/routes/index.ts';

const alice: Identity = { sub: 'u-alice', email: 'alice@example.com', emailVerified: true, name: 'Alice', groups: ['staff'], claims: {} };
const bob: Identity = { ...alice, sub: 'u-bob', email: 'bob@example.com', groups: ['guests'] };
const NONE = { public: false, allow: [], deny: [], bypass: [], corsPreflight: false };
const OPEN_ACCESS = { providers: [], mfa: false, maxAgeMs: null, networks: [], trustedNetworks: [] };
const route = (policy: Partial<Route['policy']>, access: Partial<Route['access']> = {}): Route =>
  ({ path: '/', policy: { ...NONE, ...policy }, access: { ...OPEN_ACCESS, ...access } }) as unknown as Route;
/** Signed in with a password at `local`, at time 1000 s. */
const as = (identity: Identity, facts: Partial<SignInFacts> = {}): SignedInUser => ({ identity, facts: { provider: 'local', mfa: false, authTime: 1000, ...facts } });
const at = (clientIp: string | null, nowSeconds = 1000) => ({ clientIp, now: nowSeconds * 1000 });

describe("who may sign in to an app: its container's access rules", () => {
  it('lets in whom iap.allow names and keeps out whom iap.deny names, deny first', () => {
    const r = route({ allow: [{ kind: 'group', group: 'staff' }, { kind: 'email', email: 'bob@example.com' }], deny: [{ kind: 'email', email: 'bob@example.com' }] });
    expect(appAccess(r, as(alice), [])).toMatchObject({ allow: true, entry: 'group:staff' });
    expect(appAccess(r, as(bob), [])).toMatchObject({ allow: false, reason: 'denied', entry: 'bob@example.com' });
  });

  it('ignores bypass rules and CORS preflights, which open paths to nobody, not the sign-in', () => {
    const r = route({ allow: [{ kind: 'group', group: 'staff' }], bypass: [{ method: null, path: '/' }], corsPreflight: true });
    expect(appAccess(r, as(bob), [])).toMatchObject({ allow: false, reason: 'not_allowed' });
  });

  it('admits every signed-in user to a public route, and falls back to the default allow list, else nobody', () => {
    expect(appAccess(route({ public: true }), as(bob), [])).toMatchObject({ allow: true, reason: 'public' });
    expect(appAccess(route({}), as(bob), [{ kind: 'domain', domain: 'example.com' }])).toMatchObject({ allow: true });
    expect(appAccess(route({}), as(bob), [])).toMatchObject({ allow: false, reason: 'no_rule' });
  });
});

describe("an app's sign-in meets the route's networks and sign-in requirements, as its own address does", () => {
  const staff = { allow: [{ kind: 'group' as const, group: 'staff' }] };

  it('refuses a client outside the networks, and lets no trusted network stand in for the user', () => {
    const limited = route(staff, { networks: ['192.168.1.0/24'] });
    expect(appAccess(limited, as(alice), [], at('10.0.0.7'))).toMatchObject({ allow: false, reason: 'network' });
    expect(appAccess(limited, as(alice), [], at(null))).toMatchObject({ allow: false, reason: 'network' });
    expect(appAccess(limited, as(alice), [], at('192.168.1.20'))).toMatchObject({ allow: true, entry: 'group:staff' });
    // A trusted network lets nobody in particular through a route, never into an app's sign-in.
    expect(appAccess(route(staff, { trustedNetworks: ['10.0.0.0/8'] }), as(bob), [], at('10.0.0.7'))).toMatchObject({ allow: false, reason: 'not_allowed' });
  });

  it('refuses a session without a second factor, too old, or from another provider where the route asks for one', () => {
    expect(appAccess(route(staff, { mfa: true }), as(alice), [], at(null))).toMatchObject({ allow: false, reason: 'not_allowed', entry: 'sign-in does not meet mfa' });
    expect(appAccess(route(staff, { mfa: true }), as(alice, { mfa: true }), [], at(null))).toMatchObject({ allow: true });
    expect(appAccess(route(staff, { maxAgeMs: 60_000 }), as(alice), [], at(null, 1000 + 61))).toMatchObject({ allow: false, entry: 'sign-in does not meet max_age' });
    expect(appAccess(route(staff, { maxAgeMs: 60_000 }), as(alice), [], at(null, 1000 + 59))).toMatchObject({ allow: true });
    expect(appAccess(route(staff, { providers: ['corp'] }), as(alice), [], at(null))).toMatchObject({ allow: false, entry: 'sign-in does not meet providers' });
    expect(appAccess(route(staff, { providers: ['corp'] }), as(alice, { provider: 'corp' }), [], at(null))).toMatchObject({ allow: true });
  });

  it('decides provider: and ip: entries with what the session and the request say', () => {
    const r = route({ allow: [{ kind: 'provider', provider: 'corp' }, { kind: 'ip', network: '192.168.1.0/24' }] });
    expect(appAccess(r, as({ ...bob, provider: 'corp' }), [], at(null))).toMatchObject({ allow: true, entry: 'provider:corp' });
    expect(appAccess(r, as(bob), [], at('192.168.1.9'))).toMatchObject({ allow: true, entry: 'ip:192.168.1.0/24' });
    expect(appAccess(r, as(bob), [], at('10.1.1.1'))).toMatchObject({ allow: false, reason: 'not_allowed' });
  });
});

describe('the claims kept for issued tokens', () => {
  it('keeps the latest identity per subject until it expires, and the oldest subject goes first when full', () => {
    let now = 0;
    const accounts = createAppAccounts({ ttlMs: 1000, maxEntries: 2, now: () => now });
    accounts.remember(alice);
    accounts.remember({ ...alice, groups: ['staff', 'admins'] });
    expect(accounts.find('u-alice')?.groups).toEqual(['staff', 'admins']);
    accounts.remember(bob);
    accounts.remember({ ...bob, sub: 'u-carol' });
    expect(accounts.find('u-alice')).toBeUndefined();
    expect(accounts.find('u-bob')).toBeDefined();
    now = 1000;
    expect(accounts.find('u-bob')).toBeUndefined();
  });
});
