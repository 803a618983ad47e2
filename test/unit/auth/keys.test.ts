import { execFile } from 'node:child_process';
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeSecret, derivePurposeKeys, loadSecrets, PURPOSES } from '../../../src/auth/keys.ts';
import { seal, unseal } from '../../../src/auth/seal.ts';
import { GatehouseError, isGatehouseError } from '../../../src/errors.ts';
import { NOW, NOW_S } from './fixtures.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function loadError(secret: string | undefined, dataDir = tempDir()): Promise<GatehouseError> {
  try {
    await loadSecrets({ name: 'GATEHOUSE_SECRET', value: secret }, dataDir);
  } catch (error) {
    if (error instanceof GatehouseError) return error;
    throw error;
  }
  throw new Error('expected loadSecrets to fail');
}

describe('decodeSecret', () => {
  const bytes = randomBytes(32);
  it.each([
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
  ])('decodes %s of 32 bytes', (_name, text) => {
    expect(decodeSecret(text)?.equals(bytes)).toBe(true);
  });

  it('uses a raw string of ≥ 32 bytes as it is', () => {
    const text = 'this is a long passphrase, 32b+!';
    expect(decodeSecret(text)?.toString('utf8')).toBe(text);
  });

  it('uses base64-looking text that decodes to < 32 bytes as raw text when that is long enough', () => {
    const text = 'abcdefghijklmnopqrstuvwxyzABCDEF'; // 32 chars of base64 alphabet → 24 bytes decoded
    expect(decodeSecret(text)?.toString('utf8')).toBe(text);
  });

  it.each([['short'], [randomBytes(16).toString('base64')], ['x'.repeat(31)]])('rejects %s', (text) => {
    expect(decodeSecret(text)).toBeNull();
  });
});

