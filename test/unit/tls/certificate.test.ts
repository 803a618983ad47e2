import { describe, expect, it } from 'vitest';
import { checkCertificate, type CertificateCandidate } from '../../../src/tls/certificate.ts';
import { createTestCa } from '../../helpers/test-ca.ts';

const ca = createTestCa();
const DAY = 86_400_000;

function candidate(certPem: string, keyPem: string): CertificateCandidate {
  return { source: 'dir:app.crt', name: 'app', location: '/certs/app.crt + /certs/app.key', certPem, keyPem };
}

describe('checkCertificate', () => {
  it('accepts a pair that matches and is in date, with its DNS names, dates and the chain it carries', () => {
    const leaf = ca.issue({ names: ['App.Test', '*.wild.test'], notAfter: new Date(Date.now() + 30 * DAY) });
    const checked = checkCertificate(candidate(leaf.certPem + ca.certPem, leaf.keyPem), Date.now());
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.certificate.names).toEqual(['app.test', '*.wild.test']);
    expect(checked.certificate.fingerprint256).toBe(leaf.fingerprint256);
    expect(checked.certificate.notAfter).toBeGreaterThan(Date.now() + 29 * DAY);
    expect(checked.certificate.issuer).toContain('Gatehouse Test CA');
    expect(Object.isFrozen(checked.certificate)).toBe(true);
  });

  it('falls back to the subject CN only when there is no DNS subjectAltName', () => {
    const leaf = ca.issue({ names: [], commonName: 'legacy.test' });
    const checked = checkCertificate(candidate(leaf.certPem, leaf.keyPem), Date.now());
    expect(checked.ok && checked.certificate.names).toEqual(['legacy.test']);
  });

  it.each([
    ['no PEM block', () => ['hello', ca.issue({ names: ['a.test'] }).keyPem], /no PEM certificate/],
    ['a certificate that does not parse', () => ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', ca.issue({ names: ['a.test'] }).keyPem], /does not parse/],
    ['a key that does not parse', () => [ca.issue({ names: ['a.test'] }).certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'], /private key does not parse/],
    ['a key from another certificate', () => [ca.issue({ names: ['a.test'] }).certPem, ca.issue({ names: ['b.test'] }).keyPem], /does not match its private key/],
  ])('refuses %s, saying why', (_label, make, reason) => {
    const [certPem, keyPem] = make() as [string, string];
    const checked = checkCertificate(candidate(certPem, keyPem), Date.now());
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(reason);
  });

  it('refuses an expired certificate and one that is not valid yet', () => {
    const expired = ca.issue({ names: ['old.test'], notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
    const early = ca.issue({ names: ['new.test'], notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 100 * DAY) });
    const a = checkCertificate(candidate(expired.certPem, expired.keyPem), Date.now());
    const b = checkCertificate(candidate(early.certPem, early.keyPem), Date.now());
    expect(!a.ok && a.reason).toMatch(/expired on \d{4}-/);
    expect(!b.ok && b.reason).toMatch(/not valid before/);
    // The same expired pair was fine while it was in date.
    expect(checkCertificate(candidate(expired.certPem, expired.keyPem), Date.now() - 50 * DAY).ok).toBe(true);
  });
});
