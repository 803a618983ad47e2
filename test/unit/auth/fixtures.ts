import { randomBytes } from 'node:crypto';
import { derivePurposeKeys, type Purpose, type PurposeKeys } from '../../../src/auth/keys.ts';

/** Fresh keys for one purpose from random root secrets (first seals, all unseal). */
export function testKeys(purpose: Purpose, roots: Buffer[] = [randomBytes(32)]): PurposeKeys {
  return derivePurposeKeys(roots, purpose);
}

export const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
export const NOW_S = Math.floor(NOW / 1000);
