import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, formatEntry, type Identity } from '../../../src/policy/index.ts';
import type { PolicyEntry, RoutePolicy } from '../../../src/routes/spec.ts';

// Small alphabets so generated entries and identities actually collide.
const name = fc.constantFrom('a', 'b', 'admins', 'Admins', 'eng');
const domainName = fc.constantFrom('corp.com', 'CORP.com', 'evil.com', 'sub.corp.com');
const emailText = fc.oneof(
  fc.tuple(name, domainName).map(([local, domain]) => `${local}@${domain}`),
  fc.constant('a@evil.com@corp.com'),
  fc.constant('no-at-sign'),
);

const entry: fc.Arbitrary<PolicyEntry> = fc.oneof(
  emailText.map((email) => ({ kind: 'email' as const, email })),
  domainName.map((domain) => ({ kind: 'domain' as const, domain: domain.toLowerCase() })),
  name.map((group) => ({ kind: 'group' as const, group })),
  fc.tuple(fc.constantFrom('dept', 'roles', 'level'), fc.constantFrom('eng', 'ops', '3', 'true')).map(([claim, value]) => ({
    kind: 'claim' as const,
    claim,
    value,
  })),
  name.map((sub) => ({ kind: 'user' as const, sub })),
  fc.constant({ kind: 'any' as const }),
);

const identity: fc.Arbitrary<Identity | null> = fc.option(
  fc.record({
    sub: name,
    email: fc.option(emailText),
    emailVerified: fc.option(fc.boolean()),
    name: fc.constant(null),
    groups: fc.array(name, { maxLength: 3 }),
    claims: fc.record(
      {
        dept: fc.constantFrom('eng', 'ops'),
        roles: fc.array(fc.constantFrom('eng', 'ops', 'viewer'), { maxLength: 2 }),
        level: fc.constantFrom(3, 4, true),
      },
      { requiredKeys: [] },
    ),
  }),
  { freq: 8 },
);

const routePolicy: fc.Arbitrary<RoutePolicy> = fc.record({
  public: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
  allow: fc.array(entry, { maxLength: 5 }),
  deny: fc.array(entry, { maxLength: 3 }),
  bypass: fc.constant([]),
  corsPreflight: fc.constant(false),
});

const request = { method: 'GET', path: '/', headers: {}, now: 0 };

describe('policy properties', () => {
  it('adding a deny entry never turns a decision into an allow', () => {
    fc.assert(
      fc.property(routePolicy, identity, entry, fc.array(entry, { maxLength: 2 }), (p, who, extra, defaults) => {
        const before = evaluate(p, who, request, defaults);
        const after = evaluate({ ...p, deny: [...p.deny, extra] }, who, request, defaults);
        if (!before.allow) expect(after.allow).toBe(false);
        if (after.allow) expect(before).toEqual(after);
      }),
      { numRuns: 2_000 },
    );
  });

  it('a deny entry that matches an allowed identity always denies, naming a deny entry', () => {
    fc.assert(
      fc.property(routePolicy, identity, fc.array(entry, { maxLength: 2 }), (p, who, defaults) => {
        const before = evaluate(p, who, request, defaults);
        if (!before.allow || before.entry === null) return;
        // Every allow entry that let the identity in, used as a deny entry, must now deny it.
        const decidingEntry = [...p.allow, ...defaults].find((e) => formatEntry(e) === before.entry) as PolicyEntry;
        const after = evaluate({ ...p, deny: [...p.deny, decidingEntry] }, who, request, defaults);
        expect(after.allow).toBe(false);
        expect(after.reason).toBe('denied');
        expect([...p.deny, decidingEntry].map(formatEntry)).toContain(after.entry);
      }),
      { numRuns: 2_000 },
    );
  });

  it('the order of entries never changes the decision', () => {
    fc.assert(
      fc.property(
        routePolicy,
        identity,
        fc.array(entry, { maxLength: 3 }),
        fc.func(fc.integer()),
        (p, who, defaults, rank) => {
          const shuffle = <T>(items: readonly T[]): T[] =>
            items
              .map((item, i) => ({ item, key: rank(i, JSON.stringify(item)) }))
              .sort((a, b) => a.key - b.key)
              .map(({ item }) => item);
          const before = evaluate(p, who, request, defaults);
          const after = evaluate({ ...p, allow: shuffle(p.allow), deny: shuffle(p.deny) }, who, request, shuffle(defaults));
          expect(after).toEqual(before);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('without identity nothing but public routes is allowed', () => {
    fc.assert(
      fc.property(routePolicy, fc.array(entry, { maxLength: 3 }), (p, defaults) => {
        const decision = evaluate(p, null, request, defaults);
        expect(decision.allow).toBe(p.public);
      }),
    );
  });
});
