import { describe, expect, it } from 'vitest';
import type { CertificateCandidate, LoadedCertificate } from '../../../src/tls/certificate.ts';
import { mergeScan } from '../../../src/tls/merge.ts';
import { createTestCa } from '../../helpers/test-ca.ts';

const ca = createTestCa();
const DAY = 86_400_000;

function pair(source: string, names: string[], days = 90): CertificateCandidate {
  const leaf = ca.issue({ names, notAfter: new Date(Date.now() + days * DAY) });
  return { source, name: source, location: `/certs/${source}`, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

function load(...candidates: CertificateCandidate[]): ReadonlyMap<string, LoadedCertificate> {
  const result = mergeScan(new Map(), { candidates, failures: [] }, Date.now());
  expect(result.skipped).toEqual([]);
  return result.next;
}

describe('mergeScan', () => {
  const a = pair('a', ['a.test']);
  const b = pair('b', ['b.test']);

  it('keeps the previous good certificate of a pair that is now broken, and says so', () => {
    const before = load(a, b);
    const broken = { ...a, certPem: 'half-written' };
    const result = mergeScan(before, { candidates: [broken, b], failures: [] }, Date.now());
    expect(result.next.get('a')).toBe(before.get('a'));
    expect(result.skipped).toEqual([{ location: '/certs/a', reason: expect.stringMatching(/no PEM certificate/), keptPrevious: before.get('a') }]);
    expect(result.loaded).toEqual([]);
    expect(result.removed).toEqual([]);
  });

  it('keeps it when the key no longer matches (a renewal written half-way) and when the pair went unreadable', () => {
    const before = load(a);
    const mismatched = { ...a, keyPem: b.keyPem };
    expect(mergeScan(before, { candidates: [mismatched], failures: [] }, Date.now()).next.get('a')).toBe(before.get('a'));
    const unreadable = mergeScan(before, { candidates: [], failures: [{ source: 'a', location: '/certs/a', reason: 'cannot read the files (EACCES)' }] }, Date.now());
    expect(unreadable.next.get('a')).toBe(before.get('a'));
  });

  it('replaces a certificate that changed and drops a pair that is gone', () => {
    const before = load(a, b);
    const renewed = { ...pair('a', ['a.test'], 80) };
    const result = mergeScan(before, { candidates: [renewed], failures: [] }, Date.now());
    expect(result.next.get('a')?.certPem).toBe(renewed.certPem);
    expect(result.loaded.map((c) => c.source)).toEqual(['a']);
    expect(result.removed.map((c) => c.source)).toEqual(['b']);
    expect(result.next.has('b')).toBe(false);
  });

  it('reuses an unchanged certificate as it is (no new context per rescan)', () => {
    const before = load(a);
    const result = mergeScan(before, { candidates: [a], failures: [] }, Date.now());
    expect(result.next.get('a')).toBe(before.get('a'));
    expect(result.loaded).toEqual([]);
  });

  it('keeps everything when the origin as a whole could not be read', () => {
    const before = load(a, b);
    const result = mergeScan(before, { candidates: [], failures: [], fatal: { location: 'acme.json', reason: 'not valid JSON' } }, Date.now());
    expect(result.next).toBe(before);
    expect(result.removed).toEqual([]);
    expect(result.skipped).toEqual([{ location: 'acme.json', reason: 'not valid JSON', keptPrevious: null }]);
  });

  it('does not keep a previous certificate that has itself expired since', () => {
    const short = pair('s', ['s.test'], 1);
    const before = load(short);
    const later = Date.now() + 2 * DAY;
    const result = mergeScan(before, { candidates: [short], failures: [] }, later);
    expect(result.next.has('s')).toBe(false);
    expect(result.skipped[0]).toMatchObject({ reason: expect.stringMatching(/expired/), keptPrevious: null });
    expect(result.removed.map((c) => c.source)).toEqual(['s']);
  });
});
