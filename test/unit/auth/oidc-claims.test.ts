import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeClaims, parseGroups, toSignedInUser, usedSecondFactor } from '../../../src/auth/oidc-claims.ts';

describe('parseGroups', () => {
  it.each([
    [{ groups: ['a', 'b'] }, 'groups', ['a', 'b']],
    [{ groups: 'a b  c' }, 'groups', ['a', 'b', 'c']],
    [{ groups: 'a,b, c' }, 'groups', ['a', 'b', 'c']],
    [{ groups: ['a', 'a', ' b ', '', 7, null, { x: 1 }] }, 'groups', ['a', 'b', '7']],
    [{ groups: 42 }, 'groups', []],
    [{}, 'groups', []],
    [{ realm_access: { roles: ['admin'] } }, 'realm_access.roles', ['admin']],
    [{ 'realm_access.roles': ['literal'], realm_access: { roles: ['nested'] } }, 'realm_access.roles', ['literal']],
    [{ realm_access: 'not-an-object' }, 'realm_access.roles', []],
    [{ roles: ['x'] }, 'groups', []],
  ])('%j with claim %s → %j', (claims, claim, expected) => {
    expect(parseGroups(claims, claim)).toEqual(expected);
  });

  it('never yields empty, padded or duplicate names', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.oneof(fc.string(), fc.integer()))), (value) => {
        const groups = parseGroups({ groups: value }, 'groups');
        expect(new Set(groups).size).toBe(groups.length);
        for (const group of groups) expect(group).toBe(group.trim());
        for (const group of groups) expect(group).not.toBe('');
      }),
    );
  });
});

describe('toSignedInUser', () => {
  const idClaims = { iss: 'https://idp.test', aud: 'gh', sub: 's1', nonce: 'n', at_hash: 'h', email: 'old@x.test', email_verified: false };

  it('lets UserInfo win and drops per-flow values', () => {
    const user = toSignedInUser(idClaims, { sub: 's1', email: 'new@x.test', email_verified: true, name: 'N', groups: 'g1 g2' }, 'groups', 'tok');
    expect(user).toEqual({
      sub: 's1',
      email: 'new@x.test',
      emailVerified: true,
      name: 'N',
      groups: ['g1', 'g2'],
      claims: { iss: 'https://idp.test', aud: 'gh', sub: 's1', email: 'new@x.test', email_verified: true, name: 'N', groups: 'g1 g2' },
      idToken: 'tok',
      amr: [],
      acr: null,
      authTime: null,
    });
  });

  it('reads amr, acr and auth_time from the ID token only, never from UserInfo', () => {
    const fromIdToken = toSignedInUser({ sub: 's', amr: ['pwd', 'otp', 7], acr: 'urn:mfa', auth_time: 1_700_000_000 }, {}, 'groups', 't');
    expect([fromIdToken.amr, fromIdToken.acr, fromIdToken.authTime]).toEqual([['pwd', 'otp'], 'urn:mfa', 1_700_000_000]);
    const fromUserInfo = toSignedInUser({ sub: 's', amr: ['pwd'] }, { amr: ['mfa'], acr: 'urn:mfa', auth_time: 5 }, 'groups', 't');
    expect([fromUserInfo.amr, fromUserInfo.acr, fromUserInfo.authTime]).toEqual([['pwd'], null, null]);
  });

  it.each([
    [['pwd'], null, { amr: ['mfa', 'otp', 'hwk'], acr: [] }, false],
    [['pwd', 'otp'], null, { amr: ['mfa', 'otp', 'hwk'], acr: [] }, true],
    [['pwd', 'mfa'], null, { amr: ['mfa'], acr: [] }, true],
    [['pwd'], 'urn:mfa', { amr: ['mfa'], acr: ['urn:mfa'] }, true],
    [['pwd'], 'urn:low', { amr: ['mfa'], acr: ['urn:mfa'] }, false],
    [['otp'], null, { amr: ['mfa'], acr: [] }, false],
  ])('amr %j with acr %j under %j is a second factor: %s', (amr, acr, mapping, expected) => {
    expect(usedSecondFactor({ amr, acr }, mapping)).toBe(expected);
  });

  it.each([
    [true, true],
    ['true', true],
    [false, false],
    ['false', false],
    ['yes', false],
    [1, false],
    [undefined, false],
  ])('email_verified %j → %s', (value, expected) => {
    expect(toSignedInUser({ sub: 's' }, { email_verified: value }, 'groups', 't').emailVerified).toBe(expected);
  });

  it('falls back to preferred_username for the name and null for missing email', () => {
    const user = toSignedInUser({ sub: 's' }, { preferred_username: 'pu', email: '' }, 'groups', 't');
    expect(user.name).toBe('pu');
    expect(user.email).toBeNull();
  });

  it('keeps the ID token subject', () => {
    expect(toSignedInUser({ sub: 's' }, { sub: 'other' }, 'groups', 't').claims['sub']).toBe('s');
    expect(() => toSignedInUser({}, {}, 'groups', 't')).toThrow(/sub/);
  });

  it('mergeClaims never copies tokens', () => {
    expect(mergeClaims({ id_token: 'a' }, { access_token: 'b', refresh_token: 'c', x: 1 })).toEqual({ x: 1 });
  });
});
