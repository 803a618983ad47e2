import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../../src/errors.ts';
import { checkIdToken } from '../../../src/auth/oidc.ts';

/**
 * Gatehouse's own rules on an ID token, on top of openid-client's checks (signature, issuer,
 * audience contains the client, expiry, nonce): an allowed algorithm, and no other audience.
 */

const CLIENT = 'gatehouse';
const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (alg: string) => `${part({ alg, typ: 'JWT' })}.${part({})}.c2lnbmF0dXJl`;
const claims = (aud: string | string[]) => ({ iss: 'https://op.example', sub: 'u1', aud, exp: 2_000_000_000, iat: 1_700_000_000 });

function refusal(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (isGatehouseError(error, 'SIGN_IN_FAILED')) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('checkIdToken', () => {
  it('accepts a token for this client alone, as a string or a one-item list', () => {
    expect(refusal(() => checkIdToken(token('RS256'), claims(CLIENT), CLIENT))).toBe('accepted');
    expect(refusal(() => checkIdToken(token('ES256'), claims([CLIENT]), CLIENT))).toBe('accepted');
  });

  it.each([
    [[CLIENT, 'another-client']],
    [['another-client', CLIENT]],
    [[CLIENT, CLIENT, 'x']],
  ])('refuses a token also meant for other clients: aud %j', (aud) => {
    expect(refusal(() => checkIdToken(token('RS256'), claims(aud), CLIENT))).toMatch(/also meant for other clients/);
  });

  it.each(['none', 'HS256', 'RS384'])('refuses the algorithm %s', (alg) => {
    expect(refusal(() => checkIdToken(token(alg), claims(CLIENT), CLIENT))).toMatch(/signed with/);
  });
});
