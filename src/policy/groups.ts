/** Enough for any real directory; bounds the work and the session size for a hostile IdP. */
export const MAX_GROUPS = 1_000;

/**
 * Group names from an ID token or userinfo claim. IdPs send an array of strings, a single
 * space- or comma-separated string, or nest the list (`realm_access.roles`): a dotted name is
 * followed into nested objects when no claim carries the literal name. Non-strings and empty
 * names are ignored, duplicates dropped, the result capped at MAX_GROUPS.
 */
export function extractGroups(claims: Readonly<Record<string, unknown>>, claimName: string): string[] {
  const value = lookupClaim(claims, claimName);
  const groups = new Set<string>();
  if (typeof value === 'string') {
    for (const name of value.split(/[\s,]+/)) {
      if (groups.size >= MAX_GROUPS) break;
      if (name !== '') groups.add(name);
    }
  } else if (Array.isArray(value)) {
    for (const name of value) {
      if (groups.size >= MAX_GROUPS) break;
      if (typeof name === 'string' && name !== '') groups.add(name);
    }
  }
  return [...groups];
}

function lookupClaim(claims: Readonly<Record<string, unknown>>, claimName: string): unknown {
  if (Object.hasOwn(claims, claimName)) return claims[claimName];
  let current: unknown = claims;
  for (const part of claimName.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
