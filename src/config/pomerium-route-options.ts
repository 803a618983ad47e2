import { canonicalPath, parseHeaderName, parseTarget } from '../labels/index.ts';
import { checkRe2, defaultPomeriumRoute, type PomeriumRoute, type PomeriumUpstreamTls } from '../routes/index.ts';
import { type IssueSink, readHeaderMap, type RouteDraft, valueText } from './routes-file-draft.ts';

/**
 * Pomerium's per-route options that give a route read from a Pomerium file Pomerium's own
 * semantics: path matching (`prefix` as a string prefix, exact `path`, RE2 `regex`), rewriting,
 * `${pomerium.*}` header values, Pomerium's identity headers, weighted `to` lists and upstream
 * TLS. Pure: problems go to the route's issue sink, which keeps the route closed.
 *
 * Labels keep Gatehouse's defaults; a Pomerium route starts from Pomerium's documented ones
 * (`startPomeriumRoute`): websockets off, `Host` set to the `to` host, no identity headers.
 */

/** The options this module reads; routes-file-pomerium.ts hands them over before its own switch. */
export const POMERIUM_ROUTE_OPTIONS: ReadonlySet<string> = new Set([
  'prefix',
  'path',
  'regex',
  'regex_priority_order',
  'prefix_rewrite',
  'regex_rewrite_pattern',
  'regex_rewrite_substitution',
  'host_rewrite',
  'host_rewrite_header',
  'host_path_regex_rewrite_pattern',
  'host_path_regex_rewrite_substitution',
  'preserve_host_header',
  'pass_identity_headers',
  'jwt_claims_headers',
  'set_request_headers',
  'set_response_headers',
  'tls_server_name',
  'tls_upstream_server_name',
  'tls_custom_ca',
  'tls_custom_ca_file',
  'tls_client_cert',
  'tls_client_cert_file',
  'tls_client_key',
  'tls_client_key_file',
]);

/** Pomerium's defaults, applied before any key of a Pomerium route is read. */
export function startPomeriumRoute(draft: RouteDraft): PomeriumRoute {
  draft.settings.websockets = false;
  draft.settings.host = { mode: 'upstream' };
  draft.settings.identity = 'none';
  return defaultPomeriumRoute();
}

type Report = IssueSink['report'];

/** The half of a rewrite pair not read (yet): a pattern and its substitution are two keys. */
const UNSET = '\u0000';

