import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GatehouseError } from '../errors.ts';
import { readOrCreateSecretFile } from '../util/data-files.ts';
import { loadSigningKey, type SigningKey } from './signing-key.ts';

export type { SigningKey, PublicSigningJwk } from './signing-key.ts';

/** Each purpose gets its own key, so a token sealed for one purpose never opens as another. */
export const PURPOSES = ['session', 'flow', 'handoff', 'signout', 'csrf'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const MIN_SECRET_BYTES = 32;

export interface PurposeKey {
  /** First 8 hex digits of SHA-256 of the key: names the key inside sealed tokens. */
  readonly kid: string;
  readonly key: Buffer;
}

/** The keys of one purpose: the first seals, every one unseals (rotation). */
export interface PurposeKeys {
  readonly purpose: Purpose;
  readonly keys: readonly PurposeKey[];
}

export type Secrets = Readonly<Record<Purpose, PurposeKeys>> & {
  readonly signing: SigningKey;
  /** Where the root secret came from: the environment, or the generated `<dataDir>/secret`. */
  readonly secretSource: 'env' | 'file';
};

/**
 * Loads the root secrets and the identity signing key. The root secret is a comma-separated
 * list (first seals, all unseal); without it a random secret is generated once and kept in
 * `<dataDir>/secret`. Errors name the secret (`name`, as the operator set it) or file, never the value.
 */
export async function loadSecrets(secret: { readonly value?: string | undefined; readonly name?: string }, dataDir: string): Promise<Secrets> {
  let roots: Buffer[];
  let secretSource: 'env' | 'file';
  if (secret.value !== undefined) {
    roots = parseSecretList(secret.value, secret.name ?? 'the root secret');
    secretSource = 'env';
  } else {
    const path = join(dataDir, 'secret');
    const text = readOrCreateSecretFile(path, () => `${randomBytes(MIN_SECRET_BYTES).toString('base64url')}\n`);
    roots = parseSecretList(text.trim(), path);
    secretSource = 'file';
  }
  const signing = await loadSigningKey(join(dataDir, 'signing-key.pem'));
  const byPurpose = Object.fromEntries(PURPOSES.map((purpose) => [purpose, derivePurposeKeys(roots, purpose)]));
  return Object.freeze({ ...(byPurpose as Record<Purpose, PurposeKeys>), signing, secretSource });
}

/** `where` names the variable or file in error messages. */
export function parseSecretList(text: string, where: string): Buffer[] {
  const items = text.split(',').map((item) => item.trim());
  const nonEmpty = items.filter((item) => item !== '');
  if (nonEmpty.length === 0) {
    throw new GatehouseError('CONFIG_INVALID', `${where}: no secret given; expected at least ${MIN_SECRET_BYTES} random bytes, e.g. from \`openssl rand -base64 32\``);
  }
  return nonEmpty.map((item, index) => {
    const secret = decodeSecret(item);
    if (secret === null) {
      const which = nonEmpty.length > 1 ? `secret ${index + 1} of ${nonEmpty.length}` : 'the secret';
      throw new GatehouseError(
        'CONFIG_INVALID',
        `${where}: ${which} is shorter than ${MIN_SECRET_BYTES} bytes; use ${MIN_SECRET_BYTES} random bytes, e.g. from \`openssl rand -base64 32\``,
      );
    }
    return secret;
  });
}

/**
 * Base64 or base64url text that decodes to ≥ 32 bytes is used decoded; any other text of
 * ≥ 32 bytes is used as it is. Null when neither is long enough.
 */
export function decodeSecret(text: string): Buffer | null {
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    const canonical = text.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_');
    if (decoded.length >= MIN_SECRET_BYTES && decoded.toString('base64url') === canonical) return decoded;
  }
  const raw = Buffer.from(text, 'utf8');
  return raw.length >= MIN_SECRET_BYTES ? raw : null;
}

export function derivePurposeKeys(roots: readonly Buffer[], purpose: Purpose): PurposeKeys {
  const keys = roots.map((root) => {
    const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `gatehouse ${purpose} v1`, 32));
    return Object.freeze({ kid: createHash('sha256').update(key).digest('hex').slice(0, 8), key });
  });
  return Object.freeze({ purpose, keys: Object.freeze(keys) });
}
