import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { GatehouseError } from '../errors.ts';
import { readOrCreateSecretFile } from '../util/data-files.ts';

/** The public half as served in the JWKS. */
export interface PublicSigningJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  /** RFC 7638 thumbprint of the key. */
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicJwk: PublicSigningJwk;
}

/**
 * The ES256 key that signs identity JWTs for upstreams. Generated once (P-256, PKCS#8 PEM,
 * mode 0600) so upstreams that cached the JWKS keep verifying across restarts.
 */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  const pem = readOrCreateSecretFile(path, () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw invalidKey(path, 'it is not a readable PEM private key', error);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalidKey(path, 'it is not an EC P-256 key');
  }
  const { x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof x !== 'string' || typeof y !== 'string') throw invalidKey(path, 'its public key cannot be exported');
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x, y }, 'sha256');
  const publicJwk: PublicSigningJwk = Object.freeze({ kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' });
  return Object.freeze({ privateKey, publicJwk });
}

function invalidKey(path: string, why: string, cause?: unknown): GatehouseError {
  return new GatehouseError(
    'CONFIG_INVALID',
    `${path}: cannot use the identity signing key: ${why}; expected an EC P-256 private key in PKCS#8 PEM (delete the file to generate a new one)`,
    cause === undefined ? {} : { cause },
  );
}
