import { z } from 'zod';
import { BypassRule, HostHeaderMode, IdentityMode, PolicyEntry } from '../routes/values.ts';
import type { Parsed } from './parsed.ts';
import { parsers } from './values.ts';
import { type FromValue, parseFrom, parseOriginList, parseTarget } from './urls.ts';
import { parseBypassList, parsePathPrefix } from './paths.ts';
import { parsePolicyList } from './policy-entries.ts';

/**
 * Every label key, once: its parser, its default, whether named routes inherit it, whether the
 * routes file accepts it, and the route field it fills. The route types (RouteSettings, the
 * key-filled part of RouteSpec and Route) are derived from this table, and the spec builder,
 * the route merger and the routes file read it, so a new key is one entry here plus, when no
 * existing parser fits, its parser. (Traefik gets the same from struct tags.)
 */

export interface ParseContext {
  /** The routes file may target loopback and link-local addresses; container labels may not. */
  allowLocalTargets: boolean;
}

export interface KeyDef<T, F extends string | null = string | null> {
  /** Never echoes a value in its problem: callers show it once, next to the label. */
  readonly parse: (raw: string, context: ParseContext) => Parsed<T>;
  /** The shape of the field in RouteSpec, also what `RouteSpec.parse` checks. */
  readonly schema: z.ZodType<T>;
  /** Applied when no label (and, for named routes, no inherited label) sets the key; undefined: the translator supplies it. */
  readonly default: T | undefined;
  /** Whether `<prefix>.<route>.<key>` falls back to the top-level `<prefix>.<key>`. */
  readonly inherit: boolean;
  /** Whether the routes file accepts the key under the same name. */
  readonly file: boolean;
  /** A comma list, which the routes file may also write as a YAML list. */
  readonly list: boolean;
  /** The RouteSpec field it fills (`policy.allow` is nested); null for keys that only steer the translator. */
  readonly field: F;
}

function key<T, const F extends string | null>(def: {
  schema: z.ZodType<T>;
  parse: (raw: string, context: ParseContext) => Parsed<NoInfer<T>>;
  default?: NoInfer<T>;
  inherit?: boolean;
  file?: boolean;
  list?: boolean;
  field: F;
}): KeyDef<T, F> {
  const { parse, schema, field } = def;
  return Object.freeze({ parse, schema, default: def.default, inherit: def.inherit ?? true, file: def.file ?? true, list: def.list ?? false, field });
}

const fixed = <T>(parse: (raw: string) => Parsed<T>) => (raw: string) => parse(raw);
const fromSchema = z.object({ hosts: z.array(z.string()).min(1), scheme: z.enum(['http', 'https']) }) satisfies z.ZodType<FromValue>;
const positiveMs = z.number().int().positive();

