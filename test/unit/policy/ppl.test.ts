import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parsePpl } from '../../../src/config/routes-file-ppl.ts';
import { evaluate, openAccess, type Identity, type PolicyRequest } from '../../../src/policy/index.ts';
import type { RoutePolicy } from '../../../src/routes/spec.ts';

/** Pomerium's policy language, read from YAML as a routes file holds it and decided as the proxy does. */

function pplPolicy(yaml: string): RoutePolicy {
  const parsed = parsePpl(parseYaml(yaml));
  if (!parsed.ok) throw new Error(parsed.problem);
  return { public: parsed.value.public, allow: parsed.value.allow, deny: parsed.value.deny, bypass: [], corsPreflight: false };
}

function who(email: string, extra: Partial<Identity> = {}): Identity {
  return { sub: `sub-${email}`, email, emailVerified: true, name: null, groups: [], claims: {}, ...extra };
}

// Wednesday 2026-12-02 10:30:00 UTC.
const WED_1030_UTC = Date.UTC(2026, 11, 2, 10, 30, 0);
const request = (method = 'GET', path = '/', now = WED_1030_UTC, headers: PolicyRequest['headers'] = {}): PolicyRequest => ({ method, path, headers, now });

/** The decision the proxy reaches: anonymous callers first through openAccess, as passes.ts does. */
function decide(policy: RoutePolicy, identity: Identity | null, req: PolicyRequest) {
  return openAccess(policy, req) ?? evaluate(policy, identity, req, []);
}

const alice = who('alice@example.com', { groups: ['admins'], claims: { role: 'admin', teams: ['red', 'blue'] } });
const bob = who('bob@example.com');
const eve = who('eve@evil.test');

describe('PPL operators', () => {
  it("Pomerium's first example: and of a domain, deny wins over it", () => {
    const policy = pplPolicy(`
allow:
  and:
    - domain:
        is: example.com
deny:
  or:
    - email:
        is: bob@example.com
`);
    expect(decide(policy, alice, request())).toMatchObject({ allow: true, entry: '@example.com' });
    expect(decide(policy, bob, request())).toEqual({ allow: false, reason: 'denied', entry: 'bob@example.com' });
    expect(decide(policy, eve, request())).toEqual({ allow: false, reason: 'not_allowed', entry: null });
    expect(decide(policy, null, request())).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
  });

  it('and needs every criterion; the decision names the whole rule', () => {
    const policy = pplPolicy('allow: { and: [{ email: { is: alice@example.com } }, { http_method: { is: get } }] }');
    expect(decide(policy, alice, request('GET'))).toEqual({ allow: true, reason: 'allowed', entry: 'and(email:alice@example.com, http_method:GET)' });
    expect(decide(policy, alice, request('POST')).allow).toBe(false);
    expect(decide(policy, bob, request('GET')).allow).toBe(false);
  });

  it('not is "none of them" and nor is "not all of them", as Pomerium documents', () => {
    const not = pplPolicy('allow: { not: [{ domain: { is: example.com } }, { groups: { has: admins } }] }');
    const nor = pplPolicy('allow: { nor: [{ domain: { is: example.com } }, { groups: { has: admins } }] }');
    expect([alice, bob, eve].map((u) => decide(not, u, request()).allow)).toEqual([false, false, true]);
    expect([alice, bob, eve].map((u) => decide(nor, u, request()).allow)).toEqual([false, true, true]);
  });

  it('nests operators, and several operators in one rule are or-ed', () => {
    const nested = pplPolicy(`
allow:
  and:
    - domain: { is: example.com }
    - or:
        - groups: { has: admins }
        - and:
            - http_method: { in: [GET, HEAD] }
            - not: [{ http_path: { starts_with: /admin } }]
`);
    expect(decide(nested, alice, request('POST', '/admin')).allow).toBe(true);
    expect(decide(nested, bob, request('GET', '/docs')).allow).toBe(true);
    expect(decide(nested, bob, request('GET', '/admin/users')).allow).toBe(false);
    expect(decide(nested, bob, request('POST', '/docs')).allow).toBe(false);
    expect(decide(nested, eve, request('GET', '/docs')).allow).toBe(false);

    const twoOperators = pplPolicy('allow: { and: [{ claim/role: admin }], or: [{ domain: { is: evil.test } }] }');
    expect([alice, bob, eve].map((u) => decide(twoOperators, u, request()).allow)).toEqual([true, false, true]);
  });

  it('a list of rules: one allow rule suffices, any deny rule wins', () => {
    const policy = pplPolicy(`
- allow: { or: [{ email: { is: bob@example.com } }] }
- allow: { and: [{ claim/teams: blue }, { user: { starts_with: sub-alice } }] }
- deny: { and: [{ http_method: DELETE }] }
`);
    expect(decide(policy, alice, request('GET')).allow).toBe(true);
    expect(decide(policy, bob, request('GET')).allow).toBe(true);
    expect(decide(policy, bob, request('DELETE'))).toEqual({ allow: false, reason: 'denied', entry: 'and(http_method:DELETE)' });
    expect(decide(policy, eve, request('GET')).allow).toBe(false);
  });
});

