import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derivePurposeKeys } from '../../../src/auth/keys.ts';
import { DEFAULT_MAX_TOKEN_LENGTH, openSealed, seal, unseal } from '../../../src/auth/seal.ts';
import { isGatehouseError } from '../../../src/errors.ts';
import { NOW, NOW_S, testKeys } from './fixtures.ts';

const payload = { exp: NOW_S + 60, sub: 'alice', groups: ['a', 'b'], n: 1, nested: { ok: true } };

describe('seal / unseal', () => {
  const keys = testKeys('session');

  it('round-trips a payload', () => {
    const token = seal(keys, payload, NOW);
    expect(token).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(token.split('.')[1]).toBe(keys.keys[0]?.kid);
    expect(unseal(keys, token, NOW)).toEqual(payload);
  });

  it('uses a fresh IV every time', () => {
    expect(seal(keys, payload, NOW)).not.toBe(seal(keys, payload, NOW));
  });

  it('does not reveal the payload', () => {
    const token = seal(keys, { exp: NOW_S + 60, email: 'alice@corp.com' }, NOW);
    const bytes = Buffer.concat(token.split('.').slice(2).map((part) => Buffer.from(part, 'base64url')));
    expect(bytes.toString('latin1')).not.toContain('alice');
  });

  it('rejects a token with any single character changed', () => {
    const token = seal(keys, payload, NOW);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    for (let i = 0; i < token.length; i++) {
      for (const replacement of [alphabet[(alphabet.indexOf(token[i] as string) + 1) % alphabet.length], '!', ' ']) {
        const tampered = token.slice(0, i) + replacement + token.slice(i + 1);
        expect(unseal(keys, tampered, NOW), `position ${i} → ${replacement}`).toBeNull();
      }
    }
  });

  it('rejects a token with any single bit of the decoded ciphertext flipped', () => {
    const token = seal(keys, payload, NOW);
    const [version, kid, iv, body] = token.split('.') as [string, string, string, string];
    const bytes = Buffer.from(body, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      expect(unseal(keys, `${version}.${kid}.${iv}.${flipped.toString('base64url')}`, NOW)).toBeNull();
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    ivBytes[0] = (ivBytes[0] as number) ^ 0x80;
    expect(unseal(keys, `${version}.${kid}.${ivBytes.toString('base64url')}.${body}`, NOW)).toBeNull();
  });

  it('rejects truncated, extended and malformed tokens', () => {
    const token = seal(keys, payload, NOW);
    for (const bad of [
      '',
      'v1',
      token.slice(0, -1),
      token.slice(0, -4),
      `${token}A`,
      `${token}.x`,
      token.replace(/^v1/, 'v2'),
      token.replace(/^v1\./, ''),
      `v1.${keys.keys[0]?.kid}.AAAAAAAAAAAAAAAA.AAAA`,
      `v1.${keys.keys[0]?.kid}.AAAAAAAAAAAAAAAA.`,
      'v1.zzzzzzzz.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      undefined as unknown as string,
      42 as unknown as string,
    ]) {
      expect(unseal(keys, bad, NOW)).toBeNull();
    }
  });

  it('rejects a token sealed for another purpose, even from the same root secret', () => {
    const root = randomBytes(32);
    const session = derivePurposeKeys([root], 'session');
    const flow = derivePurposeKeys([root], 'flow');
    expect(session.keys[0]?.kid).not.toBe(flow.keys[0]?.kid);
    expect(unseal(flow, seal(session, payload, NOW), NOW)).toBeNull();
    // Same key bytes and kid under a different purpose label: the AAD still tells them apart.
    const relabelled = { purpose: 'flow' as const, keys: session.keys };
    expect(unseal(relabelled, seal(session, payload, NOW), NOW)).toBeNull();
  });

  it('rejects a token from an unrelated secret', () => {
    expect(unseal(keys, seal(testKeys('session'), payload, NOW), NOW)).toBeNull();
  });

  it('rotation: the first key seals, every key unseals, a removed key no longer unseals', () => {
    const oldRoot = randomBytes(32);
    const newRoot = randomBytes(32);
    const before = derivePurposeKeys([oldRoot], 'session');
    const during = derivePurposeKeys([newRoot, oldRoot], 'session');
    const after = derivePurposeKeys([newRoot], 'session');
    const oldToken = seal(before, payload, NOW);
    expect(unseal(during, oldToken, NOW)).toEqual(payload);
    const newToken = seal(during, payload, NOW);
    expect(newToken.split('.')[1]).toBe(after.keys[0]?.kid);
    expect(unseal(after, newToken, NOW)).toEqual(payload);
    expect(unseal(before, newToken, NOW)).toBeNull();
    expect(unseal(after, oldToken, NOW)).toBeNull();
  });

  it('expires at exp and tells expired from invalid', () => {
    const token = seal(keys, payload, NOW);
    expect(unseal(keys, token, payload.exp * 1000 - 1)).not.toBeNull();
    expect(unseal(keys, token, payload.exp * 1000)).toBeNull();
    expect(openSealed(keys, token, payload.exp * 1000)).toEqual({ ok: false, reason: 'expired' });
    expect(openSealed(keys, `${token}x`, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('caps the token length', () => {
    const big = { exp: NOW_S + 60, blob: 'x'.repeat(DEFAULT_MAX_TOKEN_LENGTH) };
    const token = seal(keys, big, NOW);
    expect(token.length).toBeGreaterThan(DEFAULT_MAX_TOKEN_LENGTH);
    expect(unseal(keys, token, NOW)).toBeNull();
    expect(unseal(keys, token, NOW, token.length)).toEqual(big);
  });

  it('refuses to seal a payload that has already expired', () => {
    let error: unknown;
    try {
      seal(keys, { exp: NOW_S }, NOW);
    } catch (caught) {
      error = caught;
    }
    expect(isGatehouseError(error, 'INTERNAL')).toBe(true);
  });

  it('never throws on hostile input', () => {
    const kid = keys.keys[0]?.kid as string;
    const samples = ['v1...', `v1.${kid}..`, `v1.${kid}.${'A'.repeat(16)}.${'_'.repeat(40)}`, '\u0000'.repeat(100), 'v1.'.repeat(5000)];
    for (const sample of samples) expect(() => unseal(keys, sample, NOW)).not.toThrow();
  });
});
