import { parsePolicyEntry, parseValue } from '../labels/index.ts';
import type { PolicyEntry } from '../routes/index.ts';
import { type IssueSink, type RouteDraft, valueText } from './routes-file-draft.ts';
import { parsePpl } from './routes-file-ppl.ts';
import { POMERIUM_ROUTE_OPTIONS, readPomeriumRouteOption, startPomeriumRoute } from './pomerium-route-options.ts';

/**
 * Pomerium route options, mapped onto Gatehouse's route settings. Options Gatehouse has no
 * equivalent for are refused by name rather than ignored, so a route never silently loses a
 * restriction its author relied on.
 */

/** The options read here; the data-plane ones (matching, rewrites, headers, upstream TLS) are POMERIUM_ROUTE_OPTIONS. */
const READ_HERE = [
  'allowed_users',
  'allowed_domains',
  'allowed_groups',
  'allowed_idp_claims',
  'allow_public_unauthenticated_access',
  'allow_any_authenticated_user',
  'cors_allow_preflight',
  'allow_websockets',
  'remove_request_headers',
  'logo_url',
  'load_balancing_policy',
  'policy',
] as const;

const UNSUPPORTED = [
  'tls_client_key',
  'rewrite_response_headers',
  'allow_spdy',
  'tls_downstream_server_name',
  'tls_downstream_client_ca',
  'tls_downstream_client_ca_file',
  'tls_upstream_allow_renegotiation',
  'health_checks',
  'outlier_detection',
  'healthy_panic_threshold',
  'circuit_breaker_thresholds',
  'show_error_details',
  'redirect',
  'response',
  'idp_client_id',
  'idp_client_secret',
  'idp_access_token_allowed_audiences',
  'depends_on',
  'kubernetes_service_account_token',
  'kubernetes_service_account_token_file',
  'enable_google_cloud_serverless_authentication',
  'jwt_groups_filter',
  'jwt_issuer_format',
  'bearer_token_format',
  'upstream_tunnel',
  'mcp',
];

/** Every key that marks a route as written in Pomerium's format (`from`, `to`, … are shared). */
// `path` is a key in both formats: it marks neither (routes-file-route.ts reads it the route's way).
export const POMERIUM_KEYS: ReadonlySet<string> = new Set([...READ_HERE, ...[...POMERIUM_ROUTE_OPTIONS].filter((key) => key !== 'path'), ...UNSUPPORTED]);

const LB = { round_robin: 'round_robin', least_request: 'least_request' } as const;

