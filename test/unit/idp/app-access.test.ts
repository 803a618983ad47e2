import { describe, expect, it } from 'vitest';
import { createAppAccounts } from '../../../src/idp/app-accounts.ts';
import { appAccess } from '../../../src/idp/app-interaction.ts';
import type { Identity } from '../../../src/policy/index.ts';
import type { Route } from '../../../src/routes/index.ts';

const alice: Identity = { sub: 'u-alice', email: 'alice@example.com', emailVerified: true, name: 'Alice', groups: ['staff'], claims: {} };
const bob: Identity = { ...alice, sub: 'u-bob', email: 'bob@example.com', groups: ['guests'] };
const NONE = { public: false, allow: [], deny: [], bypass: [], corsPreflight: false };
const route = (policy: Partial<Route['policy']>): Route => ({ path: '/', policy: { ...NONE, ...policy } }) as unknown as Route;

describe("who may sign in to an app: its container's access rules", () => {
  it('lets in whom iap.allow names and keeps out whom iap.deny names, deny first', () => {
    const r = route({ allow: [{ kind: 'group', group: 'staff' }, { kind: 'email', email: 'bob@example.com' }], deny: [{ kind: 'email', email: 'bob@example.com' }] });
    expect(appAccess(r, alice, [])).toMatchObject({ allow: true, entry: 'group:staff' });
    expect(appAccess(r, bob, [])).toMatchObject({ allow: false, reason: 'denied', entry: 'bob@example.com' });
  });

  it('ignores bypass rules and CORS preflights, which open paths to nobody, not the sign-in', () => {
    const r = route({ allow: [{ kind: 'group', group: 'staff' }], bypass: [{ method: null, path: '/' }], corsPreflight: true });
    expect(appAccess(r, bob, [])).toMatchObject({ allow: false, reason: 'not_allowed' });
  });

  it('admits every signed-in user to a public route, and falls back to the default allow list, else nobody', () => {
    expect(appAccess(route({ public: true }), bob, [])).toMatchObject({ allow: true, reason: 'public' });
    expect(appAccess(route({}), bob, [{ kind: 'domain', domain: 'example.com' }])).toMatchObject({ allow: true });
    expect(appAccess(route({}), bob, [])).toMatchObject({ allow: false, reason: 'no_rule' });
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
