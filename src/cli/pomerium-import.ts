import { parse } from 'yaml';
import { collectPomeriumSettings, isPomeriumSetting, mapPomeriumSettings, parseRoutesFile } from '../config/index.ts';
import { parsePolicyEntry } from '../labels/index.ts';
import { formatEntry } from '../policy/index.ts';
import type { PolicyEntry, RouteSpec } from '../routes/index.ts';

/**
 * `gatehouse import pomerium FILE`: a Pomerium configuration → the container labels that make
 * the same routes, and the GATEHOUSE_* environment for its global settings. Pure: text in,
 * a plan out (rendered by renderImport). A route labels cannot express exactly (PPL trees,
 * rewrites, regex or exact paths, Pomerium's header substitutions, …) is not translated: it
 * stays in the routes file, and the plan says why. Every label route is written as a named
 * route with every access key spelt out, so nothing is inherited from another route.
 */

export interface ImportedRoute {
  /** Position in the file, as `gatehouse routes` counts. */
  readonly index: number;
  readonly from: string;
  /** `iap.<name>.*`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** What differs a little from the file, worth a look (never who gets in). */
  readonly notes: readonly string[];
}

export interface ContainerLabels {
  /** The compose service (the `to` host) or, for an address, the upstream itself. */
  readonly service: string;
  readonly routes: readonly ImportedRoute[];
}

export interface ImportPlan {
  readonly containers: readonly ContainerLabels[];
  /** Routes that stay in the routes file, each with why. */
  readonly kept: readonly { readonly index: number; readonly from: string; readonly reasons: readonly string[] }[];
  /** GATEHOUSE_* → value, or a description of the secret it holds (never the secret). */
  readonly env: readonly { readonly name: string; readonly value: string; readonly from: string }[];
  readonly settingNotes: readonly string[];
  /** The file does not parse at all. */
  readonly error: string | null;
}

/** Pomerium keys a label route says the same way, with how. */
const EXPRESSIBLE = new Set([
  'from',
  'to',
  'prefix',
  'allowed_users',
  'allowed_domains',
  'allowed_groups',
  'allowed_idp_claims',
  'allow_any_authenticated_user',
  'allow_public_unauthenticated_access',
  'cors_allow_preflight',
  'policy',
  'allow_websockets',
  'preserve_host_header',
  'pass_identity_headers',
  'set_request_headers',
  'timeout',
  'idle_timeout',
  'tls_skip_verify',
  'load_balancing_policy',
  'name',
  'description',
  'logo_url',
]);

const SECRET_VARIABLES = new Set(['GATEHOUSE_OIDC_CLIENT_SECRET', 'GATEHOUSE_SECRET']);

export function planImport(text: string, fileName: string): ImportPlan {
  const empty = { containers: [], kept: [], env: [], settingNotes: [] };
  const parsed = parseRoutesFile(text, fileName);
  if (!parsed.ok) return { ...empty, error: parsed.error };
  let data: unknown;
  try {
    data = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    return { ...empty, error: `${fileName}: ${(error as Error).message}` };
  }
  const raws = rawRoutes(data);
  const top = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};

  const containers = new Map<string, ImportedRoute[]>();
  const kept: { index: number; from: string; reasons: string[] }[] = [];
  const usedNames = new Set<string>();
  raws.forEach((raw, index) => {
    const from = typeof raw.from === 'string' ? raw.from : JSON.stringify(raw.from ?? null);
    const issues = parsed.result.issues.filter((i) => i.source.kind === 'file' && i.source.index === index).map((i) => i.message);
    if (issues.length > 0) return kept.push({ index, from, reasons: ['the route is refused: fix it first', ...issues] });
    const specs = parsed.result.specs.filter((s) => s.source.kind === 'file' && s.source.index === index);
    const result = translateRoute(raw, specs, index, usedNames);
    if ('reasons' in result) kept.push({ index, from, reasons: result.reasons });
    else {
      const list = containers.get(result.service) ?? [];
      list.push(result.route);
      containers.set(result.service, list);
    }
  });

  const mapped = mapPomeriumSettings(collectPomeriumSettings(Object.fromEntries(Object.entries(top).filter(([k]) => isPomeriumSetting(k))), fileName, {}, false), {});
  const env = Object.entries(mapped.env).map(([name, value]) => ({
    name,
    value: SECRET_VARIABLES.has(name) ? `<the value of ${mapped.origins[name]}>` : value,
    from: mapped.origins[name] ?? '',
  }));
  const settingNotes = [...mapped.problems.map((p) => `refused: ${p}`), ...mapped.notes.filter((n) => n.outcome !== 'mapped').map((n) => n.message)];
  return { containers: [...containers].map(([service, routes]) => ({ service, routes })), kept, env, settingNotes, error: null };
}

