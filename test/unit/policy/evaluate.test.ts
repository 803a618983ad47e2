import { describe, expect, it } from 'vitest';
import { evaluate, formatEntry, type Decision, type Identity, type PolicyRequest } from '../../../src/policy/index.ts';
import type { PolicyEntry, RoutePolicy } from '../../../src/routes/spec.ts';

function policy(overrides: Partial<RoutePolicy> = {}): RoutePolicy {
  return { public: false, allow: [], deny: [], bypass: [], corsPreflight: false, ...overrides };
}

function identity(overrides: Partial<Identity> = {}): Identity {
  return {
    sub: 'user-1',
    email: 'alice@corp.com',
    emailVerified: true,
    name: 'Alice',
    groups: [],
    claims: {},
    ...overrides,
  };
}

const GET_ROOT: PolicyRequest = { method: 'GET', path: '/', headers: {}, now: 0 };

const email = (value: string): PolicyEntry => ({ kind: 'email', email: value });
const domain = (value: string): PolicyEntry => ({ kind: 'domain', domain: value });
const group = (value: string): PolicyEntry => ({ kind: 'group', group: value });
const claim = (key: string, value: string): PolicyEntry => ({ kind: 'claim', claim: key, value });
const user = (sub: string): PolicyEntry => ({ kind: 'user', sub });
const any: PolicyEntry = { kind: 'any' };

describe('formatEntry', () => {
  it.each([
    [email('Alice@corp.com'), 'Alice@corp.com'],
    [domain('corp.com'), '@corp.com'],
    [group('admins'), 'group:admins'],
    [claim('department', 'eng'), 'claim:department=eng'],
    [user('abc|123'), 'user:abc|123'],
    [any, '*'],
  ])('%j → %s', (entry, text) => {
    expect(formatEntry(entry)).toBe(text);
  });
});

describe('evaluate: one allow entry of each kind', () => {
  const cases: { name: string; entry: PolicyEntry; who: Partial<Identity>; allow: boolean }[] = [
    { name: 'email exact', entry: email('alice@corp.com'), who: {}, allow: true },
    { name: 'email case-insensitive (entry upper)', entry: email('ALICE@CORP.COM'), who: {}, allow: true },
    { name: 'email case-insensitive (identity upper)', entry: email('alice@corp.com'), who: { email: 'Alice@Corp.Com' }, allow: true },
    { name: 'email other address', entry: email('bob@corp.com'), who: {}, allow: false },
    { name: 'email is not a prefix match', entry: email('alice@corp.co'), who: {}, allow: false },
    { name: 'email multi-@ identity', entry: email('a@corp.com'), who: { email: 'a@evil.com@corp.com' }, allow: false },
    { name: 'email multi-@ entry never matches, even itself', entry: email('a@evil.com@corp.com'), who: { email: 'a@evil.com@corp.com' }, allow: false },
    { name: 'email null', entry: email('alice@corp.com'), who: { email: null }, allow: false },
    { name: 'email unverified', entry: email('alice@corp.com'), who: { emailVerified: false }, allow: false },
    { name: 'email verification unknown (null)', entry: email('alice@corp.com'), who: { emailVerified: null }, allow: true },
    { name: 'email Kelvin-sign look-alike', entry: email('kate@corp.com'), who: { email: '\u212Aate@corp.com' }, allow: false },
    { name: 'email Cyrillic look-alike', entry: email('admin@corp.com'), who: { email: 'admin@c\u043Erp.com' }, allow: false },
    { name: 'email full-width @', entry: email('admin@corp.com'), who: { email: 'admin\uFF20corp.com' }, allow: false },
    { name: 'domain exact', entry: domain('corp.com'), who: {}, allow: true },
    { name: 'domain case-insensitive', entry: domain('corp.com'), who: { email: 'Attacker@Corp.Com' }, allow: true },
    { name: 'domain multi-@ bypass', entry: domain('corp.com'), who: { email: 'a@evil.com@corp.com' }, allow: false },
    { name: 'domain subdomain not included', entry: domain('corp.com'), who: { email: 'a@sub.corp.com' }, allow: false },
    { name: 'domain suffix look-alike', entry: domain('corp.com'), who: { email: 'a@evilcorp.com' }, allow: false },
    { name: 'domain as prefix of longer domain', entry: domain('corp.com'), who: { email: 'a@corp.com.evil.com' }, allow: false },
    { name: 'domain unverified', entry: domain('corp.com'), who: { emailVerified: false }, allow: false },
    { name: 'domain empty local part', entry: domain('corp.com'), who: { email: '@corp.com' }, allow: false },
    { name: 'group member', entry: group('admins'), who: { groups: ['users', 'admins'] }, allow: true },
    { name: 'group case-sensitive', entry: group('admins'), who: { groups: ['Admins'] }, allow: false },
    { name: 'group whitespace is not trimmed', entry: group('admins'), who: { groups: [' admins'] }, allow: false },
    { name: 'group no groups', entry: group('admins'), who: { groups: [] }, allow: false },
    { name: 'claim string equal', entry: claim('dept', 'eng'), who: { claims: { dept: 'eng' } }, allow: true },
    { name: 'claim string differs', entry: claim('dept', 'eng'), who: { claims: { dept: 'Eng' } }, allow: false },
    { name: 'claim number', entry: claim('level', '3'), who: { claims: { level: 3 } }, allow: true },
    { name: 'claim boolean', entry: claim('staff', 'true'), who: { claims: { staff: true } }, allow: true },
    { name: 'claim array contains', entry: claim('roles', 'editor'), who: { claims: { roles: ['viewer', 'editor'] } }, allow: true },
    { name: 'claim array lacks', entry: claim('roles', 'admin'), who: { claims: { roles: ['viewer'] } }, allow: false },
    { name: 'claim object never equals', entry: claim('dept', '[object Object]'), who: { claims: { dept: {} } }, allow: false },
    { name: 'claim missing', entry: claim('dept', 'eng'), who: { claims: {} }, allow: false },
    { name: 'claim inherited property is not a claim', entry: claim('toString', 'x'), who: { claims: {} }, allow: false },
    { name: 'user sub exact', entry: user('user-1'), who: {}, allow: true },
    { name: 'user sub differs by case', entry: user('USER-1'), who: {}, allow: false },
    { name: 'any signed-in user', entry: any, who: { email: null, emailVerified: false }, allow: true },
  ];
  it.each(cases)('$name', ({ entry, who, allow }) => {
    const decision = evaluate(policy({ allow: [entry] }), identity(who), GET_ROOT, []);
    const expected: Decision = allow
      ? { allow: true, reason: 'allowed', entry: formatEntry(entry) }
      : { allow: false, reason: 'not_allowed', entry: null };
    expect(decision).toEqual(expected);
  });
});