describe('PPL criteria', () => {
  it.each([
    ['email: { ends_with: "@EXAMPLE.com" }', [true, true, false]],
    ['email: { in: [bob@example.com, eve@evil.test] }', [false, true, true]],
    ['email: { not_in: [bob@example.com] }', [true, false, true]],
    ['email: { starts_with: al, contains: ice }', [true, false, false]],
    ['email: Bob@Example.com', [false, true, false]],
    ['domain: { is: "@evil.test" }', [false, false, true]],
    ['groups: admins', [true, false, false]],
    ['groups: { has: admins }', [true, false, false]],
    ['claim/role: admin', [true, false, false]],
    ['claim/teams: red', [true, false, false]],
    ['user: { is: sub-bob@example.com }', [false, true, false]],
    ['authenticated_user: true', [true, true, true]],
    ['reject: true', [false, false, false]],
  ])('%s', (criterion, expected) => {
    const policy = pplPolicy(`allow: { and: [{ ${criterion} }] }`);
    expect([alice, bob, eve].map((u) => decide(policy, u, request()).allow)).toEqual(expected);
  });

  it('an unverified address matches no email or domain criterion', () => {
    const policy = pplPolicy('allow: { and: [{ domain: { is: example.com } }] }');
    expect(decide(policy, who('mallory@example.com', { emailVerified: false }), request()).allow).toBe(false);
  });

  it('http_path and http_method decide per request', () => {
    const policy = pplPolicy('allow: { and: [{ authenticated_user: true }, { http_path: { starts_with: /api/ } }, { http_method: { not_in: [DELETE] } }] }');
    expect(decide(policy, bob, request('GET', '/api/items')).allow).toBe(true);
    expect(decide(policy, bob, request('DELETE', '/api/items')).allow).toBe(false);
    expect(decide(policy, bob, request('GET', '/apiary')).allow).toBe(false);
  });

  it('date: after and before, with or without a zone (none is UTC)', () => {
    const policy = pplPolicy('allow: { and: [{ authenticated_user: true }, { date: { after: "2026-12-01T00:00:00", before: "2026-12-03T01:00:00+02:00" } }] }');
    expect(decide(policy, bob, request('GET', '/', Date.UTC(2026, 11, 1, 0, 0, 1))).allow).toBe(true);
    expect(decide(policy, bob, request('GET', '/', Date.UTC(2026, 10, 30, 23, 59, 59))).allow).toBe(false);
    expect(decide(policy, bob, request('GET', '/', Date.UTC(2026, 11, 2, 22, 59, 59))).allow).toBe(true);
    expect(decide(policy, bob, request('GET', '/', Date.UTC(2026, 11, 2, 23, 0, 1))).allow).toBe(false);
  });

  it('day_of_week: ranges, lists and full names, in UTC', () => {
    const weekdays = pplPolicy('allow: { and: [{ authenticated_user: true }, { day_of_week: mon-fri }] }');
    const wrap = pplPolicy('allow: { and: [{ authenticated_user: true }, { day_of_week: "Saturday-mon,wed" }] }');
    const day = (d: number) => Date.UTC(2026, 10, 29 + d, 12); // 2026-11-29 is a Sunday
    expect([0, 1, 2, 3, 4, 5, 6].map((d) => decide(weekdays, bob, request('GET', '/', day(d))).allow)).toEqual([false, true, true, true, true, true, false]);
    expect([0, 1, 2, 3, 4, 5, 6].map((d) => decide(wrap, bob, request('GET', '/', day(d))).allow)).toEqual([true, true, false, true, false, false, true]);
  });

  it('time_of_day: in the time zone given, in every documented format', () => {
    const office = pplPolicy('allow: { and: [{ authenticated_user: true }, { time_of_day: { timezone: Europe/Berlin, after: "9:00", before: "5:30PM" } }] }');
    // 10:30 UTC is 11:30 in Berlin (CET in December); 16:45 UTC is 17:45 there.
    expect(decide(office, bob, request('GET', '/', WED_1030_UTC)).allow).toBe(true);
    expect(decide(office, bob, request('GET', '/', Date.UTC(2026, 11, 2, 16, 45))).allow).toBe(false);
    expect(decide(office, bob, request('GET', '/', Date.UTC(2026, 11, 2, 7, 59))).allow).toBe(false);
    for (const time of ['3:04 PM', '3:04PM', '3 PM', '3PM', '15:04:05.999999999', '15:04:05', '15:04']) {
      expect(parsePpl(parseYaml(`allow: { and: [{ time_of_day: { timezone: UTC, after: "${time}" } }] }`)).ok, time).toBe(true);
    }
  });

  it('cors_preflight and pomerium_routes', () => {
    const policy = pplPolicy('allow: { or: [{ cors_preflight: true }, { pomerium_routes: true }] }');
    const preflight = request('OPTIONS', '/api', WED_1030_UTC, { origin: 'https://web.example.com', 'access-control-request-method': 'PUT' });
    expect(decide(policy, null, preflight)).toMatchObject({ allow: true });
    expect(decide(policy, null, request('GET', '/.pomerium/jwt'))).toMatchObject({ allow: true });
    expect(decide(policy, null, request('OPTIONS', '/api')).allow).toBe(false);
    expect(decide(policy, null, request('GET', '/.pomeriumx')).allow).toBe(false);
  });

  it('source_ip: the client address after trusted proxies, IPv4 and IPv6, and never an unknown one', () => {
    const from = (clientIp: string | undefined, path = '/'): PolicyRequest => ({ ...request('GET', path), ...(clientIp === undefined ? {} : { clientIp }) });
    const office = pplPolicy('allow: { and: [{ source_ip: 10.0.0.0/8 }, { email: alice@example.com }] }');
    expect(decide(office, alice, from('10.1.2.3'))).toMatchObject({ allow: true, entry: 'and(source_ip:10.0.0.0/8, email:alice@example.com)' });
    expect(decide(office, alice, from('192.168.1.5')).allow).toBe(false);
    expect(decide(office, alice, from('::ffff:10.9.9.9')).allow).toBe(true);
    expect(decide(office, alice, from(undefined)).allow).toBe(false);
    const v6 = pplPolicy('allow: { or: [{ source_ip: "2001:db8::/32" }] }');
    expect(decide(v6, null, from('2001:db8::7'))).toMatchObject({ allow: true });
    expect(decide(v6, null, from('2001:db9::7')).allow).toBe(false);
    // A deny on a network holds before anyone signs in; an unknown address is kept out by `not`.
    const lan = pplPolicy('[{ allow: { or: [{ accept: true }] } }, { deny: { not: [{ source_ip: 192.168.0.0/16 }] } }]');
    expect(decide(lan, alice, from('192.168.3.4')).allow).toBe(true);
    expect(decide(lan, alice, from('203.0.113.9')).allow).toBe(false);
    expect(decide(lan, alice, from(undefined)).allow).toBe(false);
  });
});

