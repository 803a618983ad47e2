import type { PolicyEntry } from '../routes/index.ts';
import { parseNetworkText } from './networks.ts';
import { fail, ok, type Parsed, splitList } from './parsed.ts';

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
  const bad: string[] = [];
  for (const item of splitList(raw)) {
    const entry = parsePolicyEntry(item);
    if (entry === null) bad.push(`"${item}"`);
    else entries.push(entry);
  }
  if (bad.length === 1) return fail(`${bad[0]} is not a policy entry: ${POLICY_GRAMMAR}`);
  if (bad.length > 1) return fail(`${bad.join(', ')} are not policy entries: ${POLICY_GRAMMAR}`);
  return ok(entries);
}

/** One entry, already trimmed; null when it fits none of the forms. */
export function parsePolicyEntry(item: string): PolicyEntry | null {
  if (item === '*') return { kind: 'any' };
  // Only an entry with a colon can be one of the `kind:` forms; plain addresses skip those tests.
  return item.includes(':') ? prefixedEntry(item) : addressEntry(item);
}

/** `group:`, `user:`, `provider:`, `ip:` and `claim:` entries; anything else is an address. */
function prefixedEntry(item: string): PolicyEntry | null {
  if (item.startsWith('group:')) {
    const group = item.slice('group:'.length).trim();
    return group === '' ? null : { kind: 'group', group };
  }
  if (item.startsWith('user:')) {
    const sub = item.slice('user:'.length).trim();
    return sub === '' ? null : { kind: 'user', sub };
  }
  if (item.startsWith('provider:')) {
    const provider = item.slice('provider:'.length).trim().toLowerCase();
    return PROVIDER_NAME.test(provider) ? { kind: 'provider', provider } : null;
  }
  if (item.startsWith('ip:')) {
    const network = parseNetworkText(item.slice('ip:'.length));
    return network === null ? null : { kind: 'ip', network };
  }
  if (item.startsWith('claim:')) {
    const body = item.slice('claim:'.length);
    const eq = body.indexOf('=');
    if (eq === -1) return null;
    const claim = body.slice(0, eq).trim();
    const value = body.slice(eq + 1).trim();
    return CLAIM_KEY.test(claim) && value !== '' ? { kind: 'claim', claim, value } : null;
  }
  return addressEntry(item);
}

/** `alice@example.com` or `@example.com`. */
function addressEntry(item: string): PolicyEntry | null {
  const at = item.indexOf('@');
  if (at === -1 || item.indexOf('@', at + 1) !== -1) return null;
  const local = item.slice(0, at);
  const domain = item.slice(at + 1).toLowerCase();
  if (!ASCII_DOMAIN.test(domain) && !DOMAIN.test(domain)) return null;
  if (local === '') return { kind: 'domain', domain };
  return LOCAL_PART.test(local) ? { kind: 'email', email: item.toLowerCase() } : null;
}
