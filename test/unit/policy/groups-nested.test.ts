import { describe, expect, it } from 'vitest';
import { extractGroups } from '../../../src/policy/index.ts';

// A dotted group claim name (`realm_access.roles`) is followed through plain nested objects
// only: a hostile or sloppy identity provider must not get groups out of a string's letters,
// an array's items, a null or an object's prototype.
describe('extractGroups: what a dotted claim name follows', () => {
  it.each([
    ['a null on the way', { realm_access: null }, 'realm_access.roles'],
    ['a string on the way (its letters are not groups)', { team: 'admins' }, 'team.0'],
    ['a string on the way (its length is not a group)', { team: 'admins' }, 'team.length'],
    ['an array on the way (its items are not followed)', { realm_access: [{ roles: ['admin'] }] }, 'realm_access.0.roles'],
    ['an array on the way (an item is not a group)', { roles: ['admin'] }, 'roles.0'],
    ['a number on the way', { realm_access: 5 }, 'realm_access.roles'],
    ['an inherited property', { realm_access: Object.create({ roles: ['admin'] }) as object }, 'realm_access.roles'],
    ['an inherited property at the top', Object.create({ realm_access: { roles: ['admin'] } }) as Record<string, unknown>, 'realm_access.roles'],
  ])('stops at %s', (_name, claims, claimName) => {
    expect(extractGroups(claims as Record<string, unknown>, claimName)).toEqual([]);
  });

  it('follows several levels of plain objects', () => {
    expect(extractGroups({ a: { b: { c: 'x y' } } }, 'a.b.c')).toEqual(['x', 'y']);
  });

  it('prefers the literal claim name over the nested path', () => {
    expect(extractGroups({ 'realm_access.roles': ['literal'], realm_access: { roles: ['nested'] } }, 'realm_access.roles')).toEqual([
      'literal',
    ]);
  });

  it('an undotted name that is not a claim gives no groups, even when the prototype has it', () => {
    expect(extractGroups(Object.create({ groups: ['admin'] }) as Record<string, unknown>, 'groups')).toEqual([]);
  });
});