/** Reads one option into `pomerium`; false when the key is not one of POMERIUM_ROUTE_OPTIONS. */
export function readPomeriumRouteOption(key: string, value: unknown, draft: RouteDraft, pomerium: PomeriumRoute, report: Report): boolean {
  if (!POMERIUM_ROUTE_OPTIONS.has(key)) return false;
  const text = () => valueText(value, false);
  switch (key) {
    case 'prefix':
    case 'path': {
      const path = exactPath(key, text(), report);
      if (path === null) return true;
      const taken = pomerium.match !== 'prefix' || draft.settings.path !== undefined;
      if (taken) report(key, 'invalid_value', 'a route matches by one of prefix, path or regex; keep only one');
      draft.settings.path = path;
      if (key === 'path') pomerium.match = 'path';
      return true;
    }
    case 'regex': {
      const pattern = re2Text(key, text(), report);
      if (pattern === null) return true;
      if (pomerium.match !== 'prefix' || draft.settings.path !== undefined) report(key, 'invalid_value', 'a route matches by one of prefix, path or regex; keep only one');
      pomerium.match = 'regex';
      pomerium.regex = pattern;
      return true;
    }
    case 'regex_priority_order': {
      const n = Number(text());
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) report(key, 'invalid_value', 'expected a whole number (higher is tried first)', text());
      else pomerium.regexPriority = n;
      return true;
    }
    case 'prefix_rewrite': {
      const rewrite = text();
      if (rewrite === null || !/^\/[^\s?#\x00-\x1f\x7f]*$/.test(rewrite)) report(key, 'invalid_value', 'expected a path starting with /, such as /api/', rewrite);
      else pomerium.prefixRewrite = rewrite;
      return true;
    }
    case 'regex_rewrite_pattern':
    case 'host_path_regex_rewrite_pattern': {
      const pattern = re2Text(key, text(), report);
      if (pattern === null) return true;
      const field = key === 'regex_rewrite_pattern' ? 'regexRewrite' : 'hostPathRewrite';
      pomerium[field] = { pattern, substitution: pomerium[field]?.substitution ?? UNSET };
      return true;
    }
    case 'regex_rewrite_substitution':
    case 'host_path_regex_rewrite_substitution': {
      const substitution = text();
      if (substitution === null || /[\x00-\x1f\x7f]/.test(substitution)) return report(key, 'invalid_value', 'expected a text such as /\\1/'), true;
      const field = key === 'regex_rewrite_substitution' ? 'regexRewrite' : 'hostPathRewrite';
      pomerium[field] = { pattern: pomerium[field]?.pattern ?? UNSET, substitution };
      return true;
    }
    case 'host_rewrite': {
      const host = text();
      if (host === null || !/^[A-Za-z0-9.\-_[\]:]{1,253}$/.test(host)) report(key, 'invalid_value', 'expected a host name, such as internal.example.com', host);
      else draft.settings.host = { mode: 'literal', host };
      return true;
    }
    case 'host_rewrite_header': {
      const name = text();
      const parsed = name === null ? null : parseHeaderName(name);
      if (parsed === null || !parsed.ok) report(key, 'invalid_value', 'expected a header name, such as X-Original-Host', name);
      else pomerium.hostRewriteHeader = (name as string).toLowerCase();
      return true;
    }
    case 'preserve_host_header': {
      const on = bool(key, value, report);
      if (on !== null) draft.settings.host = { mode: on ? 'preserve' : 'upstream' };
      return true;
    }
    case 'pass_identity_headers': {
      const on = bool(key, value, report);
      if (on !== null) pomerium.identityHeaders = on;
      return true;
    }
    case 'jwt_claims_headers':
      readClaimHeaders(value, pomerium, report);
      return true;
    case 'set_request_headers':
      readRequestHeaders(value, draft, report);
      return true;
    case 'set_response_headers':
      readResponseHeaders(value, pomerium, report);
      return true;
    default:
      readUpstreamTls(key, text(), pomerium, report);
      return true;
  }
}

/**
 * What only the whole route tells: options that need each other, the `from` port and the
 * weights of a `to` list. Call once every key is read, before building the spec.
 */
export function finishPomeriumRoute(route: Record<string, unknown>, pomerium: PomeriumRoute, report: Report): PomeriumRoute {
  for (const [field, stem] of [
    ['regexRewrite', 'regex_rewrite'],
    ['hostPathRewrite', 'host_path_regex_rewrite'],
  ] as const) {
    const rewrite = pomerium[field];
    if (rewrite === null) continue;
    if (rewrite.pattern === UNSET) report(`${stem}_pattern`, 'missing', `${stem}_substitution needs ${stem}_pattern`);
    if (rewrite.substitution === UNSET) report(`${stem}_substitution`, 'missing', `${stem}_pattern needs ${stem}_substitution`);
  }
  if (pomerium.prefixRewrite !== null && pomerium.match === 'regex') report('prefix_rewrite', 'invalid_value', 'prefix_rewrite needs prefix or path; with regex, use regex_rewrite_pattern');
  if (pomerium.prefixRewrite !== null && pomerium.regexRewrite !== null) report('prefix_rewrite', 'invalid_value', 'use either prefix_rewrite or regex_rewrite_pattern, not both');
  if (pomerium.hostRewriteHeader !== null && pomerium.hostPathRewrite !== null) report('host_rewrite_header', 'invalid_value', 'use one Host rewrite: host_rewrite_header or host_path_regex_rewrite_pattern');
  const tls = pomerium.tls;
  if (tls !== null && (tls.clientCert !== null || tls.clientCertFile !== null) !== (tls.clientKeyFile !== null)) {
    report('tls_client_cert', 'invalid_value', 'a client certificate needs both tls_client_cert (or tls_client_cert_file) and tls_client_key_file');
  }
  return { ...pomerium, port: fromPort(route.from), weights: toWeights(route.to) };
}

/** Pomerium matches `from: https://a.example:8443` on that authority only. */
function fromPort(from: unknown): number | null {
  const text = Array.isArray(from) ? from[0] : from;
  if (typeof text !== 'string') return null;
  const port = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:]*):(\d{1,5})(?:\/|$)/i.exec(text.trim());
  return port === null ? null : Number(port[1]);
}

