import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import type { PurposeKeys } from './keys.ts';

/**
 * Authenticated encryption for everything Gatehouse hands to a browser: AES-256-GCM with
 * synchronous node:crypto, because unsealing runs on every request and an async WebCrypto
 * decrypt per request measured at roughly half the throughput.
 *
 * Token: `v1.<kid>.<iv>.<ciphertext+tag>` (base64url). The version, kid and purpose are the
 * additional authenticated data, so a token sealed for one purpose never opens as another
 * even under the same key. No compression: nothing to inflate on untrusted input.
 */

export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;

/** Every sealed payload expires; `exp` is in seconds since the epoch. */
export interface SealedPayload {
  exp: number;
}

export type OpenResult<T> = { ok: true; payload: T } | { ok: false; reason: 'invalid' | 'expired' };

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
// kid is 8 hex digits; a 12-byte IV is 16 base64url characters.
const SHAPE = /^v1\.([0-9a-f]{8})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/;

/** `now` is milliseconds since the epoch. Throws only for a payload that could never open. */
export function seal<T extends SealedPayload>(keys: PurposeKeys, payload: T, now: number): string {
  const current = keys.keys[0];
  if (current === undefined) throw new GatehouseError('INTERNAL', `no key to seal ${keys.purpose} tokens with`);
  if (!Number.isFinite(payload.exp) || payload.exp * 1000 <= now) {
    throw new GatehouseError('INTERNAL', `refusing to seal a ${keys.purpose} token that has already expired`);
  }
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(current.kid, keys.purpose));
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${current.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The payload, or null for anything tampered, foreign, malformed, oversized or expired. Never throws. */
export function unseal(keys: PurposeKeys, token: string, now: number, maxLength = DEFAULT_MAX_TOKEN_LENGTH): Record<string, unknown> | null {
  const result = openSealed(keys, token, now, maxLength);
  return result.ok ? result.payload : null;
}

/** Like `unseal`, but tells an expired token apart from an invalid one. Never throws. */
export function openSealed(
  keys: PurposeKeys,
  token: string,
  now: number,
  maxLength = DEFAULT_MAX_TOKEN_LENGTH,
): OpenResult<Record<string, unknown>> {
  if (typeof token !== 'string' || token.length > maxLength) return INVALID;
  const parts = SHAPE.exec(token);
  if (parts === null) return INVALID;
  const [, kid, ivText, bodyText] = parts as unknown as [string, string, string, string];
  const key = keys.keys.find((candidate) => candidate.kid === kid);
  if (key === undefined) return INVALID;
  const body = Buffer.from(bodyText, 'base64url');
  // Base64url leaves spare bits in a short last group; insist on the canonical text so that
  // every change to the token, even of a spare bit, makes it invalid.
  if (body.length <= TAG_BYTES || body.toString('base64url') !== bodyText) return INVALID;
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(ivText, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(kid, keys.purpose));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    plaintext = decipher.update(body.subarray(0, body.length - TAG_BYTES), undefined, 'utf8') + decipher.final('utf8');
  } catch {
    return INVALID;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(plaintext);
  } catch {
    return INVALID;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return INVALID;
  const exp = (payload as { exp?: unknown }).exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return INVALID;
  if (exp * 1000 <= now) return EXPIRED;
  return { ok: true, payload: payload as Record<string, unknown> };
}

const INVALID = Object.freeze({ ok: false, reason: 'invalid' } as const);
const EXPIRED = Object.freeze({ ok: false, reason: 'expired' } as const);

function aad(kid: string, purpose: string): Buffer {
  return Buffer.from(`${VERSION}.${kid}.${purpose}`, 'utf8');
}
