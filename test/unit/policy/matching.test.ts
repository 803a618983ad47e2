import { describe, expect, it } from 'vitest';
import { evaluate, formatEntry, type Decision, type Identity, type PolicyRequest } from '../../../src/policy/index.ts';
import type { PolicyEntry, RoutePolicy } from '../../../src/routes/spec.ts';

// Each defence of entry matching has its own case here, so that weakening one of them fails a
// test of its own (found with `npm run mutate -- --mutate 'src/policy/**/*.ts'`).

function policy(overrides: Partial<RoutePolicy> = {}): RoutePolicy {
  return { public: false, allow: [], deny: [], bypass: [], corsPreflight: false, ...overrides };
}

function identity(overrides: Partial<Identity> = {}): Identity {
  return { sub: 'user-1', email: 'alice@corp.com', emailVerified: true, name: 'Alice', groups: [], claims: {}, ...overrides };
}

const GET_ROOT: PolicyRequest = { method: 'GET', path: '/', headers: {}, now: 0 };
const email = (value: string): PolicyEntry => ({ kind: 'email', email: value });
const domain = (value: string): PolicyEntry => ({ kind: 'domain', domain: value });
const group = (value: string): PolicyEntry => ({ kind: 'group', group: value });
const claim = (key: string, value: string): PolicyEntry => ({ kind: 'claim', claim: key, value });
const any: PolicyEntry = { kind: 'any' };

const allowedBy = (entry: PolicyEntry): Decision => ({ allow: true, reason: 'allowed', entry: formatEntry(entry) });
const NOT_ALLOWED: Decision = { allow: false, reason: 'not_allowed', entry: null };

describe('claim entries compare the value, whatever its JSON type', () => {
  it.each([
    ['a different number', claim('level', '3'), { level: 4 }],
    ['zero', claim('level', '3'), { level: 0 }],
    ['a number that is only a prefix', claim('level', '3'), { level: 30 }],
    ['false for true', claim('staff', 'true'), { staff: false }],
    ['true for false', claim('staff', 'false'), { staff: true }],
    ['an array of other numbers', claim('levels', '3'), { levels: [1, 2, 4] }],
    ['an array of other booleans', claim('flags', 'true'), { flags: [false] }],
    ['null', claim('dept', 'null'), { dept: null }],
  ])('a claim entry does not match %s', (_name, entry, claims) => {
    expect(evaluate(policy({ allow: [entry] }), identity({ claims }), GET_ROOT, [])).toEqual(NOT_ALLOWED);
  });

  it('a number or boolean claim that differs does not trip a deny written for another value', () => {
    const p = policy({ allow: [any], deny: [claim('level', '0'), claim('suspended', 'true')] });
    expect(evaluate(p, identity({ claims: { level: 7, suspended: false } }), GET_ROOT, [])).toEqual(allowedBy(any));
    expect(evaluate(p, identity({ claims: { level: 0, suspended: false } }), GET_ROOT, [])).toEqual({
      allow: false,
      reason: 'denied',
      entry: 'claim:level=0',
    });
  });

  it('only the claims the identity carries itself count, never inherited ones', () => {
    const inherited = Object.create({ dept: 'eng' }) as Record<string, unknown>;
    expect(evaluate(policy({ allow: [claim('dept', 'eng')] }), identity({ claims: inherited }), GET_ROOT, [])).toEqual(NOT_ALLOWED);
  });
});

describe('group entries', () => {
  it('a member of one listed group is allowed whatever other groups come after it', () => {
    const who = identity({ groups: ['admins', 'users', 'ops'] });
    expect(evaluate(policy({ allow: [group('admins')] }), who, GET_ROOT, [])).toEqual(allowedBy(group('admins')));
  });

  it('a group deny that names none of the groups leaves the allow decision', () => {
    const who = identity({ groups: ['admins', 'users'] });
    expect(evaluate(policy({ allow: [any], deny: [group('contractors')] }), who, GET_ROOT, [])).toEqual(allowedBy(any));
  });
});

describe('addresses that are not a single `@` with text on both sides never match', () => {
  it.each(['alice@', '@corp.com', 'alice'])('the entry %j matches nobody, not even an identity with that text', (text) => {
    expect(evaluate(policy({ allow: [email(text)] }), identity({ email: text }), GET_ROOT, [])).toEqual(NOT_ALLOWED);
  });

  it('an identity address with nothing after the `@` matches no domain and no email', () => {
    const who = identity({ email: 'alice@' });
    expect(evaluate(policy({ allow: [email('alice@corp.com'), domain('corp.com')] }), who, GET_ROOT, [])).toEqual(NOT_ALLOWED);
  });
});

describe('case folding', () => {
  it('folds an entry written all in capitals, even one without a dot or `@` to break the run', () => {
    const who = identity({ email: 'root@nas' });
    expect(evaluate(policy({ allow: [domain('NAS')] }), who, GET_ROOT, [])).toEqual(allowedBy(domain('NAS')));
    expect(evaluate(policy({ allow: [email('ROOT@NAS')] }), who, GET_ROOT, [])).toEqual(allowedBy(email('ROOT@NAS')));
  });
});

describe('the deciding entry is the smallest text, whatever the order entries were written in', () => {
  const bothOrders = (entries: PolicyEntry[]) => [entries, [...entries].reverse()];

  it.each(bothOrders([email('alice@corp.com'), email('Alice@corp.com'), email('ALICE@corp.com')]))(
    'email entries that fold to one address: %j',
    (...entries) => {
      expect(evaluate(policy({ allow: entries }), identity(), GET_ROOT, [])).toEqual(allowedBy(email('ALICE@corp.com')));
      expect(evaluate(policy({ allow: [any], deny: entries }), identity(), GET_ROOT, [])).toEqual({
        allow: false,
        reason: 'denied',
        entry: 'ALICE@corp.com',
      });
    },
  );

  it.each(bothOrders([domain('corp.com'), domain('Corp.com'), domain('CORP.COM')]))('domain entries: %j', (...entries) => {
    expect(evaluate(policy({ allow: entries }), identity(), GET_ROOT, [])).toEqual(allowedBy(domain('CORP.COM')));
  });

  it.each(bothOrders([claim('team', 'red'), claim('role', 'admin'), claim('dept', 'eng'), claim('site', 'x')]))(
    'claim entries: %j',
    (...entries) => {
      const who = identity({ claims: { team: 'red', role: 'admin', dept: 'eng', site: 'x' } });
      expect(evaluate(policy({ allow: entries }), who, GET_ROOT, [])).toEqual(allowedBy(claim('dept', 'eng')));
    },
  );

  it.each([
    [['c', 'a', 'b'], 'group:a'],
    [['b', 'c', 'a'], 'group:a'],
    [['a', 'c', 'b'], 'group:a'],
  ])('groups %j of the identity', (groups, entry) => {
    const entries = [group('b'), group('a'), group('c')];
    expect(evaluate(policy({ allow: entries }), identity({ groups }), GET_ROOT, []).entry).toBe(entry);
  });
});
