import type { PolicyEntry } from '../routes/index.ts';
import { parseNetworkText } from './networks.ts';
import { fail, listItemEnd, ok, type Parsed, trimmedSlice } from './parsed.ts';

/**
 * The `allow` / `deny` grammar, also used for GATEHOUSE_DEFAULT_ALLOW:
 * `alice@example.com, @example.com, group:NAME, claim:KEY=VALUE, user:SUB, provider:NAME, ip:NETWORK, *`.
 */
export const POLICY_GRAMMAR = 'expected alice@example.com, @example.com, group:NAME, claim:KEY=VALUE, user:SUB, provider:NAME, ip:192.168.1.0/24 or *';

const DOMAIN = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$/u;
/** The ASCII part of DOMAIN's language, checked first: the Unicode-aware test costs several times more. */
const ASCII_DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const LOCAL_PART = /^[^\s@,]+$/;
const CLAIM_KEY = /^[^\s=]+$/;
/** Sign-in method names: what GATEHOUSE_OIDC_<NAME>_* and the providers file allow. */
export const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export function parsePolicyList(raw: string): Parsed<PolicyEntry[]> {
  const entries: PolicyEntry[] = [];
  let bad: string[] | null = null;
  for (let start = 0; start <= raw.length; ) {
    const end = listItemEnd(raw, start);
    const item = trimmedSlice(raw, start, end);
    start = end + 1;
    if (item === '') continue;
    const entry = parsePolicyEntry(item);
    if (entry === null) (bad ??= []).push(`"${item}"`);
    else entries.push(entry);
  }
  if (bad === null) return ok(entries);
  return fail(bad.length === 1 ? `${bad[0]} is not a policy entry: ${POLICY_GRAMMAR}` : `${bad.join(', ')} are not policy entries: ${POLICY_GRAMMAR}`);
}

/**
 * Entries are made frozen, with their keys in sorted order: the canonical form the route table
 * holds (routes/copies.ts), so a route takes its spec's entries as they are.
 */
function entry<T extends PolicyEntry>(value: T): T {
  return Object.freeze(value);
}

const ANY: PolicyEntry = entry({ kind: 'any' });

/** One entry, already trimmed; null when it fits none of the forms. */
export function parsePolicyEntry(item: string): PolicyEntry | null {
  if (item === '*') return ANY;
  // Only an entry with a colon can be one of the `kind:` forms; plain addresses skip those tests.
  return item.includes(':') ? prefixedEntry(item) : addressEntry(item);
}

/** `group:`, `user:`, `provider:`, `ip:` and `claim:` entries; anything else is an address. */
function prefixedEntry(item: string): PolicyEntry | null {
  if (item.startsWith('group:')) {
    const group = item.slice('group:'.length).trim();
    return group === '' ? null : entry({ group, kind: 'group' });
  }
  if (item.startsWith('user:')) {
    const sub = item.slice('user:'.length).trim();
    return sub === '' ? null : entry({ kind: 'user', sub });
  }
  if (item.startsWith('provider:')) {
    const provider = item.slice('provider:'.length).trim().toLowerCase();
    return PROVIDER_NAME.test(provider) ? entry({ kind: 'provider', provider }) : null;
  }
  if (item.startsWith('ip:')) {
    const network = parseNetworkText(item.slice('ip:'.length));
    return network === null ? null : entry({ kind: 'ip', network });
  }
  if (item.startsWith('claim:')) {
    const body = item.slice('claim:'.length);
    const eq = body.indexOf('=');
    if (eq === -1) return null;
    const claim = body.slice(0, eq).trim();
    const value = body.slice(eq + 1).trim();
    return CLAIM_KEY.test(claim) && value !== '' ? entry({ claim, kind: 'claim', value }) : null;
  }
  return addressEntry(item);
}

/** `alice@example.com` or `@example.com`. */
function addressEntry(item: string): PolicyEntry | null {
  const at = item.indexOf('@');
  if (at === -1 || item.indexOf('@', at + 1) !== -1) return null;
  if (!isAsciiDomainAt(item, at + 1)) {
    const domain = item.slice(at + 1).toLowerCase();
    if (!ASCII_DOMAIN.test(domain) && !DOMAIN.test(domain)) return null;
  }
  if (at === 0) return entry({ domain: item.slice(1).toLowerCase(), kind: 'domain' });
  return isLocalPart(item, at) ? entry({ email: item.toLowerCase(), kind: 'email' }) : null;
}

/**
 * True when `text` from `start` is a domain ASCII_DOMAIN takes once lowercased: ASCII letters of
 * either case, digits and inner hyphens in dot-separated labels. Scanned in place, as every
 * container's `allow` has addresses; false sends the text to the full test.
 */
function isAsciiDomainAt(text: string, start: number): boolean {
  if (start >= text.length) return false;
  let labelStart = start;
  for (let i = start; i <= text.length; i++) {
    const c = i === text.length ? DOT : text.charCodeAt(i);
    if (c === DOT) {
      if (i === labelStart || text.charCodeAt(i - 1) === HYPHEN) return false;
      labelStart = i + 1;
      continue;
    }
    const alnum = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    if (!alnum && (c !== HYPHEN || i === labelStart)) return false;
  }
  return true;
}

const DOT = 46;
const HYPHEN = 45;

/** LOCAL_PART on `text` before `end` (not empty), checked in place while it is ASCII. */
function isLocalPart(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return LOCAL_PART.test(text.slice(0, end));
    if (c === 64 || c === 44 || c === 32 || (c >= 9 && c <= 13)) return false;
  }
  return true;
}