describe('http_path and the case of a path', () => {
  // Route paths match without ASCII case, and case-insensitive apps serve /ADMIN as /admin.
  it('a deny rule on a path also catches its other spellings', () => {
    const policy = pplPolicy('allow: { or: [{ authenticated_user: true }] }\ndeny: { or: [{ http_path: { starts_with: /internal/ } }] }');
    for (const path of ['/internal/x', '/INTERNAL/x', '/Internal/x']) expect(decide(policy, bob, request('GET', path)).allow, path).toBe(false);
    expect(decide(policy, bob, request('GET', '/intern')).allow).toBe(true);
  });

  it('an allow rule on a path holds only for the spelling it names', () => {
    const policy = pplPolicy('allow: { and: [{ accept: true }, { http_path: { starts_with: /public/ } }] }');
    expect(decide(policy, null, request('GET', '/public/a')).allow).toBe(true);
    expect(decide(policy, null, request('GET', '/PUBLIC/a'))).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
  });

  it('under not and nor the sense turns around', () => {
    const allowNotAdmin = pplPolicy('allow: { and: [{ authenticated_user: true }, { not: [{ http_path: { starts_with: /admin } }] }] }');
    expect(decide(allowNotAdmin, bob, request('GET', '/docs')).allow).toBe(true);
    expect(decide(allowNotAdmin, bob, request('GET', '/admin')).allow).toBe(false);
    expect(decide(allowNotAdmin, bob, request('GET', '/ADMIN')).allow).toBe(false);
    const denyUnlessPublic = pplPolicy('allow: { or: [{ authenticated_user: true }] }\ndeny: { nor: [{ http_path: { starts_with: /public/ } }] }');
    expect(decide(denyUnlessPublic, bob, request('GET', '/public/x')).allow).toBe(true);
    expect(decide(denyUnlessPublic, bob, request('GET', '/PUBLIC/x')).allow).toBe(false);
    expect(decide(denyUnlessPublic, bob, request('GET', '/private')).allow).toBe(false);
  });
});

