import { argon2, randomBytes, timingSafeEqual, type Argon2Algorithm } from 'node:crypto';

/**
 * Argon2 password hashes in the PHC string format shared by the reference `argon2` CLI,
 * Authelia, libsodium and most password libraries:
 * `$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>` (salt and hash in base64 without padding),
 * so a hash made by any of them verifies here and the other way round.
 */

export interface Argon2Parameters {
  /** Memory in KiB. */
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

export interface PhcHash extends Argon2Parameters {
  readonly algorithm: Argon2Algorithm;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export type PhcParseResult = { ok: true; value: PhcHash } | { ok: false; problem: string };

/** 64 MiB, 3 passes, 1 lane: about 150–200 ms on one core of a small server. */
export const DEFAULT_ARGON2: Argon2Parameters = Object.freeze({ memoryKiB: 65_536, passes: 3, parallelism: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds that keep a mistyped or hostile hash in the users file from exhausting memory or CPU. */
const LIMITS = { memoryKiB: 1_048_576, passes: 64, parallelism: 16, saltBytes: 64, hashBytes: 128 } as const;
const ALGORITHMS: ReadonlySet<string> = new Set(['argon2id', 'argon2i', 'argon2d']);
const B64 = /^[A-Za-z0-9+/]+$/;

const EXAMPLE = '$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>';

export function parsePhc(text: string): PhcParseResult {
  const fail = (problem: string): PhcParseResult => ({ ok: false, problem });
  const parts = text.trim().split('$');
  if (parts.length !== 6 || parts[0] !== '') {
    return fail(`expected an argon2 hash in PHC format (${EXAMPLE}); create one with "gatehouse hash-password"`);
  }
  const [, algorithm = '', version = '', params = '', saltText = '', hashText = ''] = parts;
  if (!ALGORITHMS.has(algorithm)) return fail(`unsupported algorithm "${algorithm}" (expected argon2id, argon2i or argon2d)`);
  if (version !== 'v=19') return fail(`unsupported argon2 version "${version}" (only v=19, argon2 1.3, is supported)`);
  const values = new Map<string, number>();
  for (const item of params.split(',')) {
    const m = /^([mtp])=(\d{1,10})$/.exec(item);
    if (m === null || values.has(m[1]!)) return fail(`bad parameter "${item}" (expected m=<KiB>,t=<passes>,p=<lanes>)`);
    values.set(m[1]!, Number(m[2]));
  }
  const memoryKiB = values.get('m');
  const passes = values.get('t');
  const parallelism = values.get('p');
  if (memoryKiB === undefined || passes === undefined || parallelism === undefined) return fail('the parameters must include m, t and p');
  if (parallelism < 1 || parallelism > LIMITS.parallelism) return fail(`p=${parallelism} is out of range (1–${LIMITS.parallelism})`);
  if (passes < 1 || passes > LIMITS.passes) return fail(`t=${passes} is out of range (1–${LIMITS.passes})`);
  if (memoryKiB < 8 * parallelism || memoryKiB > LIMITS.memoryKiB) return fail(`m=${memoryKiB} is out of range (${8 * parallelism}–${LIMITS.memoryKiB} KiB)`);
  if (!B64.test(saltText) || !B64.test(hashText)) return fail('the salt and hash must be base64 without padding');
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 8 || salt.length > LIMITS.saltBytes) return fail(`the salt is ${salt.length} bytes (expected 8–${LIMITS.saltBytes})`);
  if (hash.length < 4 || hash.length > LIMITS.hashBytes) return fail(`the hash is ${hash.length} bytes (expected 4–${LIMITS.hashBytes})`);
  return { ok: true, value: { algorithm: algorithm as Argon2Algorithm, memoryKiB, passes, parallelism, salt, hash } };
}

export function formatPhc(value: PhcHash): string {
  const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
  return `$${value.algorithm}$v=19$m=${value.memoryKiB},t=${value.passes},p=${value.parallelism}$${b64(value.salt)}$${b64(value.hash)}`;
}

export function deriveArgon2(algorithm: Argon2Algorithm, password: string, salt: Buffer, params: Argon2Parameters, tagLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      algorithm,
      { message: Buffer.from(password, 'utf8'), nonce: salt, memory: params.memoryKiB, passes: params.passes, parallelism: params.parallelism, tagLength },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** A new argon2id PHC string with a random 16-byte salt. */
export async function hashPassword(password: string, params: Argon2Parameters = DEFAULT_ARGON2): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await deriveArgon2('argon2id', password, salt, params, HASH_BYTES);
  return formatPhc({ algorithm: 'argon2id', ...params, salt, hash });
}

/** Recomputes the hash with the stored parameters and compares in constant time. */
export async function verifyPhc(password: string, stored: PhcHash): Promise<boolean> {
  const computed = await deriveArgon2(stored.algorithm, password, stored.salt, stored, stored.hash.length);
  return computed.length === stored.hash.length && timingSafeEqual(computed, stored.hash);
}