/** `to: [http://a,3, http://b]` → { 'http://a': 3 }; empty when no member has a weight. */
function toWeights(to: unknown): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const item of Array.isArray(to) ? to : [to]) {
    if (typeof item !== 'string') continue;
    const weighted = /^(.*?),\s*(\d+)$/.exec(item.trim());
    if (weighted === null) continue;
    const target = parseTarget(weighted[1] as string, { allowLocal: true });
    const weight = Number(weighted[2]);
    if (target.ok && weight > 0) weights[target.value] = weight;
  }
  return weights;
}

/** `prefix` and `path` are taken as written (no trailing slash trimmed: `/app/` never takes `/apple`), in normalised form. */
function exactPath(key: string, raw: string | null, report: Report): string | null {
  const parsed = raw === null ? null : canonicalPath(raw);
  if (parsed === null || !parsed.ok) {
    report(key, 'invalid_value', parsed?.problem ?? 'expected a path such as /admin', raw);
    return null;
  }
  if (parsed.value !== raw?.trim()) {
    report(key, 'invalid_value', `requests are matched in normalised form; write ${parsed.value}`, raw);
    return null;
  }
  return parsed.value;
}

function re2Text(key: string, raw: string | null, report: Report): string | null {
  if (raw === null || raw === '') {
    report(key, 'invalid_value', 'expected a regular expression');
    return null;
  }
  const problem = checkRe2(raw);
  if (problem !== null) {
    report(key, 'invalid_value', `not a valid RE2 expression (Gatehouse, like Pomerium, takes RE2 only: no backreferences or lookarounds): ${problem}`, raw);
    return null;
  }
  return raw;
}

function bool(key: string, value: unknown, report: Report): boolean | null {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  report(key, 'invalid_value', 'expected true or false', valueText(value, false));
  return null;
}

/**
 * `jwt_claims_headers`: a list or comma text of claims (each sent as `X-Pomerium-Claim-<Name>`,
 * `_` written as `-`), or a mapping of header name to claim.
 */
function readClaimHeaders(value: unknown, pomerium: PomeriumRoute, report: Report): void {
  const key = 'jwt_claims_headers';
  const pairs: [string, unknown][] = [];
  if (typeof value === 'string' || Array.isArray(value)) {
    const claims = (Array.isArray(value) ? value : value.split(',')).map((c) => (typeof c === 'string' ? c.trim() : ''));
    for (const claim of claims) if (claim !== '') pairs.push([`X-Pomerium-Claim-${claim.replace(/_/g, '-')}`, claim]);
  } else if (value !== null && typeof value === 'object') {
    pairs.push(...Object.entries(value));
  } else return report(key, 'invalid_value', 'expected a list of claims, or a mapping of header name to claim');
  for (const [name, claim] of pairs) {
    const parsed = parseHeaderName(name);
    if (!parsed.ok) report(`${key}.${name}`, 'invalid_value', parsed.problem);
    else if (typeof claim !== 'string' || !/^[A-Za-z0-9_.:\-/]+$/.test(claim)) report(`${key}.${name}`, 'invalid_value', 'expected a claim name, such as email');
    else pomerium.claimHeaders[name.toLowerCase()] = claim;
  }
}

/** Pomerium's substitutions Gatehouse can fill, as header-template placeholders. */
const SUBSTITUTIONS: Readonly<Record<string, string>> = { jwt: '{jwt}' };

/**
 * `set_request_headers` with Pomerium's `${pomerium.jwt}` (the same JWT as
 * X-Pomerium-Jwt-Assertion) and `$$` for a literal `$`. The IdP's own tokens
 * (`${pomerium.id_token}`, `${pomerium.access_token}`), the client certificate fingerprint and
 * request-header copies are refused: Gatehouse does not keep them, and sending an empty value
 * instead would break the app silently.
 */
