import { describe, expect, it } from 'vitest';
import { parsePolicyList } from '../../../src/labels/index.ts';
import { evaluate, type Identity } from '../../../src/policy/index.ts';
import type { PolicyEntry, RoutePolicy } from '../../../src/routes/spec.ts';

// Entries as people write them in labels (`iap.allow`, `iap.deny`) and GATEHOUSE_DEFAULT_ALLOW,
// spaces and all, through the parser and into the policy. A space that stayed in a name would
// make the entry silently match nobody: harmless in an allow, a hole in a deny.

function entries(text: string): PolicyEntry[] {
  const parsed = parsePolicyList(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.value;
}

function policy(allow: string, deny: string): RoutePolicy {
  return { public: false, allow: entries(allow), deny: entries(deny), bypass: [], corsPreflight: false };
}

const contractor: Identity = {
  sub: 'c-17',
  email: 'carol@corp.com',
  emailVerified: true,
  name: 'Carol',
  groups: ['staff', 'contractors'],
  claims: { employment: 'contract', level: 2 },
};
const GET_ROOT = { method: 'GET', path: '/', headers: {}, now: 0 };

describe('spaces around written entries', () => {
  it.each([
    'group: contractors',
    'group:contractors ',
    'group:  contractors  ',
    ' group:contractors',
    'user: c-17',
    'user:c-17 ',
    'claim: employment=contract',
    'claim:employment =contract',
    'claim:employment= contract',
    'claim: employment = contract ',
    'claim:level= 2',
    ' carol@corp.com',
    '@corp.com ',
  ])('a deny written %j keeps the contractor out', (deny) => {
    const decision = evaluate(policy('*', `staff@corp.com, ${deny}`), contractor, GET_ROOT, []);
    expect(decision.allow).toBe(false);
    expect(decision.reason).toBe('denied');
  });

  it.each(['group: staff', 'group:staff ', 'user: c-17', 'claim: employment = contract', ' @corp.com'])(
    'an allow written %j lets the contractor in',
    (allow) => {
      expect(evaluate(policy(`nobody@corp.com, ${allow}`, ''), contractor, GET_ROOT, []).allow).toBe(true);
    },
  );

  it('the parsed entries carry no surrounding spaces', () => {
    expect(entries(' group: a b , user: x ,claim: k = v , *')).toEqual([
      { kind: 'group', group: 'a b' },
      { kind: 'user', sub: 'x' },
      { kind: 'claim', claim: 'k', value: 'v' },
      { kind: 'any' },
    ]);
  });

  it('a claim entry with a space inside its key is refused rather than matching nobody', () => {
    expect(parsePolicyList('claim:employment type=contract').ok).toBe(false);
  });
});