function rawRoutes(data: unknown): Record<string, unknown>[] {
  const lists = Array.isArray(data) ? [data] : data !== null && typeof data === 'object' ? ['policy', 'routes'].map((k) => (data as Record<string, unknown>)[k]) : [];
  return lists.flatMap((list) => (Array.isArray(list) ? list : [])).map((r) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : {}));
}

function translateRoute(
  raw: Record<string, unknown>,
  specs: readonly RouteSpec[],
  index: number,
  usedNames: Set<string>,
): { service: string; route: ImportedRoute } | { reasons: string[] } {
  const reasons: string[] = [];
  for (const key of Object.keys(raw)) if (!EXPRESSIBLE.has(key)) reasons.push(`${key}: labels have no equivalent; it stays in the routes file`);
  const spec = specs[0];
  if (spec === undefined) return { reasons: [...reasons, 'the route makes no route'] };
  if (specs.length > 1) reasons.push('to lists several upstreams: labels balance over replicas of one service instead');
  const rules = [...spec.policy.allow, ...spec.policy.deny].filter((e) => e.kind === 'ppl');
  if (rules.length > 0) reasons.push(`policy: ${rules.map((r) => formatEntry(r)).join('; ')} is a rule labels cannot say (and/not/nor, methods, paths or times)`);
  if (typeof raw.prefix === 'string' && !raw.prefix.endsWith('/') && raw.prefix !== '/') {
    reasons.push(`prefix ${raw.prefix}: Pomerium also matches ${raw.prefix}-anything, labels match ${raw.prefix} and below only; write prefix ${raw.prefix}/ to move it`);
  }
  const headers = raw.set_request_headers;
  if (headers !== null && typeof headers === 'object' && Object.values(headers).some((v) => typeof v === 'string' && v.includes('${'))) {
    reasons.push("set_request_headers uses Pomerium's ${…} substitutions, which labels do not have");
  }
  const entries = (list: readonly PolicyEntry[]) => list.map(formatEntry);
  for (const entry of [...spec.policy.allow, ...spec.policy.deny]) {
    if (entry.kind !== 'ppl' && parsePolicyEntry(formatEntry(entry)) === null) reasons.push(`the entry ${formatEntry(entry)} cannot be written in a label`);
  }
  if (spec.policy.public && spec.policy.deny.length > 0) reasons.push('a public route with deny rules: labels refuse public together with deny');
  if (reasons.length > 0) return { reasons };

  const name = routeName(raw, index, usedNames);
  const key = (k: string) => `iap.${name}.${k}`;
  const labels: Record<string, string> = {};
  const notes: string[] = [];
  labels[key('from')] = spec.hosts.map((h) => `${spec.fromScheme}://${h}`).join(',');
  if (spec.path !== '/') labels[key('path')] = spec.path;
  const upstream = new URL(spec.upstream.origin);
  const service = /^[a-z0-9][a-z0-9_-]*$/i.test(upstream.hostname) && !/^\d+$/.test(upstream.hostname) ? upstream.hostname : spec.upstream.origin;
  if (service === upstream.hostname) {
    labels[key('port')] = upstream.port === '' ? (upstream.protocol === 'https:' ? '443' : '80') : upstream.port;
    if (upstream.protocol === 'https:') labels[key('scheme')] = 'https';
  } else labels[key('to')] = spec.upstream.origin;
  // Access: spelt out on every route (named routes inherit nothing they set themselves).
  if (spec.policy.public) labels[key('public')] = 'true';
  else {
    labels[key('allow')] = entries(spec.policy.allow).join(', ');
    if (spec.policy.allow.length === 0) notes.push('no allow rule: only GATEHOUSE_DEFAULT_ALLOW lets anyone in, as in the file');
  }
  if (spec.policy.deny.length > 0) labels[key('deny')] = entries(spec.policy.deny).join(', ');
  if (spec.policy.corsPreflight) labels[key('cors_preflight')] = 'true';
  labels[key('websockets')] = String(spec.websockets);
  labels[key('host')] = spec.hostHeader.mode === 'literal' ? spec.hostHeader.host : spec.hostHeader.mode;
  labels[key('identity')] = spec.identity;
  if (spec.identity !== 'none') notes.push('identity headers: labels send X-Iap-* (and the signed JWT with identity=jwt), not X-Pomerium-*');
  for (const [header, value] of Object.entries(spec.setHeaders)) labels[`${key('header')}.${header}`] = value;
  if ('timeout' in raw) labels[key('timeout')] = `${spec.timeoutMs}ms`;
  if (spec.idleTimeoutMs !== null) labels[key('idle_timeout')] = `${spec.idleTimeoutMs}ms`;
  if (spec.tlsSkipVerify) labels[key('tls_skip_verify')] = 'true';
  if ('load_balancing_policy' in raw) labels[key('lb')] = spec.lb;
  if ('name' in raw) labels[key('name')] = spec.display.name;
  if (spec.display.description !== null) labels[key('description')] = spec.display.description;
  if (spec.display.icon !== null) labels[key('icon')] = spec.display.icon;
  return { service, route: { index, from: labels[key('from')] as string, name, labels, notes } };
}

