import type { PolicyEntry, PplNode } from '../routes/index.ts';
import { evaluatePpl, formatPpl, needsIdentity, type PplRequest } from './ppl.ts';
import { cidrContains, clientAddressBytes, compileNetwork, type Cidr } from '../labels/index.ts';

/** Who is asking, as far as policy entries care. */
export interface Identity {
  sub: string;
  email: string | null;
  emailVerified: boolean | null;
  name: string | null;
  groups: readonly string[];
  claims: Readonly<Record<string, unknown>>;
  /** The sign-in method the session was made with (`local`, `google`, …); absent for older sessions. */
  provider?: string | undefined;
}

/** The text users write in labels: `alice@example.com`, `@example.com`, `group:admins`, `*`. */
export function formatEntry(entry: PolicyEntry): string {
  switch (entry.kind) {
    case 'email':
      return entry.email;
    case 'domain':
      return `@${entry.domain}`;
    case 'group':
      return `group:${entry.group}`;
    case 'claim':
      return `claim:${entry.claim}=${entry.value}`;
    case 'user':
      return `user:${entry.sub}`;
    case 'any':
      return '*';
    case 'ppl':
      return formatPpl(entry.rule);
    case 'provider':
      return `provider:${entry.provider}`;
    case 'ip':
      return `ip:${entry.network}`;
  }
}

/**
 * One allow or deny list, indexed once per list so a request costs a few Map lookups.
 * Every map value is the entry's text; when two entries could decide, the smallest text wins,
 * so the deciding entry never depends on the order the entries were written in.
 */
export interface CompiledEntries {
  readonly size: number;
  readonly any: string | null;
  readonly users: ReadonlyMap<string, string>;
  readonly emails: ReadonlyMap<string, string>;
  readonly domains: ReadonlyMap<string, string>;
  readonly groups: ReadonlyMap<string, string>;
  readonly claims: readonly { readonly key: string; readonly value: string; readonly text: string }[];
  /** Pomerium policy rules (routes file only), in the order written. */
  readonly rules: readonly { readonly rule: PplNode; readonly text: string; readonly needsIdentity: boolean }[];
  /** Whether every entry can be decided without knowing who asks (only rules such as `http_method` or `date`). */
  readonly anonymous: boolean;
  readonly providers: ReadonlyMap<string, string>;
  readonly networks: readonly { readonly network: Cidr; readonly text: string }[];
}

export function compileEntries(entries: readonly PolicyEntry[]): CompiledEntries {
  let any: string | null = null;
  const users = new Map<string, string>();
  const emails = new Map<string, string>();
  const domains = new Map<string, string>();
  const groups = new Map<string, string>();
  const claims: { key: string; value: string; text: string }[] = [];
  const rules: { rule: PplNode; text: string; needsIdentity: boolean }[] = [];
  let anonymous = true;
  const providers = new Map<string, string>();
  const networks: { network: Cidr; text: string }[] = [];
  for (const entry of entries) {
    const text = formatEntry(entry);
    switch (entry.kind) {
      case 'any':
        any = '*';
        break;
      case 'user':
        putSmallest(users, entry.sub, text);
        break;
      case 'email':
        // An entry that is not a single-`@` address can never match anything.
        if (splitEmail(entry.email) !== null) putSmallest(emails, asciiLower(entry.email), text);
        break;
      case 'domain':
        putSmallest(domains, asciiLower(entry.domain), text);
        break;
      case 'group':
        putSmallest(groups, entry.group, text);
        break;
      case 'claim':
        claims.push({ key: entry.claim, value: entry.value, text });
        break;
      case 'ppl': {
        const rule = { rule: entry.rule, text, needsIdentity: needsIdentity(entry.rule) };
        rules.push(rule);
        // Only a rule that needs no one leaves the list decidable without an identity.
        if (!rule.needsIdentity) continue;
        break;
      }
      case 'provider':
        putSmallest(providers, entry.provider, text);
        break;
      case 'ip': {
        // Entries come validated from labels/; one that no longer parses can never match.
        const network = compileNetwork(entry.network);
        if (network !== null) networks.push({ network, text });
        break;
      }
    }
    anonymous = false;
  }
  networks.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  return { size: entries.length, any, users, emails, domains, groups, claims, providers, networks, rules, anonymous };
}

/** The per-request facts entries are matched against, computed once per evaluation. */
export interface Subject {
  readonly identity: Identity;
  /** Lowercased address, or null when it is absent, malformed or marked unverified. */
  readonly email: string | null;
  readonly domain: string | null;
  /** The client address after trusted proxies; null when unknown (never matches an `ip:` entry). */
  readonly clientIp: string | null;
}

