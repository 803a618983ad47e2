import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { JWK } from 'oidc-provider';
import { readOrCreateSecretFile } from '../util/data-files.ts';
import { GatehouseError } from '../errors.ts';

/**
 * The built-in provider's secrets, generated on first start and kept in `<dataDir>/idp/`
 * (directory 0700, files 0600) so that restarts keep ID tokens verifiable, cookies valid and
 * the client secret stable:
 *   jwks.json      the ID token signing key (RS256), as a private JWK set
 *   cookie-keys    keys that sign the provider's cookies, one per line (the first signs, all verify)
 *   client-secret  the secret Gatehouse's own sign-in uses at the token endpoint
 */

export interface ProviderSecrets {
  readonly jwks: { keys: JWK[] };
  readonly cookieKeys: string[];
  readonly clientSecret: string;
}

/** `folder`: `idp` for the built-in provider, `apps-idp` for the provider for apps (app-provider.ts). */
export function loadProviderSecrets(dataDir: string, folder = 'idp'): ProviderSecrets {
  const dir = join(dataDir, folder);
  const jwksPath = join(dir, 'jwks.json');
  const jwksText = readOrCreateSecretFile(jwksPath, () => `${JSON.stringify({ keys: [newSigningKey()] }, null, 2)}\n`);
  const cookiePath = join(dir, 'cookie-keys');
  const cookieText = readOrCreateSecretFile(cookiePath, () => `${randomBytes(32).toString('base64url')}\n`);
  const secretPath = join(dir, 'client-secret');
  const clientSecret = readOrCreateSecretFile(secretPath, () => `${randomBytes(32).toString('base64url')}\n`).trim();

  const cookieKeys = cookieText.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (cookieKeys.length === 0 || cookieKeys.some((key) => key.length < 32)) {
    throw invalid(cookiePath, 'expected one random key of at least 32 characters per line; delete the file to generate a new one (signs everyone out of the built-in provider)');
  }
  if (clientSecret.length < 32) throw invalid(secretPath, 'expected a random secret of at least 32 characters; delete the file to generate a new one');
  return Object.freeze({ jwks: parseJwks(jwksText, jwksPath), cookieKeys, clientSecret });
}

function newSigningKey(): JWK {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint of the public members, so the kid is stable and says nothing secret.
  const thumbprint = createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest('base64url');
  return { ...jwk, kid: thumbprint, use: 'sig', alg: 'RS256' } as JWK;
}

function parseJwks(text: string, path: string): { keys: JWK[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid(path, 'is not valid JSON; delete the file to generate a new signing key', cause);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === 'object' && key !== null && typeof (key as JWK).kty === 'string' && typeof (key as JWK).d === 'string')) {
    throw invalid(path, 'expected {"keys": [private JWK, …]}; delete the file to generate a new signing key');
  }
  return { keys: keys as JWK[] };
}

function invalid(path: string, problem: string, cause?: unknown): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', `${path}: ${problem}`, { cause });
}