/** A label route name: lowercase letters, digits and -, from the route's name when it has one. */
function routeName(raw: Record<string, unknown>, index: number, used: Set<string>): string {
  const base = typeof raw.name === 'string' ? raw.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+|-+$/g, '').slice(0, 24) : '';
  let name = base === '' ? `route${index}` : `r-${base}`;
  for (let n = 2; used.has(name); n += 1) name = `${base === '' ? `route${index}` : `r-${base}`}-${n}`;
  used.add(name);
  return name;
}

/** The plan as text: a compose `labels:` snippet per service, then the environment, then what stays. */
export function renderImport(plan: ImportPlan): string {
  if (plan.error !== null) return `# the file could not be read: ${plan.error}\n`;
  const out: string[] = [];
  const quote = (text: string) => JSON.stringify(text);
  for (const container of plan.containers) {
    out.push(`# service ${container.service}: paste under its labels:`);
    out.push('labels:');
    for (const route of container.routes) {
      out.push(`  # routes[${route.index}] ${route.from}`);
      for (const note of route.notes) out.push(`  # note: ${note}`);
      for (const [label, value] of Object.entries(route.labels)) out.push(`  ${label}: ${quote(value)}`);
    }
    out.push('');
  }
  if (plan.env.length > 0 || plan.settingNotes.length > 0) {
    out.push('# Gatehouse environment for the global settings:', 'environment:');
    for (const { name, value, from } of plan.env) out.push(`  ${name}: ${quote(value)}  # ${from}`);
    for (const note of plan.settingNotes) out.push(`  # ${note}`);
    out.push('');
  }
  if (plan.kept.length > 0) {
    out.push(`# ${plan.kept.length} route(s) stay in the routes file (GATEHOUSE_CONFIG):`);
    for (const route of plan.kept) {
      out.push(`#   routes[${route.index}] ${route.from}`);
      for (const reason of route.reasons) out.push(`#     - ${reason}`);
    }
    out.push('');
  }
  if (plan.containers.length === 0 && plan.kept.length === 0) out.push('# the file has no routes');
  return `${out.join('\n')}\n`;
}