describe('PPL without anyone signed in', () => {
  it('accept alone is a public route', () => {
    const parsed = parsePpl(parseYaml('allow: { or: [{ accept: true }] }'));
    expect(parsed).toEqual({ ok: true, value: { allow: [], deny: [], public: true } });
  });

  it('a rule that needs no one lets anonymous callers in; deny rules still apply to them', () => {
    const policy = pplPolicy('allow: { and: [{ accept: true }, { http_method: GET }] }\ndeny: { or: [{ http_path: { starts_with: /private } }] }');
    expect(decide(policy, null, request('GET', '/'))).toEqual({ allow: true, reason: 'allowed', entry: 'and(accept, http_method:GET)' });
    expect(decide(policy, null, request('POST', '/')).allow).toBe(false);
    expect(decide(policy, null, request('GET', '/private/x'))).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
    expect(decide(policy, bob, request('GET', '/private/x'))).toEqual({ allow: false, reason: 'denied', entry: 'or(http_path:{starts_with:/private})' });
  });

  it('a rule about the user is never decided anonymously, even under not', () => {
    const policy = pplPolicy('allow: { and: [{ not: [{ email: { is: bob@example.com } }] }] }');
    expect(decide(policy, null, request())).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
    expect(decide(policy, bob, request()).allow).toBe(false);
    expect(decide(policy, alice, request()).allow).toBe(true);
  });

  it('a deny rule about the user makes everyone sign in, so a denied user cannot pass by staying anonymous', () => {
    const policy = pplPolicy('allow: { or: [{ accept: true }] }\ndeny: { or: [{ email: { is: bob@example.com } }] }');
    expect(decide(policy, null, request())).toEqual({ allow: false, reason: 'sign_in_required', entry: null });
    expect(decide(policy, bob, request())).toEqual({ allow: false, reason: 'denied', entry: 'bob@example.com' });
    expect(decide(policy, alice, request())).toEqual({ allow: true, reason: 'allowed', entry: 'or(accept)' });
  });
});

describe('PPL that labels can say stays plain entries', () => {
  it('an or of simple criteria becomes allow and deny entries', () => {
    const parsed = parsePpl(parseYaml(`
allow: { or: [{ email: { is: alice@example.com } }, { domain: { is: example.org } }, { groups: { has: admins } }, { claim/role: admin }, { user: { is: u1 } }, { authenticated_user: true }] }
deny: { or: [{ email: { is: bob@example.com } }] }
`));
    expect(parsed).toEqual({
      ok: true,
      value: {
        allow: [
          { kind: 'email', email: 'alice@example.com' },
          { kind: 'domain', domain: 'example.org' },
          { kind: 'group', group: 'admins' },
          { kind: 'claim', claim: 'role', value: 'admin' },
          { kind: 'user', sub: 'u1' },
          { kind: 'any' },
        ],
        deny: [{ kind: 'email', email: 'bob@example.com' }],
        public: false,
      },
    });
  });

  it('a label route never reaches the rule evaluator (no rules compiled)', () => {
    const policy: RoutePolicy = { public: false, allow: [{ kind: 'any' }], deny: [], bypass: [], corsPreflight: false };
    expect(openAccess(policy, request())).toBeNull();
    expect(evaluate(policy, bob, request(), [])).toEqual({ allow: true, reason: 'allowed', entry: '*' });
  });
});
