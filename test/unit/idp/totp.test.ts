import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase32, encodeBase32, generateTotpSecret, hotp, matchTotp, otpauthUri, totpStep } from '../../../src/idp/totp.ts';

const SHA1_KEY = Buffer.from('12345678901234567890');
const SHA256_KEY = Buffer.from('12345678901234567890123456789012');
const SHA512_KEY = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');

describe('HOTP and TOTP', () => {
  it('matches the RFC 4226 appendix D HOTP values', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(SHA1_KEY, counter))).toEqual(expected);
  });

  it.each([
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ])('matches the RFC 6238 appendix B values at T=%i', (seconds, sha1, sha256, sha512) => {
    const step = totpStep(seconds * 1000);
    expect(hotp(SHA1_KEY, step, 8, 'sha1')).toBe(sha1);
    expect(hotp(SHA256_KEY, step, 8, 'sha256')).toBe(sha256);
    expect(hotp(SHA512_KEY, step, 8, 'sha512')).toBe(sha512);
  });

  it('accepts the current code and one step either side, nothing further', () => {
    const now = 1_700_000_000_000;
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) expect(matchTotp(SHA1_KEY, hotp(SHA1_KEY, step + offset), now, null)).toBe(step + offset);
    for (const offset of [-3, -2, 2, 3]) expect(matchTotp(SHA1_KEY, hotp(SHA1_KEY, step + offset), now, null)).toBeNull();
  });

  it('refuses a code from a step already used, and any older one', () => {
    const now = 1_700_000_000_000;
    const step = totpStep(now);
    const code = hotp(SHA1_KEY, step);
    expect(matchTotp(SHA1_KEY, code, now, null)).toBe(step);
    expect(matchTotp(SHA1_KEY, code, now, step)).toBeNull();
    expect(matchTotp(SHA1_KEY, hotp(SHA1_KEY, step - 1), now, step)).toBeNull();
    expect(matchTotp(SHA1_KEY, hotp(SHA1_KEY, step + 1), now, step)).toBe(step + 1);
  });

  it.each(['', '12345', '1234567', 'abcdef', '12 34 5a'])('refuses the malformed code %j', (code) => {
    expect(matchTotp(SHA1_KEY, code, Date.now(), null)).toBeNull();
  });

  it('tolerates spaces inside a typed code', () => {
    const now = Date.now();
    const code = hotp(SHA1_KEY, totpStep(now));
    expect(matchTotp(SHA1_KEY, `${code.slice(0, 3)} ${code.slice(3)}`, now, null)).toBe(totpStep(now));
  });
});

describe('base32', () => {
  it('encodes and decodes the RFC 4648 vectors', () => {
    const vectors: Array<[string, string]> = [['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, encoded] of vectors) {
      expect(encodeBase32(Buffer.from(plain))).toBe(encoded);
      expect(decodeBase32(encoded)?.toString()).toBe(plain);
    }
  });

  it('reads secrets as people paste them: lower case, spaces, dashes, padding', () => {
    expect(decodeBase32('mzxw 6ytb-oi======')?.toString()).toBe('foobar');
    expect(decodeBase32('MZXW1')).toBeNull();
    expect(decodeBase32('')).toBeNull();
  });

  it('round-trips any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const buffer = Buffer.from(bytes);
      expect(decodeBase32(encodeBase32(buffer)) ?? Buffer.alloc(0)).toEqual(buffer);
    }));
  });

  it('generates 160-bit secrets, different each time', () => {
    const a = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(decodeBase32(a)?.length).toBe(20);
    expect(generateTotpSecret()).not.toBe(a);
  });
});

describe('otpauth URI', () => {
  it('carries issuer, account and the parameters authenticator apps expect', () => {
    const uri = new URL(otpauthUri({ issuer: 'Gatehouse', account: 'alice smith', secret: 'JBSWY3DPEHPK3PXP' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Gatehouse:alice smith');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'Gatehouse', algorithm: 'SHA1', digits: '6', period: '30' });
  });
});
