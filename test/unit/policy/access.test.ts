import { describe, expect, it } from 'vitest';
import { evaluate, formatEntry, networkAccess, openAccess, signInShortfall, type Identity, type PolicyRequest } from '../../../src/policy/index.ts';
import type { RouteAccess, RoutePolicy } from '../../../src/routes/spec.ts';

/** `provider:` and `ip:` entries, the route's network conditions, and what a session lacks for a route. */

const policy = (overrides: Partial<RoutePolicy> = {}): RoutePolicy => ({ public: false, allow: [], deny: [], bypass: [], corsPreflight: false, ...overrides });
const access = (overrides: Partial<RouteAccess> = {}): RouteAccess => ({ providers: [], mfa: false, maxAgeMs: null, networks: [], trustedNetworks: [], ...overrides });
const identity = (overrides: Partial<Identity> = {}): Identity => ({ sub: 'u1', email: 'a@corp.com', emailVerified: true, name: null, groups: [], claims: {}, ...overrides });
const from = (clientIp: string | undefined): PolicyRequest => ({ method: 'GET', path: '/', headers: {}, now: 0, ...(clientIp === undefined ? {} : { clientIp }) });

describe('provider: entries', () => {
  it('formats as written', () => {
    expect(formatEntry({ kind: 'provider', provider: 'google' })).toBe('provider:google');
    expect(formatEntry({ kind: 'ip', network: '192.168.1.0/24' })).toBe('ip:192.168.1.0/24');
  });

  it('admits only sessions made with that method', () => {
    const only = policy({ allow: [{ kind: 'provider', provider: 'google' }] });
    expect(evaluate(only, identity({ provider: 'google' }), from(undefined), [])).toEqual({ allow: true, reason: 'allowed', entry: 'provider:google' });
    expect(evaluate(only, identity({ provider: 'local' }), from(undefined), [])).toMatchObject({ allow: false, reason: 'not_allowed' });
    // A session from before methods were recorded matches no provider: entry.
    expect(evaluate(only, identity(), from(undefined), [])).toMatchObject({ allow: false });
  });

  it('denies by method too, and deny wins', () => {
    const kidsOut = policy({ allow: [{ kind: 'any' }], deny: [{ kind: 'provider', provider: 'local' }] });
    expect(evaluate(kidsOut, identity({ provider: 'local' }), from(undefined), [])).toEqual({ allow: false, reason: 'denied', entry: 'provider:local' });
    expect(evaluate(kidsOut, identity({ provider: 'google' }), from(undefined), [])).toMatchObject({ allow: true });
  });
});

describe('ip: entries', () => {
  const lanOnly = policy({ allow: [{ kind: 'ip', network: '192.168.1.0/24' }, { kind: 'ip', network: 'fd00::/8' }] });

  it('admit a signed-in user from the network, IPv4 and IPv6, and nobody without a sign-in', () => {
    expect(evaluate(lanOnly, identity(), from('192.168.1.77'), [])).toEqual({ allow: true, reason: 'allowed', entry: 'ip:192.168.1.0/24' });
    expect(evaluate(lanOnly, identity(), from('fd12::1'), [])).toEqual({ allow: true, reason: 'allowed', entry: 'ip:fd00::/8' });
    expect(evaluate(lanOnly, identity(), from('::ffff:192.168.1.5'), [])).toMatchObject({ allow: true });
    expect(evaluate(lanOnly, identity(), from('192.168.2.1'), [])).toMatchObject({ allow: false, reason: 'not_allowed' });
    expect(evaluate(lanOnly, identity(), from(undefined), [])).toMatchObject({ allow: false, reason: 'not_allowed' });
    expect(evaluate(lanOnly, null, from('192.168.1.77'), [])).toMatchObject({ allow: false, reason: 'sign_in_required' });
  });

  it('in deny, refuse the network before anyone signs in, even on a public route', () => {
    const blocked = policy({ allow: [{ kind: 'any' }], deny: [{ kind: 'ip', network: '10.9.0.0/16' }] });
    expect(openAccess(blocked, from('10.9.3.4'))).toEqual({ allow: false, reason: 'denied', entry: 'ip:10.9.0.0/16' });
    expect(openAccess(blocked, from('10.8.3.4'))).toBeNull();
    expect(openAccess({ ...blocked, public: true }, from('10.9.3.4'))).toMatchObject({ allow: false });
    expect(evaluate(blocked, identity(), from('10.9.0.1'), [])).toMatchObject({ allow: false, reason: 'denied' });
  });

  it('in deny, refuse a client whose address is unknown or unreadable: a deny never yields for want of an address', () => {
    const blocked = policy({ allow: [{ kind: 'any' }], deny: [{ kind: 'ip', network: '10.9.0.0/16' }] });
    expect(openAccess(blocked, from(undefined))).toEqual({ allow: false, reason: 'denied', entry: 'ip:10.9.0.0/16' });
    expect(openAccess(blocked, from('not-an-address'))).toMatchObject({ allow: false, reason: 'denied' });
    expect(openAccess(policy({ allow: [{ kind: 'any' }] }), from(undefined))).toBeNull();
  });
});

