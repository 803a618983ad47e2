import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { closestKey } from '../labels/index.ts';
import type { ClosedClaimSpec, RouteIssue, TranslationResult } from '../routes/index.ts';
import { isPomeriumSetting, mapPomeriumSettings, type SettingNote } from './pomerium-settings.ts';
import { routeDefaultsOf, withRouteDefaults, type PomeriumRouteDefaults } from './pomerium-route-defaults.ts';
import { rejectedFileClaim } from './routes-file-claims.ts';
import { translateFileRoute, type IssueSink } from './routes-file-route.ts';

export type { SettingNote } from './pomerium-settings.ts';

export type RoutesFileResult = { ok: true; result: TranslationResult; settings: readonly SettingNote[] } | { ok: false; error: string };

/** Pomerium settings that live beside `routes:` in its config file; Gatehouse reads its own from GATEHOUSE_* variables. */
const POMERIUM_GLOBALS = /^(?:address|authenticate_service_url|authenticate_internal_service_url|idp_\w+|cookie_\w+|shared_secret\w*|signing_key\w*|certificates?|certificate_\w+|autocert\w*|insecure_server|log_level|proxy_log_level|access_log_fields|authorize_log_fields|databroker_\w+|grpc_\w+|metrics_\w+|tracing_\w+|jwt_claims_headers|pass_identity_headers|default_upstream_timeout|timeout_\w+|http_redirect_addr|forward_auth_url|routes_portal|health_check_addr|services|signout_redirect_url|client_ca\w*|downstream_mtls)$/;

/** The top-level keys that hold routes: Pomerium's older `policy:` and its current `routes:`, read in that order. */
const ROUTE_LISTS = ['policy', 'routes'] as const;

/**
 * The static routes file (GATEHOUSE_CONFIG), in every shape Pomerium reads: a mapping with a
 * `routes:` list and/or Pomerium's older `policy:` list (both are read), or a bare list of
 * routes (Pomerium's policy file, and what its POLICY variable holds). Each route is written
 * either with Gatehouse's label keys or as a Pomerium route, unchanged. Pomerium's global
 * settings beside them come back as notes, not problems.
 *
 * A YAML error or a top level in none of these shapes rejects the whole file (`ok: false`; the
 * caller keeps its last good version). A bad route rejects only itself.
 *
 * A route with several `to` URLs yields one RouteSpec per URL, all with the same source
 * (file + index, counted across the lists of the file) and routeName `file:<index>`: the route
 * table groups specs by source file and index into one route with that upstream set.
 */
export function parseRoutesFile(text: string, fileName: string, inherited: PomeriumRouteDefaults = {}): RoutesFileResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const pos = lines.linePos(offset ?? 0);
    return `${fileName}:${pos.line}:${pos.col}`;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    return { ok: false, error: `${at(firstError.pos[0])}: ${firstError.message.split('\n')[0]}${more}` };
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { ok: false, error: `${fileName}: the file is empty; expected a routes: list` };
  if (!isMap(root) && !isSeq(root)) return { ok: false, error: `${at(root.range?.[0])}: expected a mapping with a routes: list at the top, or a list of routes` };
  const lists: { label: string; node: Node | null }[] = isSeq(root)
    ? [{ label: 'policy', node: root }]
    : ROUTE_LISTS.filter((key) => root.has(key)).map((key) => ({ label: key, node: (root.get(key, true) as Node | null) ?? null }));
  if (lists.length === 0) return { ok: false, error: `${fileName}: expected a routes: list at the top (or Pomerium's policy: list, or a bare list of routes)` };
  for (const { label, node } of lists) {
    if (node !== null && !isSeq(node) && !(isScalar(node) && node.value === null)) return { ok: false, error: `${at(node.range?.[0])}: ${label} must be a list` };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, error: `${fileName}: ${(error as Error).message}` };
  }

  // A setting Gatehouse refuses (client certificates, …) rejects the file, also on a reload: it is never silently dropped.
  const refused = isMap(root) ? refusedSettings(data as Record<string, unknown>, fileName) : null;
  if (refused !== null) return { ok: false, error: refused };
  const result: TranslationResult = { specs: [], issues: [] };
  const settings = isMap(root) ? reportTopLevelKeys(root, fileName, at, result.issues) : [];
  // The file's own global pass_identity_headers / jwt_claims_headers win over those from elsewhere.
  const defaults = { ...inherited, ...(isMap(root) ? ownRouteDefaults(data as Record<string, unknown>) : {}) };
  const closed: ClosedClaimSpec[] = [];
  let index = 0;
  for (const { label, node } of lists) {
    const items = node !== null && isSeq(node) ? node.items : [];
    const values = (isSeq(root) ? data : (data as Record<string, unknown>)[label]) as unknown[] | null;
    (values ?? []).forEach((route: unknown, position: number) => {
      const sink = issueSink(fileName, `${label}[${position}]`, index, items[position], at, result.issues);
      if (route === null || typeof route !== 'object' || Array.isArray(route)) sink.report(null, 'invalid_value', 'expected a mapping with at least from and to');
      else {
        const issuesBefore = result.issues.length;
        const specs = translateFileRoute(withRouteDefaults(route as Record<string, unknown>, defaults), { file: fileName, index }, sink);
        result.specs.push(...specs);
        // A rejected route keeps its address closed, so a broader route never serves its paths.
        const claim = specs.length === 0 && result.issues.length > issuesBefore ? rejectedFileClaim(route as Record<string, unknown>, { file: fileName, index }) : null;
        if (claim !== null) closed.push(claim);
      }
      index += 1;
    });
  }
  if (closed.length > 0) result.closed = closed;
  return { ok: true, result, settings };
}

