import type { RouteSource, RouteSpec, UpstreamTarget } from '../routes/index.ts';
import { sharedCanonical } from '../routes/index.ts';
import { FIELD_KEYS, keyDef, type KeyFields, type RouteSettings, type ValueKey } from './key-table.ts';
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

/** How to fill one field: the key, where it goes, and its default, frozen once and shared. */
interface FieldPlan {
  readonly name: ValueKey;
  readonly top: string;
  /** The nested name (`allow` of `policy.allow`); null for a plain field. */
  readonly inner: string | null;
  readonly fallback: unknown;
}

const PLAN: readonly FieldPlan[] = FIELD_KEYS.map(([name, path]) => ({
  name,
  top: path[0] as string,
  inner: path.length === 1 ? null : (path[1] as string),
  // A default that is a list or record is frozen and shared by every spec that leaves the key
  // unset (most keys, on most routes); the table builder takes it as it is rather than copying it.
  fallback: sharedCanonical(keyDef(name).default),
}));

/**
 * The key fields in key-table order with every field present, and each group's fields the same:
 * copies of these (`{ ...shape }`) share one hidden class, where adding fields one by one to
 * `{}` made a slower object per spec. A group's fields are in sorted order, the order the route
 * table's canonical copy gives them, so the table builder finds them in order and sorts nothing.
 */
const FIELDS_SHAPE: Readonly<Record<string, undefined>> = Object.freeze(Object.fromEntries(PLAN.map((plan) => [plan.top, undefined])));
const GROUP_SHAPES: ReadonlyArray<readonly [string, Readonly<Record<string, undefined>>]> = Object.freeze(
  [...new Set(PLAN.filter((plan) => plan.inner !== null).map((plan) => plan.top))].map(
    (group) =>
      [
        group,
        Object.freeze(
          Object.fromEntries(
            PLAN.filter((plan) => plan.top === group)
              .map((plan) => plan.inner as string)
              .sort()
              .map((inner) => [inner, undefined]),
          ),
        ),
      ] as const,
  ),
);

/**
 * Each key-filled field: the value set (copied, so specs never share a list they were given),
 * else the key's default (one frozen value shared by every spec).
 */
export function keyFields(settings: Partial<RouteSettings>, defaultName: string): KeyFields {
  const fields: Record<string, unknown> = { ...FIELDS_SHAPE };
  for (const [group, shape] of GROUP_SHAPES) fields[group] = { ...shape };
  for (const plan of PLAN) {
    const set = settings[plan.name];
    const value = set ?? (plan.name === 'name' ? defaultName : plan.fallback);
    const copy = set === undefined || set === null ? value : shallowCopy(value);
    if (plan.inner === null) fields[plan.top] = copy;
    else (fields[plan.top] as Record<string, unknown>)[plan.inner] = copy;
  }
  return fields as KeyFields;
}

/** A spec's fields in the order it lists them: the structural ones, then the key fields. */
const SPEC_SHAPE: Readonly<Record<string, undefined>> = Object.freeze({
  source: undefined,
  routeName: undefined,
  hosts: undefined,
  fromScheme: undefined,
  upstream: undefined,
  setHeaders: undefined,
  removeHeaders: undefined,
  ...FIELDS_SHAPE,
});

export function buildRouteSpec(parts: RouteParts): RouteSpec {
  const spec: Record<string, unknown> = { ...SPEC_SHAPE };
  spec.source = parts.source;
  spec.routeName = parts.routeName;
  spec.hosts = [...parts.from.hosts];
  spec.fromScheme = parts.from.scheme;
  spec.upstream = parts.upstream;
  spec.setHeaders = { ...parts.setHeaders };
  spec.removeHeaders = [...parts.removeHeaders];
  const fields = keyFields(parts.settings, parts.defaultName) as unknown as Record<string, unknown>;
  for (const plan of PLAN) spec[plan.top] = fields[plan.top];
  return spec as unknown as RouteSpec;
}