describe('evaluate: precedence', () => {
  it('deny wins over allow, and names the deny entry', () => {
    const decision = evaluate(policy({ allow: [domain('corp.com')], deny: [email('alice@corp.com')] }), identity(), GET_ROOT, []);
    expect(decision).toEqual({ allow: false, reason: 'denied', entry: 'alice@corp.com' });
  });

  it('deny by domain, group, claim, user and *', () => {
    const who = identity({ groups: ['contractors'], claims: { team: 'red' } });
    for (const entry of [domain('corp.com'), group('contractors'), claim('team', 'red'), user('user-1'), any]) {
      expect(evaluate(policy({ allow: [any], deny: [entry] }), who, GET_ROOT, [])).toEqual({
        allow: false,
        reason: 'denied',
        entry: formatEntry(entry),
      });
    }
  });

  it('a deny that does not match leaves the allow decision', () => {
    const decision = evaluate(policy({ allow: [domain('corp.com')], deny: [email('mallory@corp.com')] }), identity(), GET_ROOT, []);
    expect(decision).toEqual({ allow: true, reason: 'allowed', entry: '@corp.com' });
  });

  it('an unverified email does not escape an email deny by being ignored: deny * still applies', () => {
    const who = identity({ emailVerified: false });
    expect(evaluate(policy({ allow: [any], deny: [email('alice@corp.com')] }), who, GET_ROOT, [])).toEqual({
      allow: true,
      reason: 'allowed',
      entry: '*',
    });
    expect(evaluate(policy({ allow: [any], deny: [any] }), who, GET_ROOT, []).allow).toBe(false);
  });

  it('no allow entries and no default: nobody gets in (no_rule)', () => {
    expect(evaluate(policy(), identity(), GET_ROOT, [])).toEqual({ allow: false, reason: 'no_rule', entry: null });
  });

  it('no allow entries: the default allow list applies', () => {
    const defaults = [domain('corp.com')];
    expect(evaluate(policy(), identity(), GET_ROOT, defaults)).toEqual({ allow: true, reason: 'allowed', entry: '@corp.com' });
    expect(evaluate(policy(), identity({ email: 'x@other.com' }), GET_ROOT, defaults)).toEqual({
      allow: false,
      reason: 'not_allowed',
      entry: null,
    });
  });

  it('route allow entries replace the default list rather than adding to it', () => {
    const decision = evaluate(policy({ allow: [group('admins')] }), identity(), GET_ROOT, [domain('corp.com')]);
    expect(decision).toEqual({ allow: false, reason: 'not_allowed', entry: null });
  });

  it('deny entries still apply when the default list decides', () => {
    const decision = evaluate(policy({ deny: [email('alice@corp.com')] }), identity(), GET_ROOT, [any]);
    expect(decision).toEqual({ allow: false, reason: 'denied', entry: 'alice@corp.com' });
  });

  it('only deny entries, no allow anywhere: no_rule', () => {
    expect(evaluate(policy({ deny: [email('bob@corp.com')] }), identity(), GET_ROOT, [])).toEqual({
      allow: false,
      reason: 'no_rule',
      entry: null,
    });
  });

  it('when several entries match, the deciding entry does not depend on their order', () => {
    const who = identity({ groups: ['b-team', 'a-team'] });
    const entries = [group('b-team'), group('a-team')];
    const one = evaluate(policy({ allow: entries }), who, GET_ROOT, []);
    const two = evaluate(policy({ allow: [...entries].reverse() }), who, GET_ROOT, []);
    expect(one).toEqual({ allow: true, reason: 'allowed', entry: 'group:a-team' });
    expect(two).toEqual(one);
  });
});