export function readPomeriumKey(key: string, value: unknown, draft: RouteDraft, report: IssueSink['report']): void {
  const allow = (entries: PolicyEntry[]) => (draft.settings.allow = [...(draft.settings.allow ?? []), ...entries]);
  const bool = () => readBool(key, value, report);
  // Pomerium's semantics (pomerium-route-options.ts): its defaults first, then the options that module reads.
  draft.pomerium ??= startPomeriumRoute(draft);
  if (readPomeriumRouteOption(key, value, draft, draft.pomerium, report)) return;
  switch (key) {
    case 'allowed_users':
    case 'allowed_domains':
    case 'allowed_groups': {
      const items = stringList(value);
      if (items === null) return report(key, 'invalid_value', 'expected a list of strings');
      const entries = items.map((item) => legacyEntry(key, item));
      const bad = items.filter((_, i) => entries[i] === null);
      if (bad.length > 0) return report(key, 'invalid_value', `not ${key === 'allowed_domains' ? 'a domain' : 'an email address'}: ${bad.map((b) => `"${b}"`).join(', ')}`);
      allow(entries as PolicyEntry[]);
      return;
    }
    case 'allowed_idp_claims':
      return readClaims(value, allow, report);
    case 'allow_public_unauthenticated_access':
      return set(bool(), (v) => (draft.settings.public = v));
    case 'allow_any_authenticated_user':
      return set(bool(), (v) => v && allow([{ kind: 'any' }]));
    case 'cors_allow_preflight':
      return set(bool(), (v) => (draft.settings.cors_preflight = v));
    case 'allow_websockets':
      return set(bool(), (v) => (draft.settings.websockets = v));
    case 'remove_request_headers': {
      const items = stringList(value);
      if (items === null || !items.every((h) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h))) return report(key, 'invalid_value', 'expected a list of header names');
      draft.removeHeaders.push(...items.map((h) => h.toLowerCase()));
      return;
    }
    case 'logo_url': {
      const text = valueText(value, false);
      const parsed = text === null ? null : parseValue('icon', text, { allowLocalTargets: true });
      if (parsed === null || !parsed.ok) return report(key, 'invalid_value', parsed?.problem ?? 'expected a URL', text);
      draft.settings.icon = parsed.value;
      return;
    }
    case 'load_balancing_policy': {
      const text = valueText(value, false)?.toLowerCase();
      if (text !== 'round_robin' && text !== 'least_request') return report(key, 'invalid_value', 'Gatehouse balances with ROUND_ROBIN or LEAST_REQUEST only', text ?? null);
      draft.settings.lb = LB[text];
      return;
    }
    case 'policy': {
      const parsed = parsePpl(value);
      if (!parsed.ok) return report(key, 'invalid_value', parsed.problem);
      allow(parsed.value.allow);
      draft.settings.deny = [...(draft.settings.deny ?? []), ...parsed.value.deny];
      if (parsed.value.public) draft.settings.public = true;
      return;
    }
    default:
      return report(key, 'invalid_value', `the Pomerium option ${key} has no Gatehouse equivalent; remove it, or serve this route another way`);
  }
}

function set<T>(value: T | null, apply: (value: T) => unknown): void {
  if (value !== null) apply(value);
}

function readBool(key: string, value: unknown, report: IssueSink['report']): boolean | null {
  const text = valueText(value, false);
  const parsed = text === null ? null : parseValue('public', text, { allowLocalTargets: true });
  if (parsed === null || !parsed.ok) {
    report(key, 'invalid_value', 'expected true or false', text);
    return null;
  }
  return parsed.value;
}

function stringList(value: unknown): string[] | null {
  const items = Array.isArray(value) ? value : [value];
  const texts = items.map((v) => valueText(v, false));
  if (texts.some((t) => t === null)) return null;
  return (texts as string[]).map((t) => t.trim()).filter((t) => t !== '');
}

/** Pomerium's `allowed_users` holds emails or user ids; `allowed_domains` bare domains. */
function legacyEntry(key: string, item: string): PolicyEntry | null {
  if (key === 'allowed_groups') return { kind: 'group', group: item };
  if (key === 'allowed_domains') {
    const entry = parsePolicyEntry(`@${item.replace(/^@/, '')}`);
    return entry?.kind === 'domain' ? entry : null;
  }
  if (!item.includes('@')) return { kind: 'user', sub: item };
  const entry = parsePolicyEntry(item);
  return entry?.kind === 'email' ? entry : null;
}

function readClaims(value: unknown, allow: (entries: PolicyEntry[]) => void, report: IssueSink['report']): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report('allowed_idp_claims', 'invalid_value', 'expected a mapping of claim name to a list of values');
    return;
  }
  const entries: PolicyEntry[] = [];
  for (const [claim, raw] of Object.entries(value)) {
    const values = Array.isArray(raw) ? raw : [raw];
    const texts = values.map((v) => valueText(v, false));
    if (texts.length === 0 || texts.some((t) => t === null || t.trim() === '')) {
      report(`allowed_idp_claims.${claim}`, 'invalid_value', 'expected a value or a list of values');
      continue;
    }
    for (const text of texts as string[]) entries.push({ kind: 'claim', claim, value: text.trim() });
  }
  allow(entries);
}
