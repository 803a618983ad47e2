import { describe, expect, it } from 'vitest';
import { parsePolicyEntry, parsePolicyList } from '../../../src/labels/index.ts';

describe('policy entries', () => {
  const VALID: [string, unknown][] = [
    ['alice@example.com', { kind: 'email', email: 'alice@example.com' }],
    ['Alice.Smith+nas@Example.COM', { kind: 'email', email: 'alice.smith+nas@example.com' }],
    ['root@localhost', { kind: 'email', email: 'root@localhost' }],
    ['@example.com', { kind: 'domain', domain: 'example.com' }],
    ['@Sub.Example.com', { kind: 'domain', domain: 'sub.example.com' }],
    ['@bücher.example', { kind: 'domain', domain: 'bücher.example' }],
    ['group:NAS Admins', { kind: 'group', group: 'NAS Admins' }],
    ['claim:role=admin', { kind: 'claim', claim: 'role', value: 'admin' }],
    ['claim:team=a=b', { kind: 'claim', claim: 'team', value: 'a=b' }],
    ['user:248289761001', { kind: 'user', sub: '248289761001' }],
    ['*', { kind: 'any' }],
  ];
  it.each(VALID)('%j', (text, entry) => {
    expect(parsePolicyEntry(text)).toEqual(entry);
  });

  it.each([
    'alice',
    'a@b@example.com',
    'alice@evil.com@corp.com',
    '@',
    '@.com',
    '@example..com',
    '@-example.com',
    'alice@',
    'al ice@example.com',
    'group:',
    'claim:role',
    'claim: =x',
    'claim:role=',
    'user:',
    '**',
    'Group:x',
  ])('%j is not an entry', (text) => {
    expect(parsePolicyEntry(text)).toBeNull();
  });

  it('a list trims, skips empty entries and reports every bad one', () => {
    expect(parsePolicyList(' alice@example.com ,, group:x ,')).toEqual({
      ok: true,
      value: [
        { kind: 'email', email: 'alice@example.com' },
        { kind: 'group', group: 'x' },
      ],
    });
    expect(parsePolicyList('alice, group:ok, bob')).toEqual({
      ok: false,
      problem: '"alice", "bob" are not policy entries: expected alice@example.com, @example.com, group:NAME, claim:KEY=VALUE, user:SUB, provider:NAME, ip:192.168.1.0/24 or *',
    });
  });
});
