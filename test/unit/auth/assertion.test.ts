import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSERTION_LIFETIME_SECONDS, createAssertionSigner, RENEW_BEFORE_SECONDS } from '../../../src/auth/assertion.ts';
import { loadSecrets, type SigningKey } from '../../../src/auth/keys.ts';
import type { Session } from '../../../src/auth/session.ts';
import { NOW, NOW_S } from './fixtures.ts';

const ISSUER = 'https://auth.example.com';
let dataDir: string;
let signing: SigningKey;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-assertion-'));
  signing = (await loadSecrets({ name: 'GATEHOUSE_SECRET', value: randomBytes(32).toString('base64') }, dataDir)).signing;
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const session: Session = {
  sid: 'sid-1',
  sub: 'user-1',
  email: 'alice@corp.com',
  emailVerified: true,
  name: 'Alice',
  groups: ['admins', 'users'],
  claims: { dept: 'eng' },
  iat: NOW_S,
  exp: NOW_S + 3600,
  host: 'app.example.com',
};

function signer(clock = { now: NOW }) {
  return { clock, signer: createAssertionSigner({ ...signing, issuer: ISSUER, now: () => clock.now }) };
}

describe('identity assertion', () => {
  it('verifies with jose against the JWKS for the right audience, with the expected claims', async () => {
    const { signer: s } = signer();
    const token = await s.sign(session, 'app.example.com');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(s.jwks()), {
      issuer: ISSUER,
      audience: 'app.example.com',
      algorithms: ['ES256'],
      currentDate: new Date(NOW),
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: signing.publicJwk.kid, typ: 'JWT' });
    expect(payload).toEqual({
      iss: ISSUER,
      aud: 'app.example.com',
      sub: 'user-1',
      email: 'alice@corp.com',
      groups: ['admins', 'users'],
      name: 'Alice',
      sid: 'sid-1',
      user: 'user-1',
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      iat: NOW_S,
      exp: NOW_S + ASSERTION_LIFETIME_SECONDS,
    });
    expect(Number.isInteger(payload.iat) && Number.isInteger(payload.exp)).toBe(true);
  });

  it("signs Pomerium's form for routes from a Pomerium file: the route host as issuer, cached apart from Gatehouse's form", async () => {
    const { signer: s } = signer();
    const ours = await s.sign(session, 'app.example.com');
    const pomerium = await s.sign(session, 'app.example.com', 'app.example.com');
    expect(pomerium).not.toBe(ours);
    expect(s.signCached(session, 'app.example.com', 'app.example.com')?.token).toBe(pomerium);
    expect(s.signCached(session, 'app.example.com')?.token).toBe(ours);
    const { payload } = await jwtVerify(pomerium, createLocalJWKSet(s.jwks()), { issuer: 'app.example.com', audience: 'app.example.com', currentDate: new Date(NOW) });
    expect(payload).toMatchObject({ iss: 'app.example.com', aud: 'app.example.com', sub: 'user-1', user: 'user-1', email: 'alice@corp.com', groups: ['admins', 'users'] });
  });

  it('fails verification for another audience', async () => {
    const { signer: s } = signer();
    const token = await s.sign(session, 'app.example.com');
    await expect(
      jwtVerify(token, createLocalJWKSet(s.jwks()), { audience: 'other.example.com', currentDate: new Date(NOW) }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
  });

  it('fails verification after five minutes', async () => {
    const { signer: s } = signer();
    const token = await s.sign(session, 'app.example.com');
    await expect(
      jwtVerify(token, createLocalJWKSet(s.jwks()), { audience: 'app.example.com', currentDate: new Date(NOW + 301_000) }),
    ).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('publishes only the public key, with kid, alg and use', () => {
    const { signer: s } = signer();
    const { keys } = s.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toEqual(signing.publicJwk);
    expect(keys[0]).not.toHaveProperty('d');
    expect(JSON.parse(JSON.stringify(s.jwks()))).toEqual({ keys: [signing.publicJwk] });
  });

  it('empty strings for absent email and name', async () => {
    const { signer: s } = signer();
    const token = await s.sign({ ...session, email: null, name: null }, 'app.example.com');
    const { payload } = await jwtVerify(token, createLocalJWKSet(s.jwks()), { audience: 'app.example.com', currentDate: new Date(NOW) });
    expect(payload.email).toBe('');
    expect(payload.name).toBe('');
  });

  describe('cache', () => {
    it('signCached is null before the first sign, then returns the same token synchronously', async () => {
      const { signer: s } = signer();
      expect(s.signCached(session, 'app.example.com')).toBeNull();
      const token = await s.sign(session, 'app.example.com');
      expect(s.signCached(session, 'app.example.com')).toEqual({ token });
      expect(await s.sign(session, 'app.example.com')).toBe(token);
    });

    it('is per audience and per session', async () => {
      const { signer: s } = signer();
      const a = await s.sign(session, 'app.example.com');
      expect(s.signCached(session, 'b.example.com')).toBeNull();
      const b = await s.sign(session, 'b.example.com');
      expect(b).not.toBe(a);
      expect(s.signCached({ ...session, sid: 'sid-2' }, 'app.example.com')).toBeNull();
      // A refreshed session (new iat, maybe new groups) gets a new token.
      expect(s.signCached({ ...session, iat: NOW_S + 10, groups: ['users'] }, 'app.example.com')).toBeNull();
    });

    it(`renews ${RENEW_BEFORE_SECONDS} s before expiry`, async () => {
      const { signer: s, clock } = signer();
      const first = await s.sign(session, 'app.example.com');
      clock.now = NOW + (ASSERTION_LIFETIME_SECONDS - RENEW_BEFORE_SECONDS - 1) * 1000;
      expect(s.signCached(session, 'app.example.com')).toEqual({ token: first });
      clock.now = NOW + (ASSERTION_LIFETIME_SECONDS - RENEW_BEFORE_SECONDS) * 1000;
      expect(s.signCached(session, 'app.example.com')).toBeNull();
      const second = await s.sign(session, 'app.example.com');
      expect(second).not.toBe(first);
      const { payload } = await jwtVerify(second, createLocalJWKSet(s.jwks()), {
        audience: 'app.example.com',
        currentDate: new Date(clock.now),
      });
      expect(payload.iat).toBe(Math.floor(clock.now / 1000));
    });

    it('concurrent signs for one session and audience share one signature', async () => {
      const { signer: s } = signer();
      const tokens = await Promise.all(Array.from({ length: 10 }, () => s.sign(session, 'app.example.com')));
      expect(new Set(tokens).size).toBe(1);
      expect(decodeProtectedHeader(tokens[0] as string).kid).toBe(signing.publicJwk.kid);
    });
  });
});