describe('networkAccess', () => {
  it('refuses clients outside a route limited to networks, whoever they are', () => {
    const limited = access({ networks: ['192.168.1.0/24'] });
    expect(networkAccess(limited, '192.168.1.10')).toBeNull();
    expect(networkAccess(limited, '8.8.8.8')).toEqual({ allow: false, reason: 'network', entry: 'networks: 192.168.1.0/24' });
    expect(networkAccess(limited, null)).toMatchObject({ allow: false, reason: 'network' });
    expect(networkAccess(access(), '8.8.8.8')).toBeNull();
  });

  it('lets trusted networks in without sign-in, but never past a networks limit', () => {
    expect(networkAccess(access({ trustedNetworks: ['192.168.1.0/28'] }), '192.168.1.3')).toEqual({ allow: true, reason: 'trusted_network', entry: 'trusted_networks: 192.168.1.0/28' });
    expect(networkAccess(access({ trustedNetworks: ['192.168.1.0/28'] }), '192.168.1.30')).toBeNull();
    expect(networkAccess(access({ networks: ['10.0.0.0/8'], trustedNetworks: ['192.168.1.0/28'] }), '192.168.1.3')).toMatchObject({ allow: false, reason: 'network' });
    expect(networkAccess(access({ trustedNetworks: ['::1'] }), '::1')).toMatchObject({ allow: true });
    expect(networkAccess(access({ trustedNetworks: ['127.0.0.1'] }), '::1')).toBeNull();
  });
});

describe('signInShortfall', () => {
  const NOW = 1_800_000_000;
  const facts = (overrides: Partial<{ provider: string; mfa: boolean; authTime: number }> = {}) => ({ provider: 'google', mfa: false, authTime: NOW - 60, ...overrides });

  it('is null when the route asks nothing', () => {
    expect(signInShortfall(access(), facts(), NOW)).toBeNull();
  });

  it('names a method the route does not offer first', () => {
    expect(signInShortfall(access({ providers: ['local'], mfa: true }), facts(), NOW)).toBe('provider');
    expect(signInShortfall(access({ providers: ['local', 'google'] }), facts(), NOW)).toBeNull();
  });

  it('asks for a second factor', () => {
    expect(signInShortfall(access({ mfa: true }), facts(), NOW)).toBe('mfa');
    expect(signInShortfall(access({ mfa: true }), facts({ mfa: true }), NOW)).toBeNull();
  });

  it('asks for a fresh sign-in past max_age, to the second', () => {
    const hour = access({ maxAgeMs: 3_600_000 });
    expect(signInShortfall(hour, facts({ authTime: NOW - 3_600 }), NOW)).toBeNull();
    expect(signInShortfall(hour, facts({ authTime: NOW - 3_601 }), NOW)).toBe('max_age');
    expect(signInShortfall(hour, facts({ authTime: 0 }), NOW)).toBe('max_age');
  });
});
