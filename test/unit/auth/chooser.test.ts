import { describe, expect, it } from 'vitest';
import { chooseMethod, NO_REQUIREMENTS, offeredMethods, requirementsFor } from '../../../src/auth/chooser.ts';
import { buildRouteTable } from '../../../src/routes/index.ts';
import { spec } from '../../integration/proxy/support.ts';

const CONFIGURED = ['local', 'corp', 'home'];

describe('offeredMethods', () => {
  it('offers every configured method when the route names none', () => {
    expect(offeredMethods(CONFIGURED, NO_REQUIREMENTS)).toEqual(CONFIGURED);
  });

  it("keeps the configured order and drops names that are not configured", () => {
    expect(offeredMethods(CONFIGURED, { ...NO_REQUIREMENTS, providers: ['home', 'google', 'local'] })).toEqual(['local', 'home']);
    expect(offeredMethods(CONFIGURED, { ...NO_REQUIREMENTS, providers: ['google'] })).toEqual([]);
  });
});

describe('chooseMethod', () => {
  it('uses the only offered method without asking', () => {
    expect(chooseMethod(['home'], null, null)).toEqual({ kind: 'use', method: 'home' });
    expect(chooseMethod(['home'], 'corp', 'corp')).toEqual({ kind: 'use', method: 'home' });
  });

  it('uses a requested method only when it is offered', () => {
    expect(chooseMethod(['local', 'corp'], 'corp', null)).toEqual({ kind: 'use', method: 'corp' });
    expect(chooseMethod(['local', 'corp'], 'home', null)).toEqual({ kind: 'choose', methods: ['local', 'corp'], last: null });
  });

  it('lists the remembered method first but never picks it by itself', () => {
    expect(chooseMethod(['local', 'corp', 'home'], null, 'home')).toEqual({ kind: 'choose', methods: ['home', 'local', 'corp'], last: 'home' });
    expect(chooseMethod(['local', 'corp'], null, 'home')).toEqual({ kind: 'choose', methods: ['local', 'corp'], last: null });
  });

  it('has nothing to offer when the route accepts no configured method', () => {
    expect(chooseMethod([], 'corp', 'corp')).toEqual({ kind: 'none' });
  });
});

describe('requirementsFor', () => {
  const table = buildRouteTable(
    [
      spec({ name: 'nas', hosts: ['nas.example.com'], access: { providers: ['corp'], mfa: true, maxAgeMs: 60_000, networks: [], trustedNetworks: [] } }),
      spec({ name: 'wiki', hosts: ['wiki.example.com'] }),
    ],
    [],
  );

  it("reads the target route's requirements from the table", () => {
    expect(requirementsFor(table, new URL('https://NAS.example.com/admin?x=1'), 'auth.example.com')).toMatchObject({ providers: ['corp'], mfa: true, maxAgeMs: 60_000 });
    expect(requirementsFor(table, new URL('https://wiki.example.com/'), 'auth.example.com')).toMatchObject({ providers: [], mfa: false });
  });

  it('asks nothing for the sign-in host or an address no route serves', () => {
    expect(requirementsFor(table, new URL('https://auth.example.com/'), 'auth.example.com')).toBe(NO_REQUIREMENTS);
    expect(requirementsFor(table, new URL('https://other.example.com/'), 'auth.example.com')).toBe(NO_REQUIREMENTS);
  });
});