export function toSubject(identity: Identity, clientIp: string | null = null): Subject {
  if (identity.email === null || identity.emailVerified === false) return { identity, email: null, domain: null, clientIp };
  const parts = splitEmail(identity.email);
  if (parts === null) return { identity, email: null, domain: null, clientIp };
  return { identity, email: asciiLower(identity.email), domain: asciiLower(parts.domain), clientIp };
}

/** The text of the first `ip:` entry (in text order) whose network holds `clientIp`, or null. */
export function firstNetworkMatch(list: CompiledEntries, clientIp: string | null): string | null {
  if (clientIp === null || list.networks.length === 0) return null;
  const bytes = clientAddressBytes(clientIp);
  if (bytes === null) return null;
  for (const { network, text } of list.networks) if (cidrContains(network, bytes)) return text;
  return null;
}

/**
 * For a deny list: the network entry that refuses this client, where an address that is unknown
 * or unreadable counts as inside every denied network (a deny rule never lets a client through
 * for want of its address). Null when the list denies no network or the client is outside them all.
 */
export function deniedNetwork(list: CompiledEntries, clientIp: string | null): string | null {
  if (list.networks.length === 0) return null;
  if (clientIp === null || clientAddressBytes(clientIp) === null) return (list.networks[0] as { text: string }).text;
  return firstNetworkMatch(list, clientIp);
}

/** The text of the deciding entry, or null when no entry matches. */
export function firstMatch(list: CompiledEntries, subject: Subject): string | null {
  if (list.size === 0) return null;
  if (list.any !== null) return list.any;
  const { identity } = subject;
  const user = list.users.get(identity.sub);
  if (user !== undefined) return user;
  if (subject.email !== null) {
    const email = list.emails.get(subject.email);
    if (email !== undefined) return email;
  }
  if (subject.domain !== null) {
    const domain = list.domains.get(subject.domain);
    if (domain !== undefined) return domain;
  }
  if (list.groups.size > 0) {
    let best: string | null = null;
    for (const group of identity.groups) {
      const text = list.groups.get(group);
      if (text !== undefined && (best === null || text < best)) best = text;
    }
    if (best !== null) return best;
  }
  if (identity.provider !== undefined && list.providers.size > 0) {
    const provider = list.providers.get(identity.provider);
    if (provider !== undefined) return provider;
  }
  const network = firstNetworkMatch(list, subject.clientIp);
  if (network !== null) return network;
  let smallestClaim: string | null = null;
  for (const claim of list.claims) {
    if ((smallestClaim === null || claim.text < smallestClaim) && claimMatches(identity.claims, claim.key, claim.value)) {
      smallestClaim = claim.text;
    }
  }
  return smallestClaim;
}

/**
 * The text of the first Pomerium rule that holds for this request, or null. `subject` is null
 * only for a list that needs no one (`anonymous`): then every criterion about the user is false.
 */
export function firstRule(list: CompiledEntries, subject: Subject | null, request: PplRequest, action: 'allow' | 'deny'): string | null {
  for (const { rule, text } of list.rules) if (evaluatePpl(rule, subject, request, action === 'deny')) return text;
  return null;
}

function claimMatches(claims: Readonly<Record<string, unknown>>, key: string, expected: string): boolean {
  if (!Object.hasOwn(claims, key)) return false;
  const value = claims[key];
  if (Array.isArray(value)) return value.some((item) => scalarEquals(item, expected));
  return scalarEquals(value, expected);
}

function scalarEquals(value: unknown, expected: string): boolean {
  // Objects and null never equal an entry: `String({})` is "[object Object]".
  return (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && String(value) === expected;
}

/**
 * The domain of an address with exactly one `@` and something on both sides, or null
 * (`a@evil.com@corp.com` is not an address).
 */
function splitEmail(email: string): { domain: string } | null {
  const at = email.indexOf('@');
  if (at <= 0 || at === email.length - 1 || email.indexOf('@', at + 1) !== -1) return null;
  return { domain: email.slice(at + 1) };
}

/**
 * ASCII-only case folding: `String#toLowerCase` maps the Kelvin sign (U+212A) to `k` and the
 * Angstrom sign to `å`, which would let a look-alike address match an ASCII entry.
 */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

function putSmallest(map: Map<string, string>, key: string, text: string): void {
  const current = map.get(key);
  // `<` on strings compares UTF-16 code units: the same order on every machine and locale.
  if (current === undefined || text < current) map.set(key, text);
}
