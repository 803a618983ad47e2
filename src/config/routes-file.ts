import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { closestKey } from '../labels/index.ts';
import type { ClosedClaimSpec } from '../routes/index.ts';
import type { RouteIssue, TranslationResult } from '../routes/spec.ts';
import { rejectedFileClaim } from './routes-file-claims.ts';
import { translateFileRoute, type IssueSink } from './routes-file-route.ts';

export type RoutesFileResult = { ok: true; result: TranslationResult } | { ok: false; error: string };

/** Pomerium settings that live beside `routes:` in its config file; Gatehouse reads its own from GATEHOUSE_* variables. */
const POMERIUM_GLOBALS = /^(?:address|authenticate_service_url|authenticate_internal_service_url|idp_\w+|cookie_\w+|shared_secret\w*|signing_key\w*|certificates?|certificate_\w+|autocert\w*|insecure_server|log_level|proxy_log_level|access_log_fields|authorize_log_fields|databroker_\w+|grpc_\w+|metrics_\w+|tracing_\w+|jwt_claims_headers|pass_identity_headers|default_upstream_timeout|timeout_\w+|http_redirect_addr|forward_auth_url|routes_portal|health_check_addr|services|signout_redirect_url|client_ca\w*|downstream_mtls)$/;

/**
 * The static routes file (GATEHOUSE_CONFIG): YAML with a top-level `routes:` list. Each route is
 * written either with Gatehouse's label keys or as a Pomerium route, unchanged.
 *
 * A YAML error or a top level that is not `{ routes: [...] }` rejects the whole file
 * (`ok: false`; the caller keeps its last good version). A bad route rejects only itself.
 *
 * A route with several `to` URLs yields one RouteSpec per URL, all with the same source
 * (file + index) and routeName `file:<index>`: the route table groups specs by source file and
 * index into one route with that upstream set.
 */
export function parseRoutesFile(text: string, fileName: string): RoutesFileResult {
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
  if (isSeq(root)) {
    return { ok: false, error: `${at(root.range?.[0])}: expected a mapping with a routes: list at the top (a bare list is Pomerium's old policy-file format: indent it under routes:)` };
  }
  if (!isMap(root)) return { ok: false, error: `${at(root.range?.[0])}: expected a mapping with a routes: list at the top` };
  const routesNode = root.get('routes', true) as Node | undefined;
  if (routesNode === undefined) {
    const legacy = root.has('policy') ? ' (Pomerium\'s old policy: key holds the same list: rename it to routes:)' : '';
    return { ok: false, error: `${fileName}: expected a routes: list at the top${legacy}` };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, error: `${fileName}: ${(error as Error).message}` };
  }
  const routes = (data as Record<string, unknown>).routes;
  if (routes !== null && !Array.isArray(routes)) return { ok: false, error: `${at(routesNode.range?.[0])}: routes must be a list` };

  const result: TranslationResult = { specs: [], issues: [] };
  const closed: ClosedClaimSpec[] = [];
  reportTopLevelKeys(root, fileName, at, result.issues);
  const items = isSeq(routesNode) ? routesNode.items : [];
  (routes ?? []).forEach((route: unknown, index: number) => {
    const node = items[index];
    const sink = issueSink(fileName, index, node, at, result.issues);
    if (route === null || typeof route !== 'object' || Array.isArray(route)) {
      sink.report(null, 'invalid_value', 'expected a mapping with at least from and to');
      return;
    }
    const issuesBefore = result.issues.length;
    const specs = translateFileRoute(route as Record<string, unknown>, { file: fileName, index }, sink);
    result.specs.push(...specs);
    // A rejected route keeps its address closed, so a broader route never serves its paths.
    const claim = specs.length === 0 && result.issues.length > issuesBefore ? rejectedFileClaim(route as Record<string, unknown>, { file: fileName, index }) : null;
    if (claim !== null) closed.push(claim);
  });
  if (closed.length > 0) result.closed = closed;
  return { ok: true, result };
}

function reportTopLevelKeys(root: YAMLMap, fileName: string, at: (offset: number | undefined) => string, issues: RouteIssue[]): void {
  const issue = (label: string | null, offset: number | undefined, message: string) =>
    issues.push({ source: { kind: 'file', file: fileName, index: null }, label, value: null, code: 'unknown_key', message: `${at(offset)}: ${message}` });
  const pomerium: { key: string; offset: number | undefined }[] = [];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    if (key === 'routes') continue;
    if (POMERIUM_GLOBALS.test(key)) pomerium.push({ key, offset });
    else if (closestKey(key, ['routes']) === 'routes') issue(key, offset, `unknown top-level key ${key}; did you mean routes?`);
    else issue(key, offset, `unknown top-level key ${key}; only routes: is read`);
  }
  if (pomerium.length > 0) {
    const names = pomerium.map((p) => p.key).join(', ');
    issue(null, pomerium[0]?.offset, `Pomerium settings are ignored (${names}); Gatehouse takes its global settings from GATEHOUSE_* environment variables`);
  }
}

function issueSink(fileName: string, index: number, node: unknown, at: (offset: number | undefined) => string, issues: RouteIssue[]): IssueSink {
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
      const subject = key === null ? `routes[${index}]` : value === null ? `routes[${index}].${key}` : `routes[${index}].${key}="${value}"`;
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
