// Pomerium's rule that a policy without an allow rule lets nobody in.
import { closeEmptyPolicy } from './routes-file-ppl.ts';
import { buildRouteSpec, closestKey, type FromValue, isSecretValue, KEYS, parseValue, VALUE_KEYS, type ValueKey } from '../labels/index.ts';
import { FORWARD_AUTH_UPSTREAM, type RouteSpec } from '../routes/index.ts';
import { type IssueSink, readHeaderMap, readTargets, type RouteDraft, valueText } from './routes-file-draft.ts';
import { POMERIUM_KEYS, readPomeriumKey } from './routes-file-pomerium.ts';
import { finishPomeriumRoute } from './pomerium-route-options.ts';

export type { IssueSink } from './routes-file-draft.ts';

/** Keys the key table marks as labels only: in the file, the upstream is spelt out in `to`. */
const CONTAINER_ONLY = new Set<string>(VALUE_KEYS.filter((k) => !KEYS[k].file));
/** Keys both formats share with the same meaning, plus `path`, which they spell alike but read differently. */
const SHARED = new Set(['from', 'to', 'timeout', 'idle_timeout', 'tls_skip_verify', 'name', 'description', 'path']);
const LIST_KEYS = new Set<string>(VALUE_KEYS.filter((k) => KEYS[k].list));
const OUR_KEYS: string[] = [...VALUE_KEYS.filter((k) => !CONTAINER_ONLY.has(k)), 'header'];

/** One file route → one RouteSpec per `to` URL, or none (and issues) when anything is wrong. */
export function translateFileRoute(route: Record<string, unknown>, at: { file: string; index: number }, sink: IssueSink): RouteSpec[] {
  const draft: RouteDraft = { targets: [], settings: {}, headers: new Map(), removeHeaders: [], failed: false };
  const report: IssueSink['report'] = (...args) => {
    draft.failed = true;
    sink.report(...args);
  };
  const keys = Object.keys(route);
  const pomerium = keys.filter((k) => POMERIUM_KEYS.has(k));
  const ours = keys.filter((k) => OUR_KEYS.includes(k) && !SHARED.has(k));
  if (pomerium.length > 0 && ours.length > 0) {
    report(null, 'invalid_value', `mixes Gatehouse keys (${ours.join(', ')}) with Pomerium keys (${pomerium.join(', ')}); write the route in one format`);
    return [];
  }
  for (const key of keys) {
    const value = route[key];
    if (key === 'to') readTargets(value, draft, report);
    else if (pomerium.length > 0 && (POMERIUM_KEYS.has(key) || key === 'path')) readPomeriumKey(key, value, draft, report);
    else readOurKey(key, value, draft, report);
  }
  if (pomerium.length > 0) closeEmptyPolicy(route, draft);
  if (!('from' in route)) report('from', 'missing', 'every route needs from, such as https://app.example.com');
  const forwardAuth = draft.settings.mode === 'forward_auth';
  if (!('to' in route) && !forwardAuth) report('to', 'missing', 'every route in the file needs to, such as http://192.168.1.20:8080 (or mode: forward_auth when an outer proxy routes it)');
  if ('to' in route && forwardAuth) report('to', 'invalid_value', 'a mode: forward_auth route is forwarded by the outer proxy; remove to');
  const pomeriumSettings = draft.pomerium === undefined ? undefined : finishPomeriumRoute(route, draft.pomerium, report);
  if (draft.failed || draft.from === undefined) return [];
  const from = draft.from;
  draft.settings.health = 'off';
  const setHeaders = Object.fromEntries(draft.headers.values());
  const defaultName = `${from.hosts[0]}${draft.settings.path === undefined || draft.settings.path === '/' ? '' : draft.settings.path}`;
  const origins = forwardAuth ? [FORWARD_AUTH_UPSTREAM] : draft.targets;
  return origins.map((origin) => ({
    ...buildRouteSpec({
      source: { kind: 'file', file: at.file, index: at.index },
      routeName: `file:${at.index}`,
      from,
      settings: draft.settings,
      setHeaders,
      removeHeaders: draft.removeHeaders,
      upstream: { origin, containerId: null, ready: true, state: 'running' },
      defaultName,
    }),
    ...(pomeriumSettings === undefined ? {} : { pomerium: pomeriumSettings }),
  }));
}

function readOurKey(key: string, value: unknown, draft: RouteDraft, report: IssueSink['report']): void {
  if (key === 'header') {
    readHeaderMap(key, value, draft, report);
    return;
  }
  if (CONTAINER_ONLY.has(key)) {
    const instead = key === 'enable' ? 'remove the route from the file instead' : 'in the file, write the upstream in full in to';
    report(key, 'invalid_value', `${key} applies to container labels only; ${instead}`);
    return;
  }
  if (!OUR_KEYS.includes(key)) {
    const near = closestKey(key, [...OUR_KEYS, ...POMERIUM_KEYS]);
    report(key, 'unknown_key', near === null ? 'unknown key' : `unknown key; did you mean ${near}?`);
    return;
  }
  const text = valueText(value, LIST_KEYS.has(key));
  if (text === null) {
    report(key, 'invalid_value', LIST_KEYS.has(key) ? 'expected a string or a list of strings' : 'expected a single value');
    return;
  }
  if (isSecretValue(text)) {
    report(key, 'invalid_value', 'secret: references are only allowed in header values');
    return;
  }
  const parsed = parseValue(key as ValueKey, text, { allowLocalTargets: true });
  if (!parsed.ok) report(key, 'invalid_value', parsed.problem, text);
  else if (key === 'from') draft.from = parsed.value as FromValue;
  else (draft.settings as Record<string, unknown>)[key] = parsed.value;
}

