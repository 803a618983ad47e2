import { describe, expect, it } from 'vitest';
import { extractGroups, MAX_GROUPS } from '../../../src/policy/index.ts';

describe('extractGroups', () => {
  it.each([
    ['array of strings', { groups: ['admins', 'users'] }, ['admins', 'users']],
    ['non-strings in the array are ignored', { groups: ['admins', 7, null, { a: 1 }, ['x'], true, 'users'] }, ['admins', 'users']],
    ['empty names are ignored', { groups: ['', 'admins'] }, ['admins']],
    ['duplicates dropped, order kept', { groups: ['b', 'a', 'b'] }, ['b', 'a']],
    ['space-separated string', { groups: 'admins users  ops' }, ['admins', 'users', 'ops']],
    ['comma-separated string', { groups: 'admins,users, ops' }, ['admins', 'users', 'ops']],
    ['single group string', { groups: 'admins' }, ['admins']],
    ['empty string', { groups: '' }, []],
    ['missing claim', {}, []],
    ['number claim', { groups: 5 }, []],
    ['object claim', { groups: { admins: true } }, []],
    ['null claim', { groups: null }, []],
    ['case is kept', { groups: ['Admins', 'admins'] }, ['Admins', 'admins']],
  ])('%s', (_name, claims, expected) => {
    expect(extractGroups(claims as Record<string, unknown>, 'groups')).toEqual(expected);
  });

  it('reads the configured claim name', () => {
    expect(extractGroups({ groups: ['a'], roles: ['b'] }, 'roles')).toEqual(['b']);
  });

  it('follows a dotted name into nested claims when no claim has the literal name', () => {
    expect(extractGroups({ realm_access: { roles: ['admin', 'user'] } }, 'realm_access.roles')).toEqual(['admin', 'user']);
    expect(extractGroups({ 'https://example.com/groups': ['x'] }, 'https://example.com/groups')).toEqual(['x']);
    expect(extractGroups({ realm_access: ['roles'] }, 'realm_access.roles')).toEqual([]);
    expect(extractGroups({}, 'constructor.name')).toEqual([]);
  });

  it(`caps the list at ${MAX_GROUPS} entries`, () => {
    const many = Array.from({ length: 5_000 }, (_, i) => `g${i}`);
    expect(extractGroups({ groups: many }, 'groups')).toEqual(many.slice(0, MAX_GROUPS));
    expect(extractGroups({ groups: many.join(' ') }, 'groups')).toHaveLength(MAX_GROUPS);
  });
});
