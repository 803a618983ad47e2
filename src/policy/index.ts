import type { BypassRule, PolicyEntry, RoutePolicy } from '../routes/index.ts';
import { evaluatePpl } from './ppl.ts';
import { compileEntries, deniedNetwork, firstMatch, firstRule, toSubject, type CompiledEntries, type Identity } from './entries.ts';

export type { Identity } from './entries.ts';
export { formatEntry } from './entries.ts';
export { evaluatePpl, formatPpl, localTime } from './ppl.ts';
export { extractGroups, MAX_GROUPS } from './groups.ts';
export { networkAccess, signInShortfall, type Shortfall, type SignInFacts } from './access.ts';

export type AllowReason = 'public' | 'bypass' | 'cors_preflight' | 'allowed' | 'trusted_network';
/** `network`: the route is limited to networks the client is not in (no sign-in would help). */
export type DenyReason = 'sign_in_required' | 'denied' | 'no_rule' | 'not_allowed' | 'network';

/** `entry` is the text of the deciding entry or bypass rule (`group:admins`, `GET /healthz`). */
export type Decision =
  | { readonly allow: true; readonly reason: AllowReason; readonly entry: string | null }
  | { readonly allow: false; readonly reason: DenyReason; readonly entry: string | null };

export interface PolicyRequest {
  method: string;
  /** Normalised, without query or fragment. */
  path: string;
  headers: { origin?: string; 'access-control-request-method'?: string };
  /** When the request arrived (epoch ms): Pomerium rules may depend on the date and time. */
  now: number;
  /** The client address after trusted proxies (GATEHOUSE_TRUSTED_PROXIES); absent when unknown. */
  clientIp?: string;
}

const PUBLIC: Decision = Object.freeze({ allow: true, reason: 'public', entry: null });
const CORS_PREFLIGHT: Decision = Object.freeze({ allow: true, reason: 'cors_preflight', entry: null });
const SIGN_IN_REQUIRED: Decision = Object.freeze({ allow: false, reason: 'sign_in_required', entry: null });
const NO_RULE: Decision = Object.freeze({ allow: false, reason: 'no_rule', entry: null });
const NOT_ALLOWED: Decision = Object.freeze({ allow: false, reason: 'not_allowed', entry: null });

// Route tables are frozen, so each entry list can be indexed once and reused by every request.
const compiled = new WeakMap<readonly PolicyEntry[], CompiledEntries>();

function compiledFor(entries: readonly PolicyEntry[]): CompiledEntries {
  let list = compiled.get(entries);
  if (list === undefined) {
    list = compileEntries(entries);
    compiled.set(entries, list);
  }
  return list;
}

/**
 * Decides one request. Deny entries win over allow entries and the order of entries never
 * matters. A route without allow entries falls back to `defaultAllow`; with neither, nobody
 * is let in (`no_rule`). Pure: no clock, no I/O, never throws for odd input.
 */
export function evaluate(
  policy: RoutePolicy,
  identity: Identity | null,
  request: PolicyRequest,
  defaultAllow: readonly PolicyEntry[],
): Decision {
  const open = openAccess(policy, request);
  if (open !== null) return open;
  if (identity === null) return SIGN_IN_REQUIRED;

  const subject = toSubject(identity, request.clientIp ?? null);
  const deny = compiledFor(policy.deny);
  const denied = firstMatch(deny, subject) ?? firstRule(deny, subject, request, 'deny');
  if (denied !== null) return { allow: false, reason: 'denied', entry: denied };

  const allow = compiledFor(policy.allow.length > 0 ? policy.allow : defaultAllow);
  if (allow.size === 0) return NO_RULE;
  const allowed = firstMatch(allow, subject) ?? firstRule(allow, subject, request, 'allow');
  return allowed === null ? NOT_ALLOWED : { allow: true, reason: 'allowed', entry: allowed };
}

/**
 * The decision when the route lets this request through without anyone (public, a bypass rule,
 * a CORS preflight), or refuses it whoever it is (a denied `ip:` network), else null: then only
 * an identity can decide, and the caller knows it need not look for one otherwise.
 */
export function openAccess(policy: RoutePolicy, request: PolicyRequest): Decision | null {
  // A network the route denies is refused before anything else: no sign-in could change it.
  if (policy.deny.length > 0) {
    const network = deniedNetwork(compiledFor(policy.deny), request.clientIp ?? null);
    if (network !== null) return { allow: false, reason: 'denied', entry: network };
  }
  if (policy.public) return PUBLIC;
  const bypass = matchingBypass(policy.bypass, request);
  if (bypass !== null) return { allow: true, reason: 'bypass', entry: bypass };
  if (policy.corsPreflight && isCorsPreflight(request)) return CORS_PREFLIGHT;
  return hasRule(policy.allow) ? anonymousRule(policy, request) : null;
}

/** Whether any entry is a Pomerium rule; a plain loop, so label routes pay no lookup. */
function hasRule(entries: readonly PolicyEntry[]): boolean {
  for (const entry of entries) if (entry.kind === 'ppl') return true;
  return false;
}

/**
 * Pomerium rules that need no one (`accept`, `http_method`, `date`, …) let a caller in before
 * anyone is identified, as in Pomerium, but only when no deny entry is about the user either:
 * otherwise a denied user could pass by not saying who they are, so everyone signs in. Null:
 * the caller must be identified, and the full evaluation decides.
 */
function anonymousRule(policy: RoutePolicy, request: PolicyRequest): Decision | null {
  const allow = compiledFor(policy.allow);
  if (allow.rules.length === 0) return null;
  const deny = compiledFor(policy.deny);
  if (!deny.anonymous || firstRule(deny, null, request, 'deny') !== null) return null;
  let allowed: string | null = null;
  for (const { rule, text, needsIdentity } of allow.rules) {
    if (!needsIdentity && evaluatePpl(rule, null, request)) {
      allowed = text;
      break;
    }
  }
  return allowed === null ? null : { allow: true, reason: 'allowed', entry: allowed };
}

/** The text of the first bypass rule that covers the request, or null. */
function matchingBypass(rules: readonly BypassRule[], request: PolicyRequest): string | null {
  for (const rule of rules) {
    if (rule.method !== null && rule.method !== request.method) continue;
    if (pathMatches(rule.path, request.path)) return rule.method === null ? rule.path : `${rule.method} ${rule.path}`;
  }
  return null;
}

/**
 * `/share/` covers `/share` and everything below it, never `/shared`; any other rule covers
 * exactly its own path.
 */
function pathMatches(rulePath: string, path: string): boolean {
  if (!rulePath.endsWith('/')) return path === rulePath;
  return path.startsWith(rulePath) || path === rulePath.slice(0, -1);
}

function isCorsPreflight(request: PolicyRequest): boolean {
  const { origin, 'access-control-request-method': requestMethod } = request.headers;
  return request.method === 'OPTIONS' && !!origin && !!requestMethod;
}
