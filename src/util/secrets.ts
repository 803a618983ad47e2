import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A `secret:NAME` value, or null when it cannot be read. */
export type SecretReader = (name: string) => string | null;

const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Reads `secret:NAME` values from Docker secrets files (`/run/secrets/NAME`), each once, trimmed.
 * A missing file is retried on the next request, so a secret added later is picked up.
 */
export function createSecretReader(dir: string): SecretReader {
  const cache = new Map<string, string>();
  return (name) => {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    if (!SECRET_NAME.test(name) || name.includes('..')) return null;
    try {
      const value = readFileSync(join(dir, name), 'utf8').trim();
      cache.set(name, value);
      return value;
    } catch {
      return null;
    }
  };
}