function readRequestHeaders(value: unknown, draft: RouteDraft, report: Report): void {
  const key = 'set_request_headers';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return report(key, 'invalid_value', 'expected a mapping of header name to value');
  const converted: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(value)) {
    const text = valueText(raw, false);
    if (text === null) {
      converted[name] = raw;
      continue;
    }
    const template = toTemplate(text);
    if (template.ok) converted[name] = template.value;
    else report(`${key}.${name}`, 'invalid_value', template.problem);
  }
  readHeaderMap(key, converted, draft, report);
}

export function toTemplate(text: string): { ok: true; value: string } | { ok: false; problem: string } {
  if (/\{[A-Za-z_][A-Za-z0-9_]*\}/.test(text.replace(/\$\{[^}]*\}/g, ''))) {
    return { ok: false, problem: 'a value with {word} in it cannot be sent as written (Gatehouse reads {word} as a placeholder)' };
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char !== '$') {
      out += char;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (text[i + 1] !== '{') {
      out += char;
      continue;
    }
    const end = text.indexOf('}', i);
    const name = end === -1 ? '' : text.slice(i + 2, end);
    const placeholder = name.startsWith('pomerium.') ? SUBSTITUTIONS[name.slice('pomerium.'.length)] : undefined;
    if (placeholder === undefined) {
      return { ok: false, problem: `\${${name}} cannot be supplied by Gatehouse; only \${pomerium.jwt} is (write $$ for a literal $)` };
    }
    out += placeholder;
    i = end;
  }
  return { ok: true, value: out };
}

/** Never set from the config: they frame the response or are Gatehouse's own. */
const RESERVED_RESPONSE = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'trailer', 'te', 'x-request-id', 'set-cookie']);

function readResponseHeaders(value: unknown, pomerium: PomeriumRoute, report: Report): void {
  const key = 'set_response_headers';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return report(key, 'invalid_value', 'expected a mapping of header name to value');
  for (const [name, raw] of Object.entries(value)) {
    const parsed = parseHeaderName(name);
    const text = valueText(raw, false);
    if (!parsed.ok) report(`${key}.${name}`, 'invalid_value', parsed.problem);
    else if (RESERVED_RESPONSE.has(name.toLowerCase())) report(`${key}.${name}`, 'invalid_value', 'this header cannot be set on responses');
    else if (text === null || /[\x00-\x08\x0a-\x1f\x7f]/.test(text)) report(`${key}.${name}`, 'invalid_value', 'expected a text value on one line');
    else pomerium.responseHeaders[name.toLowerCase()] = text;
  }
}

function readUpstreamTls(key: string, text: string | null, pomerium: PomeriumRoute, report: Report): void {
  const tls: PomeriumUpstreamTls = pomerium.tls ?? { serverName: null, ca: null, caFile: null, clientCert: null, clientCertFile: null, clientKeyFile: null };
  if (text === null || text.trim() === '') return report(key, 'invalid_value', 'expected a text value');
  switch (key) {
    case 'tls_server_name':
    case 'tls_upstream_server_name':
      if (!/^[A-Za-z0-9.\-]{1,253}$/.test(text)) return report(key, 'invalid_value', 'expected a host name', text);
      tls.serverName = text;
      break;
    case 'tls_custom_ca':
    case 'tls_client_cert': {
      const pem = base64Pem(text);
      if (pem === null) return report(key, 'invalid_value', 'expected a base64-encoded PEM certificate, as Pomerium takes it');
      if (key === 'tls_custom_ca') tls.ca = pem;
      else tls.clientCert = pem;
      break;
    }
    case 'tls_custom_ca_file':
      tls.caFile = text;
      break;
    case 'tls_client_cert_file':
      tls.clientCertFile = text;
      break;
    case 'tls_client_key_file':
      tls.clientKeyFile = text;
      break;
    case 'tls_client_key':
      // The route table is shown by `gatehouse routes` and the admin API: a private key never goes in it.
      return report(key, 'invalid_value', 'an inline private key would be shown with the route; put it in a file and use tls_client_key_file');
  }
  pomerium.tls = tls;
}

function base64Pem(text: string): string | null {
  const pem = Buffer.from(text.trim(), 'base64').toString('utf8');
  return /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem) ? pem : null;
}
