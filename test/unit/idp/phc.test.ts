import { argon2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ARGON2, formatPhc, hashPassword, parsePhc, verifyPhc } from '../../../src/idp/phc.ts';

/** Made with the reference implementation: `echo -n PASSWORD | argon2 SALT -id -t 3 -m 16 -p 4 -l 32 -e` (Debian's argon2 package). */
const FROM_ARGON2_CLI = [
  { password: 'correct horse battery staple', phc: '$argon2id$v=19$m=65536,t=3,p=4$Z2F0ZWhvdXNlLXNhbHQtMDEyMw$ugKTRKNmtIH6QN3R8HXySi247CsIh9WFOpx5W4+SMKE' },
  { password: 'correct horse battery staple', phc: '$argon2id$v=19$m=4096,t=2,p=1$Z2F0ZWhvdXNlLXNhbHQtMDEyMw$u+oi20lxJsEiFSh+f90bZQ' },
  { password: 'correct horse battery staple', phc: '$argon2i$v=19$m=4096,t=3,p=2$Z2F0ZWhvdXNlLXNhbHQtMDEyMw$dhMxBWjPuRbhrQTioOLrJxOiqrf/YUGzA5BAlkJw9Wk' },
  { password: 'correct horse battery staple', phc: '$argon2d$v=19$m=1024,t=1,p=1$Z2F0ZWhvdXNlLXNhbHQtMDEyMw$eD3ff6zBAwsCODSHFyMIghUb8XPQN6Ik' },
  { password: 'pässwörd ☃', phc: '$argon2id$v=19$m=1024,t=1,p=1$YW5vdGhlci1zYWx0LXh5eg$hNaEiYUrUpTA6XyVgPwb5TE7tEG++0C5A7O3KqUlIHM' },
];

function parsed(text: string) {
  const result = parsePhc(text);
  if (!result.ok) throw new Error(result.problem);
  return result.value;
}

describe('PHC argon2 hashes', () => {
  it.each(FROM_ARGON2_CLI)('verifies a hash made by the argon2 CLI: $phc', async ({ password, phc }) => {
    const hash = parsed(phc);
    expect(await verifyPhc(password, hash)).toBe(true);
    expect(await verifyPhc(`${password}x`, hash)).toBe(false);
    expect(await verifyPhc(password.toUpperCase(), hash)).toBe(false);
  });

  it('formats exactly what it parses (base64 without padding)', () => {
    for (const { phc } of FROM_ARGON2_CLI) expect(formatPhc(parsed(phc))).toBe(phc);
  });

  it('node:crypto computes RFC 9106 argon2id (section 5.3 test vector)', () => {
    const tag = argon2Sync('argon2id', {
      message: Buffer.alloc(32, 0x01),
      nonce: Buffer.alloc(16, 0x02),
      secret: Buffer.alloc(8, 0x03),
      associatedData: Buffer.alloc(12, 0x04),
      memory: 32,
      passes: 3,
      parallelism: 4,
      tagLength: 32,
    });
    expect(tag.toString('hex')).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });

  it('hashes with argon2id, the default parameters and a fresh salt', async () => {
    const first = await hashPassword('s3cret pass');
    const second = await hashPassword('s3cret pass');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(first).not.toBe(second);
    const hash = parsed(first);
    expect({ memoryKiB: hash.memoryKiB, passes: hash.passes, parallelism: hash.parallelism }).toEqual(DEFAULT_ARGON2);
    expect(await verifyPhc('s3cret pass', hash)).toBe(true);
    expect(await verifyPhc('s3cret pas', hash)).toBe(false);
  });

  it('takes well under a second of CPU with the default parameters', async () => {
    // CPU time, not wall time: on a machine busy with other work the hash waits for a core,
    // but the work it does (what a flood of sign-ins would cost) stays the same.
    const started = process.cpuUsage();
    await hashPassword('timing');
    const { user, system } = process.cpuUsage(started);
    expect((user + system) / 1000).toBeLessThan(1000);
  });

  it.each([
    ['', 'PHC format'],
    ['plaintext-password', 'PHC format'],
    ['$2b$12$abcdefghijklmnopqrstuv', 'PHC format'],
    ['$scrypt$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'unsupported algorithm "scrypt"'],
    ['$argon2id$v=16$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'unsupported argon2 version "v=16"'],
    ['$argon2id$v=19$m=16,t=2$c2FsdHNhbHQ$aGFzaGhhc2g', 'must include m, t and p'],
    ['$argon2id$v=19$m=16,t=2,p=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'bad parameter "p=1"'],
    ['$argon2id$v=19$m=16,t=2,x=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'bad parameter "x=1"'],
    ['$argon2id$v=19$m=4,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'm=4 is out of range'],
    ['$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'm=4194304 is out of range'],
    ['$argon2id$v=19$m=65536,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 't=0 is out of range'],
    ['$argon2id$v=19$m=65536,t=1,p=99$c2FsdHNhbHQ$aGFzaGhhc2g', 'p=99 is out of range'],
    ['$argon2id$v=19$m=65536,t=1,p=1$c2Fs$aGFzaGhhc2g', 'the salt is 3 bytes'],
    ['$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHQ=$aGFzaGhhc2g', 'base64 without padding'],
    ['$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHQ$a-b_', 'base64 without padding'],
  ])('rejects %j with a reason', (text, reason) => {
    const result = parsePhc(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(reason);
  });
});