function ownRouteDefaults(top: Record<string, unknown>): PomeriumRouteDefaults {
  const keys = ['pass_identity_headers', 'jwt_claims_headers'].filter((key) => key in top);
  if (keys.length === 0) return {};
  const mapped = mapPomeriumSettings(new Map(keys.map((key) => [key, { value: top[key], from: key }] as const)), {});
  return routeDefaultsOf({ jwtClaimsHeaders: mapped.jwtClaimsHeaders, passIdentityHeaders: mapped.passIdentityHeaders });
}

function refusedSettings(top: Record<string, unknown>, fileName: string): string | null {
  const settings = new Map(Object.entries(top).filter(([key]) => isPomeriumSetting(key)).map(([key, value]) => [key, { value, from: `${fileName}: ${key}` }] as const));
  if (settings.size === 0) return null;
  // Whether TLS comes from the environment is the startup check's to say.
  const problems = mapPomeriumSettings(settings, {}).problems.filter((p) => !p.includes('Pomerium serves HTTPS on address'));
  return problems.length === 0 ? null : problems.join('; ');
}

function reportTopLevelKeys(root: YAMLMap, fileName: string, at: (offset: number | undefined) => string, issues: RouteIssue[]): SettingNote[] {
  const issue = (label: string | null, offset: number | undefined, message: string) =>
    issues.push({ source: { kind: 'file', file: fileName, index: null }, label, value: null, code: 'unknown_key', message: `${at(offset)}: ${message}` });
  const settings: SettingNote[] = [];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    if ((ROUTE_LISTS as readonly string[]).includes(key)) continue;
    // Pomerium's global settings are mapped (or refused) once at startup: see pomerium-settings.ts.
    if (isPomeriumSetting(key)) continue;
    if (POMERIUM_GLOBALS.test(key)) {
      settings.push({ key, outcome: 'ignored', message: `${at(offset)}: Pomerium setting ${key} ignored: Gatehouse has no equivalent (see README, Coming from Pomerium)` });
    } else if (closestKey(key, ['routes']) === 'routes') issue(key, offset, `unknown top-level key ${key}; did you mean routes?`);
    else issue(key, offset, `unknown top-level key ${key}; only routes: and policy: are read`);
  }
  return settings;
}

/** `where` names the route as the file does (`routes[2]`, `policy[0]`); `index` is its identity across the file. */
function issueSink(fileName: string, where: string, index: number, node: unknown, at: (offset: number | undefined) => string, issues: RouteIssue[]): IssueSink {
  const keyOffset = (key: string | null): number | undefined => {
    if (key !== null && isMap(node)) {
      const top = key.split('.')[0];
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === top);
      if (pair && isScalar(pair.key)) return pair.key.range?.[0];
    }
    return (node as Node | undefined)?.range?.[0];
  };
  return {
    report(key, code, problem, value = null) {
      const subject = key === null ? where : value === null ? `${where}.${key}` : `${where}.${key}="${value}"`;
      issues.push({
        source: { kind: 'file', file: fileName, index },
        label: key,
        value,
        code,
        message: `${at(keyOffset(key))}: ${subject}: ${problem}`,
      });
    },
  };
}