describe('loadSecrets', () => {
  it('derives a distinct key per purpose, each with an 8-hex kid', async () => {
    const secrets = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: randomBytes(32).toString('base64') }, tempDir());
    const kids = PURPOSES.map((purpose) => secrets[purpose].keys[0]?.kid);
    for (const kid of kids) expect(kid).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(kids).size).toBe(PURPOSES.length);
    expect(secrets.secretSource).toBe('env');
    for (const purpose of PURPOSES) expect(secrets[purpose].purpose).toBe(purpose);
  });

  it('derives the same keys from the same secret (cookies survive a restart)', async () => {
    const secret = randomBytes(32).toString('base64url');
    const one = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: secret }, tempDir());
    const two = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: secret }, tempDir());
    const token = seal(one.session, { exp: NOW_S + 10, sub: 'x' }, NOW);
    expect(unseal(two.session, token, NOW)).toEqual({ exp: NOW_S + 10, sub: 'x' });
  });

  it('a comma list: the first secret seals, every secret unseals', async () => {
    const first = randomBytes(32).toString('base64');
    const second = randomBytes(32).toString('base64');
    const old = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: second }, tempDir());
    const both = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: `${first}, ${second}` }, tempDir());
    expect(both.session.keys).toHaveLength(2);
    expect(both.session.keys[1]?.kid).toBe(old.session.keys[0]?.kid);
    expect(unseal(both.session, seal(old.session, { exp: NOW_S + 10 }, NOW), NOW)).not.toBeNull();
    expect(unseal(old.session, seal(both.session, { exp: NOW_S + 10 }, NOW), NOW)).toBeNull();
  });

  it('refuses a short secret, naming the variable but never the value', async () => {
    const secret = 'hunter2-not-long-enough';
    const error = await loadError(secret);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('GATEHOUSE_SECRET');
    expect(error.message).toContain('32 bytes');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses a short secret anywhere in the list and says which one', async () => {
    const good = randomBytes(32).toString('base64');
    const short = randomBytes(8).toString('base64');
    const error = await loadError(`${good},${short}`);
    expect(error.message).toContain('secret 2 of 2');
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(good);
  });

  it('refuses a list of only commas', async () => {
    expect((await loadError(' , ,')).code).toBe('CONFIG_INVALID');
  });

  it('without GATEHOUSE_SECRET generates a secret file once (0600, directory created) and reuses it', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: undefined }, dataDir);
    const path = join(dataDir, 'secret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    expect(decodeSecret(readFileSync(path, 'utf8').trim())).toHaveLength(32);
    expect(first.secretSource).toBe('file');
    const content = readFileSync(path, 'utf8');
    const second = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: undefined }, dataDir);
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(second.session.keys[0]?.kid).toBe(first.session.keys[0]?.kid);
    expect(unseal(second.session, seal(first.session, { exp: NOW_S + 10 }, NOW), NOW)).not.toBeNull();
  });

  it('two different data directories get different generated secrets', async () => {
    const one = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: undefined }, tempDir());
    const two = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: undefined }, tempDir());
    expect(one.session.keys[0]?.kid).not.toBe(two.session.keys[0]?.kid);
  });

  it('processes starting at once on an empty data directory agree on one secret and one signing key', async () => {
    const dataDir = tempDir();
    const script = `import(${JSON.stringify(new URL('../../../src/auth/keys.ts', import.meta.url).href)})
      .then((m) => m.loadSecrets({}, process.argv[1]))
      .then((s) => console.log(s.session.keys[0].kid + ' ' + s.signing.publicJwk.kid))`;
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', script, dataDir], (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
      });
    const outputs = await Promise.all([run(), run(), run(), run()]);
    expect(outputs[0]).toMatch(/^[0-9a-f]{8} [A-Za-z0-9_-]{43}$/);
    expect(new Set(outputs).size).toBe(1);
    const local = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: undefined }, dataDir);
    expect(`${local.session.keys[0]?.kid} ${local.signing.publicJwk.kid}`).toBe(outputs[0]);
  });

  it('a corrupt secret file is reported by path, without its content', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'secret'), 'tooshort\n', { mode: 0o600 });
    const error = await loadError(undefined, dataDir);
    expect(error.message).toContain(join(dataDir, 'secret'));
    expect(error.message).not.toContain('tooshort');
  });

  it('GATEHOUSE_SECRET takes precedence over the file and leaves no file behind', async () => {
    const dataDir = tempDir();
    await loadSecrets({ name: 'GATEHOUSE_SECRET', value: randomBytes(32).toString('base64') }, dataDir);
    expect(() => statSync(join(dataDir, 'secret'))).toThrow();
  });

  it('derivation matches HKDF-SHA256 with the purpose in the info string', () => {
    const root = randomBytes(32);
    const keys = derivePurposeKeys([root], 'handoff');
    const expected = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'gatehouse handoff v1', 32));
    expect(keys.keys[0]?.key.equals(expected)).toBe(true);
  });
});

describe('signing key', () => {
  it('is generated once as P-256 PKCS#8 PEM (0600) with an RFC 7638 kid, and reused', async () => {
    const dataDir = tempDir();
    const secret = randomBytes(32).toString('base64');
    const one = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: secret }, dataDir);
    const path = join(dataDir, 'signing-key.pem');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const { kty, crv, x, y, kid, alg, use } = one.signing.publicJwk;
    expect({ kty, crv, alg, use }).toEqual({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(kid).toBe(await calculateJwkThumbprint({ kty, crv, x, y }));
    expect(one.signing.publicJwk).not.toHaveProperty('d');
    const two = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: secret }, dataDir);
    expect(two.signing.publicJwk).toEqual(one.signing.publicJwk);
  });

  it('refuses a key file that is not P-256', async () => {
    const dataDir = tempDir();
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    writeFileSync(join(dataDir, 'signing-key.pem'), rsa, { mode: 0o600 });
    const error = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: randomBytes(32).toString('base64') }, dataDir).catch((e: unknown) => e);
    expect(isGatehouseError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('signing-key.pem');
    expect((error as Error).message).toContain('P-256');
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });

  it('refuses a key file that is not PEM', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'signing-key.pem'), 'garbage', { mode: 0o600 });
    const error = await loadSecrets({ name: 'GATEHOUSE_SECRET', value: randomBytes(32).toString('base64') }, dataDir).catch((e: unknown) => e);
    expect(isGatehouseError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).not.toContain('garbage');
  });
});
