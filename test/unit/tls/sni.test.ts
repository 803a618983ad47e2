import { describe, expect, it } from 'vitest';
import { checkCertificate, type LoadedCertificate } from '../../../src/tls/certificate.ts';
import { buildSniIndex, selectCertificate } from '../../../src/tls/sni.ts';
import { createTestCa } from '../../helpers/test-ca.ts';

const ca = createTestCa();
const DAY = 86_400_000;

function loaded(source: string, names: string[], notAfterDays = 90): LoadedCertificate {
  const leaf = ca.issue({ names, notAfter: new Date(Date.now() + notAfterDays * DAY) });
  const checked = checkCertificate({ source, name: source.replace(/^.*[:/]/, ''), location: source, certPem: leaf.certPem, keyPem: leaf.keyPem }, Date.now());
  if (!checked.ok) throw new Error(checked.reason);
  return checked.certificate;
}

const apex = loaded('dir:example', ['example.test', 'www.example.test']);
const wild = loaded('dir:wild', ['*.example.test']);
const exactApp = loaded('dir:app', ['app.example.test']);
const other = loaded('dir:other', ['other.test']);

describe('SNI selection', () => {
  const index = buildSniIndex([wild, apex, exactApp, other]);

  it('prefers an exact name over a wildcard that also covers it', () => {
    expect(selectCertificate(index, 'app.example.test')).toBe(exactApp);
    expect(selectCertificate(index, 'WWW.Example.Test.')).toBe(apex);
  });

  it('uses a wildcard for exactly one label, never for the apex or two labels deep', () => {
    expect(selectCertificate(index, 'wiki.example.test')).toBe(wild);
    expect(selectCertificate(index, 'a.b.example.test')).toBe(index.fallback);
    expect(selectCertificate(index, 'example.test')).toBe(apex);
  });

  it('falls back to the first certificate in source order when nothing matches or no name is sent', () => {
    expect(index.fallback).toBe(exactApp);
    expect(selectCertificate(index, 'unknown.test')).toBe(exactApp);
    expect(selectCertificate(index, undefined)).toBe(exactApp);
    expect(selectCertificate(buildSniIndex([]), 'a.test')).toBeNull();
  });

  it('takes GATEHOUSE_TLS_DEFAULT_CERT as a certificate name or a host it covers', () => {
    expect(buildSniIndex([apex, wild, other], 'other').fallback).toBe(other);
    expect(buildSniIndex([apex, wild, other], 'anything.example.test').fallback).toBe(wild);
    const missing = buildSniIndex([apex, other], 'nope');
    expect(missing.fallback).toBe(apex);
    expect(missing.defaultProblem).toMatch(/GATEHOUSE_TLS_DEFAULT_CERT="nope" matches no loaded certificate/);
  });

  it('serves the certificate that expires last when two cover the same name (a renewal overlap)', () => {
    const older = loaded('dir:a-old', ['dup.test'], 10);
    const newer = loaded('dir:b-new', ['dup.test'], 80);
    expect(selectCertificate(buildSniIndex([older, newer]), 'dup.test')).toBe(newer);
    expect(selectCertificate(buildSniIndex([newer, older]), 'dup.test')).toBe(newer);
  });
});
