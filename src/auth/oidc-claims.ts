/**
 * Turns the claims of a verified ID token and the UserInfo response into the user Gatehouse
 * signs in. Pure: no I/O, no clock.
 */

export interface SignedInUser {
  sub: string;
  email: string | null;
  /** True only for a boolean `true` (or the string "true" some providers send). */
  emailVerified: boolean;
  name: string | null;
  groups: string[];
  /** ID token and UserInfo claims merged (UserInfo wins), without tokens or per-flow values. */
  claims: Record<string, unknown>;
  /** Kept only to send as `id_token_hint` when signing out at the provider. */
  idToken: string;
  /** The ID token's `amr` (never UserInfo's: only the ID token is signed for this sign-in). */
  amr: string[];
  acr: string | null;
  /** The ID token's `auth_time` in seconds, or null when the provider sent none. */
  authTime: number | null;
}

/** Values that belong to one sign-in transaction or to token binding, not to the user. */
const FLOW_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash', 'access_token', 'id_token', 'refresh_token']);

export function mergeClaims(idTokenClaims: Record<string, unknown>, userInfo: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const source of [idTokenClaims, userInfo]) {
    for (const [key, value] of Object.entries(source)) {
      if (!FLOW_CLAIMS.has(key) && value !== undefined) merged[key] = value;
    }
  }
  return merged;
}

/**
 * Reads groups from `claim`: an array (Keycloak, Authentik, oidc-provider), or a string of names
 * separated by spaces or commas (some LDAP-backed providers). A dotted name such as
 * `realm_access.roles` is followed into nested objects when no claim has that literal name.
 */
export function parseGroups(claims: Record<string, unknown>, claim: string): string[] {
  const raw = readClaim(claims, claim);
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  const groups: string[] = [];
  for (const item of items) {
    const text = typeof item === 'string' ? item.trim() : typeof item === 'number' ? String(item) : '';
    if (text !== '' && !groups.includes(text)) groups.push(text);
  }
  return groups;
}

function readClaim(claims: Record<string, unknown>, claim: string): unknown {
  if (Object.hasOwn(claims, claim)) return claims[claim];
  let current: unknown = claims;
  for (const part of claim.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

export function toSignedInUser(
  idTokenClaims: Record<string, unknown>,
  userInfo: Record<string, unknown>,
  groupsClaim: string,
  idToken: string,
): SignedInUser {
  const claims = mergeClaims(idTokenClaims, userInfo);
  const sub = idTokenClaims['sub'];
  if (typeof sub !== 'string' || sub === '') throw new TypeError('the ID token has no "sub" claim');
  claims['sub'] = sub;
  const verified = claims['email_verified'];
  return {
    sub,
    email: optionalString(claims['email']),
    emailVerified: verified === true || verified === 'true',
    name: optionalString(claims['name']) ?? optionalString(claims['preferred_username']),
    groups: parseGroups(claims, groupsClaim),
    claims,
    idToken,
    amr: Array.isArray(idTokenClaims['amr']) ? idTokenClaims['amr'].filter((value): value is string => typeof value === 'string') : [],
    acr: typeof idTokenClaims['acr'] === 'string' ? idTokenClaims['acr'] : null,
    authTime: typeof idTokenClaims['auth_time'] === 'number' && Number.isFinite(idTokenClaims['auth_time']) ? idTokenClaims['auth_time'] : null,
  };
}

/** Whether the sign-in used a second factor by this provider's mapping (`amr` values, `acr` values). */
export function usedSecondFactor(user: Pick<SignedInUser, 'amr' | 'acr'>, mapping: { amr: readonly string[]; acr: readonly string[] }): boolean {
  return user.amr.some((value) => mapping.amr.includes(value)) || (user.acr !== null && mapping.acr.includes(user.acr));
}
