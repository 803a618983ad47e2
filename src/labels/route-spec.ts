import type { RouteSource, RouteSpec, UpstreamTarget } from '../routes/index.ts';
import { FIELD_KEYS, keyDef, type KeyFields, type RouteSettings } from './key-table.ts';
import type { FromValue } from './urls.ts';

/** What a translator knows about one route once every value has parsed; defaults are applied here. */
export interface RouteParts {
  source: RouteSource;
  routeName: string;
  from: FromValue;
  settings: Partial<RouteSettings>;
  setHeaders: Record<string, string>;
  removeHeaders: string[];
  upstream: UpstreamTarget;
  /** Used when `name` is not set. */
  defaultName: string;
}

export const DEFAULT_TIMEOUT_MS = keyDef('timeout').default as number;

/** Values are plain data, never changed in place once parsed: a copy of the outer array or object is enough. */
function shallowCopy(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  return value !== null && typeof value === 'object' ? { ...value } : value;
}

/** Each key-filled field: the value set, else the key's default (copied, so specs never share arrays). */
export function keyFields(settings: Partial<RouteSettings>, defaultName: string): KeyFields {
  const fields: Record<string, unknown> = {};
  for (const [name, path] of FIELD_KEYS) {
    const value = settings[name] ?? (name === 'name' ? defaultName : keyDef(name).default);
    const copy = shallowCopy(value);
    if (path.length === 1) fields[path[0] as string] = copy;
    else ((fields[path[0] as string] ??= {}) as Record<string, unknown>)[path[1] as string] = copy;
  }
  return fields as KeyFields;
}

export function buildRouteSpec(parts: RouteParts): RouteSpec {
  return {
    source: parts.source,
    routeName: parts.routeName,
    hosts: [...parts.from.hosts],
    fromScheme: parts.from.scheme,
    upstream: parts.upstream,
    setHeaders: { ...parts.setHeaders },
    removeHeaders: [...parts.removeHeaders],
    ...keyFields(parts.settings, parts.defaultName),
  };
}