export const KEYS = Object.freeze({
  from: key({ schema: fromSchema, parse: fixed(parseFrom), list: true, field: null }),
  path: key({ schema: z.string(), parse: fixed(parsePathPrefix), default: '/', field: 'path' }),
  strip_path: key({ schema: z.boolean(), parse: parsers.bool, default: false, field: 'stripPath' }),
  port: key({ schema: z.number().int(), parse: parsers.port, file: false, field: null }),
  scheme: key({ schema: z.enum(['http', 'https']), parse: parsers.oneOf(['http', 'https']), file: false, field: null }),
  to: key({ schema: z.string(), parse: (raw, context) => parseTarget(raw, { allowLocal: context.allowLocalTargets }), field: null }),
  network: key({ schema: z.string(), parse: parsers.network, file: false, field: null }),
  allow: key({ schema: z.array(PolicyEntry), parse: fixed(parsePolicyList), list: true, default: [], field: 'policy.allow' }),
  deny: key({ schema: z.array(PolicyEntry), parse: fixed(parsePolicyList), list: true, default: [], field: 'policy.deny' }),
  // Never inherited: a named route under a public container decides its own access.
  public: key({ schema: z.boolean(), parse: parsers.bool, default: false, inherit: false, field: 'policy.public' }),
  bypass: key({ schema: z.array(BypassRule), parse: fixed(parseBypassList), list: true, default: [], field: 'policy.bypass' }),
  cors_preflight: key({ schema: z.boolean(), parse: parsers.bool, default: false, field: 'policy.corsPreflight' }),
  identity: key({ schema: IdentityMode, parse: parsers.oneOf(['headers', 'jwt', 'none']), default: 'headers', field: 'identity' }),
  host: key({ schema: HostHeaderMode, parse: parsers.hostHeader, default: { mode: 'preserve' }, field: 'hostHeader' }),
  websockets: key({ schema: z.boolean(), parse: parsers.bool, default: true, field: 'websockets' }),
  ws_origins: key({ schema: z.array(z.string()), parse: fixed(parseOriginList), list: true, default: [], field: 'wsOrigins' }),
  timeout: key({ schema: z.number().int().nonnegative(), parse: parsers.duration, default: 30_000, field: 'timeoutMs' }),
  idle_timeout: key({ schema: positiveMs.nullable(), parse: parsers.idleTimeout, default: null, field: 'idleTimeoutMs' }),
  tls_skip_verify: key({ schema: z.boolean(), parse: parsers.bool, default: false, field: 'tlsSkipVerify' }),
  health: key({ schema: z.enum(['docker', 'off']), parse: parsers.oneOf(['docker', 'off']), default: 'docker', file: false, field: 'health' }),
  lb: key({ schema: z.enum(['round_robin', 'least_request']), parse: parsers.oneOf(['round_robin', 'least_request']), default: 'round_robin', field: 'lb' }),
  // Named routes get `<top name>/<route>` rather than the top-level name itself (see translate.ts).
  name: key({ schema: z.string(), parse: parsers.text, inherit: false, field: 'display.name' }),
  icon: key({ schema: z.string().nullable(), parse: parsers.text, default: null, field: 'display.icon' }),
  description: key({ schema: z.string().nullable(), parse: parsers.text, default: null, field: 'display.description' }),
  enable: key({ schema: z.boolean(), parse: parsers.bool, inherit: false, file: false, field: null }),
});

type Table = typeof KEYS;
export type ValueKey = keyof Table;
type ValueOf<K extends ValueKey> = Table[K] extends KeyDef<infer T> ? T : never;
type FieldOf<K extends ValueKey> = Table[K]['field'];

/** Every key's parsed value, by label name. A route's settings are a partial of this. */
export type RouteSettings = { [K in ValueKey]: ValueOf<K> };

type Groups = { [K in ValueKey]: FieldOf<K> extends `${infer G}.${string}` ? G : never }[ValueKey];
type PlainFields = { [K in ValueKey as FieldOf<K> extends `${string}.${string}` | null ? never : FieldOf<K> & string]: ValueOf<K> };
type GroupFields<G extends string> = { [K in ValueKey as FieldOf<K> extends `${G}.${infer F}` ? F : never]: ValueOf<K> };

/** The part of a RouteSpec the keys fill, nested as `policy.allow` says. */
export type KeyFields = PlainFields & { [G in Groups]: GroupFields<G> };

export const VALUE_KEYS = Object.freeze(Object.keys(KEYS) as ValueKey[]);

export function keyDef<K extends ValueKey>(name: K): KeyDef<ValueOf<K>> {
  return KEYS[name] as unknown as KeyDef<ValueOf<K>>;
}

/** Keys that fill a route field, with the field path split: `[['allow', ['policy', 'allow']], …]`, in table order. */
export const FIELD_KEYS: ReadonlyArray<readonly [ValueKey, readonly string[]]> = Object.freeze(
  VALUE_KEYS.flatMap((name) => {
    const field = KEYS[name].field;
    return field === null ? [] : [Object.freeze([name, Object.freeze(field.split('.'))] as const)];
  }),
);

export function parseValue<K extends ValueKey>(name: K, raw: string, context: ParseContext): Parsed<RouteSettings[K]> {
  return keyDef(name).parse(raw, context) as Parsed<RouteSettings[K]>;
}
