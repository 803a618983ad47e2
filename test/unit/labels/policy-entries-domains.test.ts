import { describe, expect, it } from 'vitest';
import { parsePolicyEntry } from '../../../src/labels/index.ts';

// The domain of an `alice@example.com` or `@example.com` entry, label by label: every label,
// the last one too, is letters and digits with inner hyphens only. Anything else is refused
// with the grammar, rather than kept as an entry that can never match a real address.
describe('policy entries: the domain part', () => {
  it.each([
    ['@x.y', { kind: 'domain', domain: 'x.y' }],
    ['@corp.x', { kind: 'domain', domain: 'corp.x' }],
    ['a@b.c', { kind: 'email', email: 'a@b.c' }],
    ['@a-b.c-d.e', { kind: 'domain', domain: 'a-b.c-d.e' }],
    ['@corp.1', { kind: 'domain', domain: 'corp.1' }],
  ])('%j is accepted', (text, entry) => {
    expect(parsePolicyEntry(text)).toEqual(entry);
  });

  it.each([
    '@corp.example-',
    '@corp.-example',
    '@corp.ex_ample',
    '@corp.ex ample',
    '@corp.ex/ample',
    'alice@corp.example-',
    'alice@corp.ex_ample',
    '@corp.com.',
  ])('%j is not an entry', (text) => {
    expect(parsePolicyEntry(text)).toBeNull();
  });
});