describe('evaluate: requests without identity', () => {
  it('public routes allow anyone', () => {
    expect(evaluate(policy({ public: true }), null, GET_ROOT, [])).toEqual({ allow: true, reason: 'public', entry: null });
  });

  it('a signed-out request to a protected route needs sign-in', () => {
    expect(evaluate(policy({ allow: [any] }), null, GET_ROOT, [])).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
  });

  it('bypass decides before deny entries and identity', () => {
    const p = policy({ deny: [any], bypass: [{ method: 'GET', path: '/healthz' }] });
    expect(evaluate(p, null, { method: 'GET', path: '/healthz', headers: {}, now: 0 }, [])).toEqual({
      allow: true,
      reason: 'bypass',
      entry: 'GET /healthz',
    });
  });

  const bypass = policy({
    allow: [any],
    bypass: [
      { method: 'GET', path: '/healthz' },
      { method: null, path: '/share/' },
      { method: 'POST', path: '/hooks/' },
    ],
  });
  it.each([
    ['GET', '/healthz', 'GET /healthz'],
    ['GET', '/share/', '/share/'],
    ['GET', '/share', '/share/'],
    ['DELETE', '/share/a/b', '/share/'],
    ['POST', '/hooks/github', 'POST /hooks/'],
  ])('%s %s is bypassed by %s', (method, path, entry) => {
    expect(evaluate(bypass, null, { method, path, headers: {}, now: 0 }, [])).toEqual({ allow: true, reason: 'bypass', entry });
  });
  it.each([
    ['POST', '/healthz'],
    ['HEAD', '/healthz'],
    ['GET', '/healthz/'],
    ['GET', '/healthz/x'],
    ['GET', '/healthzz'],
    ['GET', '/shared'],
    ['GET', '/shar'],
    ['GET', '/other/share/x'],
    ['GET', '/hooks/github'],
    ['post', '/hooks/github'],
  ])('%s %s is not bypassed', (method, path) => {
    expect(evaluate(bypass, null, { method, path, headers: {}, now: 0 }, [])).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
  });

  it('a root prefix bypass covers every path', () => {
    const p = policy({ bypass: [{ method: 'GET', path: '/' }] });
    expect(evaluate(p, null, { method: 'GET', path: '/anything/at/all', headers: {}, now: 0 }, []).reason).toBe('bypass');
  });

  describe('CORS preflight', () => {
    const preflight: PolicyRequest = {
      method: 'OPTIONS',
      path: '/api/items',
      headers: { origin: 'https://web.example.com', 'access-control-request-method': 'PUT' },
      now: 0,
    };
    it('is allowed without identity when the route enables it', () => {
      expect(evaluate(policy({ allow: [any], corsPreflight: true }), null, preflight, [])).toEqual({
        allow: true,
        reason: 'cors_preflight',
        entry: null,
      });
    });
    it('needs sign-in when the route does not enable it', () => {
      expect(evaluate(policy({ allow: [any] }), null, preflight, []).reason).toBe('sign_in_required');
    });
    it.each([
      ['no Origin', { ...preflight, headers: { 'access-control-request-method': 'PUT' } }],
      ['empty Origin', { ...preflight, headers: { origin: '', 'access-control-request-method': 'PUT' } }],
      ['no Access-Control-Request-Method', { ...preflight, headers: { origin: 'https://web.example.com' } }],
      ['not OPTIONS', { ...preflight, method: 'GET' }],
    ])('%s is not a preflight', (_name, request) => {
      expect(evaluate(policy({ allow: [any], corsPreflight: true }), null, request as PolicyRequest, []).reason).toBe('sign_in_required');
    });
  });
});
