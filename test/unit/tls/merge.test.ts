import { describe, expect, it } from 'vitest';
import type { CertificateCandidate, LoadedCertificate } from '../../../src/tls/certificate.ts';
import { EMPTY_ORIGIN, graceDeadline, mergeScan, type OriginState } from '../../../src/tls/merge.ts';
import { createTestCa } from '../../helpers/test-ca.ts';

const ca = createTestCa();
const DAY = 86_400_000;

function pair(source: string, names: string[], days = 90): CertificateCandidate {
  const leaf = ca.issue({ names, notAfter: new Date(Date.now() + days * DAY) });
  return { source, name: source, location: `/certs/${source}`, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

function load(...candidates: CertificateCandidate[]): OriginState & { get(source: string): LoadedCertificate | undefined } {
  const result = mergeScan(EMPTY_ORIGIN, { candidates, failures: [] }, Date.now());
  expect(result.skipped).toEqual([]);
  const state = { certificates: result.certificates, absentSince: result.absentSince };
  return { ...state, get: (source) => state.certificates.get(source) };
}

describe('mergeScan', () => {
  const a = pair('a', ['a.test']);
  const b = pair('b', ['b.test']);

  it('keeps the previous good certificate of a pair that is now broken, and says so', () => {
    const before = load(a, b);
    const broken = { ...a, certPem: 'half-written' };
    const result = mergeScan(before, { candidates: [broken, b], failures: [] }, Date.now());
    expect(result.certificates.get('a')).toBe(before.get('a'));
    expect(result.skipped).toEqual([{ location: '/certs/a', reason: expect.stringMatching(/no PEM certificate/), keptPrevious: before.get('a') }]);
    expect(result.loaded).toEqual([]);
    expect(result.removed).toEqual([]);
  });

  it('keeps it when the key no longer matches (a renewal written half-way) and when the pair went unreadable', () => {
    const before = load(a);
    const mismatched = { ...a, keyPem: b.keyPem };
    expect(mergeScan(before, { candidates: [mismatched], failures: [] }, Date.now()).certificates.get('a')).toBe(before.get('a'));
    const unreadable = mergeScan(before, { candidates: [], failures: [{ source: 'a', location: '/certs/a', reason: 'cannot read the files (EACCES)' }] }, Date.now());
    expect(unreadable.certificates.get('a')).toBe(before.get('a'));
  });

  it('replaces a certificate that changed and drops a pair that is gone', () => {
    const before = load(a, b);
    const renewed = { ...pair('a', ['a.test'], 80) };
    const result = mergeScan(before, { candidates: [renewed], failures: [] }, Date.now());
    expect(result.certificates.get('a')?.certPem).toBe(renewed.certPem);
    expect(result.loaded.map((c) => c.source)).toEqual(['a']);
    expect(result.removed.map((c) => c.source)).toEqual(['b']);
    expect(result.certificates.has('b')).toBe(false);
  });

  it('reuses an unchanged certificate as it is (no new context per rescan)', () => {
    const before = load(a);
    const result = mergeScan(before, { candidates: [a], failures: [] }, Date.now());
    expect(result.certificates.get('a')).toBe(before.get('a'));
    expect(result.loaded).toEqual([]);
  });

  it('keeps everything when the origin as a whole could not be read', () => {
    const before = load(a, b);
    const result = mergeScan(before, { candidates: [], failures: [], fatal: { location: 'acme.json', reason: 'not valid JSON' } }, Date.now());
    expect(result.certificates).toBe(before.certificates);
    expect(result.removed).toEqual([]);
    expect(result.skipped).toEqual([{ location: 'acme.json', reason: 'not valid JSON', keptPrevious: null }]);
  });

  it('does not keep a previous certificate that has itself expired since', () => {
    const short = pair('s', ['s.test'], 1);
    const before = load(short);
    const later = Date.now() + 2 * DAY;
    const result = mergeScan(before, { candidates: [short], failures: [] }, later);
    expect(result.certificates.has('s')).toBe(false);
    expect(result.skipped[0]).toMatchObject({ reason: expect.stringMatching(/expired/), keptPrevious: null });
    expect(result.removed.map((c) => c.source)).toEqual(['s']);
  });

  describe('certificates whose files are gone (a folder emptied and rewritten)', () => {
    const GRACE = 60_000;
    const t0 = Date.now();
    const gone = { candidates: [], failures: [] };

    it('keeps a missing pair through the grace period, counted from when it was first missed', () => {
      const before = load(a, b);
      const first = mergeScan(before, { candidates: [b], failures: [] }, t0, GRACE);
      expect(first.certificates.get('a')).toBe(before.get('a'));
      expect([...first.absentSince]).toEqual([['a', t0]]);
      expect(first.removed).toEqual([]);
      expect(first.skipped).toEqual([]);
      const later = mergeScan(first, { candidates: [b], failures: [] }, t0 + GRACE - 1, GRACE);
      expect(later.certificates.get('a')).toBe(before.get('a'));
      expect(later.absentSince.get('a')).toBe(t0);
      expect(graceDeadline([later], GRACE)).toBe(t0 + GRACE);
    });

    it('drops it once the grace period has run out', () => {
      const first = mergeScan(load(a, b), gone, t0, GRACE);
      const expired = mergeScan(first, gone, t0 + GRACE, GRACE);
      expect([...expired.certificates.keys()]).toEqual([]);
      expect(expired.removed.map((c) => c.source).sort()).toEqual(['a', 'b']);
      expect(expired.absentSince.size).toBe(0);
      expect(graceDeadline([expired], GRACE)).toBeNull();
    });

    it('takes the rewritten pair back as the same certificate, and restarts the clock', () => {
      const before = load(a);
      const empty = mergeScan(before, gone, t0, GRACE);
      const back = mergeScan(empty, { candidates: [a], failures: [] }, t0 + 1_000, GRACE);
      expect(back.certificates.get('a')).toBe(before.get('a'));
      expect(back.absentSince.size).toBe(0);
      expect(back.loaded).toEqual([]);
      const goneAgain = mergeScan(back, gone, t0 + GRACE + 5_000, GRACE);
      expect(goneAgain.absentSince.get('a')).toBe(t0 + GRACE + 5_000);
      expect(goneAgain.certificates.has('a')).toBe(true);
    });

    it('treats a folder or file that is missing altogether like one emptied, and reports it', () => {
      const missing = { candidates: [], failures: [], fatal: { location: '/certs', reason: 'the folder does not exist', missing: true } };
      const first = mergeScan(load(a), missing, t0, GRACE);
      expect(first.certificates.has('a')).toBe(true);
      expect(first.skipped).toEqual([{ location: '/certs', reason: 'the folder does not exist', keptPrevious: null }]);
      expect(mergeScan(first, missing, t0 + GRACE, GRACE).certificates.has('a')).toBe(false);
    });

    it('drops a missing pair at once without a grace period', () => {
      expect(mergeScan(load(a), gone, t0).removed.map((c) => c.source)).toEqual(['a']);
    });
  });
});
