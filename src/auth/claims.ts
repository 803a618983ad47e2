/**
 * Which IdP claims a session keeps. The session cookie travels with every request, so it
 * keeps only small, descriptive claims: never tokens or secrets (they would reach the
 * user-info page and logs), never protocol bookkeeping that means nothing after sign-in.
 */

const DROPPED = new Set([
  'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'azp', 'sid', 'auth_time',
  'at_hash', 'c_hash', 's_hash', 'code', 'state', 'session_state', 'cnf', 'sub_jwk',
]);
const SECRET_NAME = /token|secret|password|passwd|credential|private|hash/i;
const MAX_CLAIM_BYTES = 1_024;
const MAX_TOTAL_BYTES = 4_096;

export function filterClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  let total = 0;
  for (const key of Object.keys(claims).sort()) {
    if (DROPPED.has(key) || SECRET_NAME.test(key) || key === '__proto__') continue;
    const value = claims[key];
    if (value === undefined || typeof value === 'function') continue;
    let size: number;
    try {
      size = key.length + JSON.stringify(value).length;
    } catch {
      continue;
    }
    if (size > MAX_CLAIM_BYTES || total + size > MAX_TOTAL_BYTES) continue;
    total += size;
    kept[key] = value;
  }
  return kept;
}
