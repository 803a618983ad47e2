/**
 * The label vocabulary: which keys exist, how a label name splits into route + key, and the
 * "did you mean" hint for a misspelt key.
 */

import { VALUE_KEYS, type ValueKey } from './key-table.ts';

export { VALUE_KEYS, type ValueKey } from './key-table.ts';

/** `header.<Name>` is the one key with a free-form suffix; every other key is in the key table. */
export const HEADER_KEY = 'header';

/** The routeName of the route built from a container's top-level keys. */
export const DEFAULT_ROUTE = 'default';

/** `response_header.<Name>`: a value key whose labels carry the header name as a suffix. */
export const RESPONSE_HEADER_KEY = 'response_header';

/** The first word of the keys `oidc.<key>`: per container, never per route. */
export const OIDC_KEY = 'oidc';

/** Words that are keys, and so cannot be route names. */
export const RESERVED = new Set<string>([...VALUE_KEYS, HEADER_KEY, OIDC_KEY]);

const ROUTE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export function isValueKey(word: string): word is ValueKey {
  return RESERVED.has(word) && word !== HEADER_KEY && word !== OIDC_KEY;
}

/** What one label under the prefix addresses. `route` is null for the container's top-level keys. */
export type LabelTarget =
  | { kind: 'value'; route: string | null; key: ValueKey }
  | { kind: 'header'; route: string | null; header: string }
  | { kind: 'response_header'; route: string | null; header: string }
  | { kind: 'unknown'; hint: string };

/**
 * Splits the part of a label after `<prefix>.`: `from`, `admin.from`, `header.X-User`,
 * `admin.header.X-User`. Anything else is unknown, with a hint naming what was probably meant.
 */
export function classifyLabel(rest: string, prefix: string): LabelTarget {
  const dot = rest.indexOf('.');
  const first = dot === -1 ? rest : rest.slice(0, dot);
  const tail = dot === -1 ? null : rest.slice(dot + 1);
  if (first === HEADER_KEY) return headerTarget(null, tail, prefix);
  if (first === RESPONSE_HEADER_KEY && tail !== null && tail !== '') return { kind: 'response_header', route: null, header: tail };
  if (first === OIDC_KEY) {
    if (isValueKey(rest)) return { kind: 'value', route: null, key: rest };
    const near = tail === null ? null : closestKey(`${OIDC_KEY}.${tail}`, OIDC_KEYS);
    return { kind: 'unknown', hint: near === null ? `known OpenID client keys: ${OIDC_KEYS.map((key) => `${prefix}.${key}`).join(', ')}` : `did you mean ${prefix}.${near}?` };
  }
  if (isValueKey(first)) {
    if (tail === null) return { kind: 'value', route: null, key: first };
    return { kind: 'unknown', hint: `"${first}" is a key and cannot name a route` };
  }
  if (tail === null) return { kind: 'unknown', hint: suggestion(prefix, null, first, null) };
  if (first === DEFAULT_ROUTE) return { kind: 'unknown', hint: `"${DEFAULT_ROUTE}" names the top-level route: write ${prefix}.${tail}` };
  if (!ROUTE_NAME.test(first)) {
    const near = closestKey(first);
    if (near === HEADER_KEY) return { kind: 'unknown', hint: `did you mean ${prefix}.header.${tail}?` };
    return {
      kind: 'unknown',
      hint: `"${first}" is not a valid route name: use lowercase letters, digits and -, starting with a letter, at most 32 characters`,
    };
  }
  const innerDot = tail.indexOf('.');
  const key = innerDot === -1 ? tail : tail.slice(0, innerDot);
  const suffix = innerDot === -1 ? null : tail.slice(innerDot + 1);
  if (key === HEADER_KEY) return headerTarget(first, suffix, prefix);
  if (key === RESPONSE_HEADER_KEY && suffix !== null && suffix !== '') return { kind: 'response_header', route: first, header: suffix };
  if (key === OIDC_KEY) return { kind: 'unknown', hint: `an app's OpenID client belongs to the container, not to one route: write ${prefix}.${tail}` };
  if (isValueKey(key) && suffix === null) return { kind: 'value', route: first, key };
  // `iap.headers.X-User`: the route name is the typo, not the key.
  if (closestKey(key) === null && closestKey(first) === HEADER_KEY) return { kind: 'unknown', hint: `did you mean ${prefix}.header.${tail}?` };
  return { kind: 'unknown', hint: suggestion(prefix, first, key, suffix) };
}

const OIDC_KEYS: readonly string[] = VALUE_KEYS.filter((key) => key.startsWith(`${OIDC_KEY}.`));

function headerTarget(route: string | null, name: string | null, prefix: string): LabelTarget {
  if (name === null || name === '') {
    const at = route === null ? `${prefix}.header` : `${prefix}.${route}.header`;
    return { kind: 'unknown', hint: `name the header: ${at}.<Header-Name>` };
  }
  return { kind: 'header', route, header: name };
}

function suggestion(prefix: string, route: string | null, key: string, suffix: string | null): string {
  const near = closestKey(key);
  if (near === null) return `known keys: ${[...RESERVED].filter((word) => word !== OIDC_KEY).join(', ')}`;
  const head = route === null ? prefix : `${prefix}.${route}`;
  return near === HEADER_KEY ? `did you mean ${head}.header.${suffix ?? '<Header-Name>'}?` : `did you mean ${head}.${near}?`;
}

/** The key within edit distance 2 of `word`, the nearest one first; null when none is that close. */
export function closestKey(word: string, candidates: Iterable<string> = RESERVED): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Edit distance counting a swap of two neighbours as one edit (`prot` → `port`), as typos go. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = rows[i - 1] as number[];
      let best = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (rows[i - 2]?.[j - 2] as number) + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] as number;
}
