import { z } from 'zod';
import { BypassRule, HostHeaderMode, IdentityMode, PolicyEntry } from './values.ts';

/**
 * What every label key means for a route, once: the shape of its value, its default, whether
 * named routes inherit it, whether the routes file accepts it, and the route field it fills.
 * RouteSpec and Route are derived from this table, and the route merger copies the fields it
 * names. How a key's text is parsed is labels/ business: labels/key-table.ts pairs every key
 * here with its parser, and the compiler refuses a key without one. (Traefik gets the same
 * from struct tags.) A new key: one entry here, one parser entry there, one README row.
 */

export interface KeyField<T, F extends string | null = string | null> {
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
  default?: NoInfer<T>;
  inherit?: boolean;
  file?: boolean;
  list?: boolean;
  field: F;
}): KeyField<T, F> {
  return Object.freeze({ schema: def.schema, default: def.default, inherit: def.inherit ?? true, file: def.file ?? true, list: def.list ?? false, field: def.field });
}

export const FromValue = z.object({
  /** Lowercased, without port, aliases deduplicated in the order written. */
  hosts: z.array(z.string()).min(1),
  scheme: z.enum(['http', 'https']),
});
export type FromValue = z.infer<typeof FromValue>;
const positiveMs = z.number().int().positive();
/** Who forwards the route's traffic: Gatehouse itself, or an outer proxy that calls the forward-auth endpoint. */
export const RouteMode = z.enum(['proxy', 'forward_auth']);
export type RouteMode = z.infer<typeof RouteMode>;
/**
 * The upstream of a `forward_auth` route: not a URL (it never parses, so no target check looks it
 * up), because Gatehouse never connects anywhere for such a route; the outer proxy does.
 */
export const FORWARD_AUTH_UPSTREAM = 'forward-auth';

export const KEY_FIELDS = Object.freeze({
  from: key({ schema: FromValue, list: true, field: null }),
  path: key({ schema: z.string(), default: '/', field: 'path' }),
  strip_path: key({ schema: z.boolean(), default: false, field: 'stripPath' }),
  port: key({ schema: z.number().int(), file: false, field: null }),
  scheme: key({ schema: z.enum(['http', 'https']), file: false, field: null }),
  to: key({ schema: z.string(), field: null }),
  network: key({ schema: z.string(), file: false, field: null }),
  allow: key({ schema: z.array(PolicyEntry), list: true, default: [], field: 'policy.allow' }),
  deny: key({ schema: z.array(PolicyEntry), list: true, default: [], field: 'policy.deny' }),
  // Never inherited: a named route under a public container decides its own access.
  public: key({ schema: z.boolean(), default: false, inherit: false, field: 'policy.public' }),
  bypass: key({ schema: z.array(BypassRule), list: true, default: [], field: 'policy.bypass' }),
  cors_preflight: key({ schema: z.boolean(), default: false, field: 'policy.corsPreflight' }),
  identity: key({ schema: IdentityMode, default: 'headers', field: 'identity' }),
  host: key({ schema: HostHeaderMode, default: { mode: 'preserve' }, field: 'hostHeader' }),
  websockets: key({ schema: z.boolean(), default: true, field: 'websockets' }),
  ws_origins: key({ schema: z.array(z.string()), list: true, default: [], field: 'wsOrigins' }),
  timeout: key({ schema: z.number().int().nonnegative(), default: 30_000, field: 'timeoutMs' }),
  idle_timeout: key({ schema: positiveMs.nullable(), default: null, field: 'idleTimeoutMs' }),
  tls_skip_verify: key({ schema: z.boolean(), default: false, field: 'tlsSkipVerify' }),
  health: key({ schema: z.enum(['docker', 'off']), default: 'docker', file: false, field: 'health' }),
  lb: key({ schema: z.enum(['round_robin', 'least_request']), default: 'round_robin', field: 'lb' }),
  // Clients that cannot follow a sign-in redirect: app passwords over HTTP Basic, bearer tokens.
  basic_auth: key({ schema: z.boolean(), default: false, field: 'basicAuth' }),
  bearer: key({ schema: z.boolean(), default: false, field: 'bearer' }),
  // Named routes get `<top name>/<route>` rather than the top-level name itself (see labels/translate.ts).
  name: key({ schema: z.string(), inherit: false, field: 'display.name' }),
  icon: key({ schema: z.string().nullable(), default: null, field: 'display.icon' }),
  description: key({ schema: z.string().nullable(), default: null, field: 'display.description' }),
  enable: key({ schema: z.boolean(), inherit: false, file: false, field: null }),
  // Sign-in requirements and network conditions (see policy/access.ts and auth/requirements.ts).
  providers: key({ schema: z.array(z.string()), list: true, default: [], field: 'access.providers' }),
  mfa: key({ schema: z.boolean(), default: false, field: 'access.mfa' }),
  max_age: key({ schema: positiveMs.nullable(), default: null, field: 'access.maxAgeMs' }),
  networks: key({ schema: z.array(z.string()), list: true, default: [], field: 'access.networks' }),
  // Never inherited, like `public`: letting a network in without sign-in is each route's own choice.
  trusted_networks: key({ schema: z.array(z.string()), list: true, default: [], inherit: false, field: 'access.trustedNetworks' }),
  // forward_auth: an outer proxy (Traefik, Caddy, nginx) routes the host and asks Gatehouse only for the decision.
  mode: key({ schema: RouteMode, default: 'proxy', field: 'mode' }),
  // The portal's section for the app.
  group: key({ schema: z.string().nullable(), default: null, field: 'display.group' }),
  // An OpenID client of Gatehouse's provider for apps (idp/app-provider.ts): per container, on its
  // top-level route only, never from the routes file. No redirect URI, no client.
  'oidc.redirect_uris': key({ schema: z.array(z.string()), list: true, default: [], inherit: false, file: false, field: 'oidc.redirectUris' }),
  'oidc.client_id': key({ schema: z.string().nullable(), default: null, inherit: false, file: false, field: 'oidc.clientId' }),
  /** The name of a label secret (`secret:NAME`); null: generated once and kept in the data dir. */
  // `response_header.<Name>` labels, collected into one map (lowercased name → value); never from the routes file yet.
  response_header: key({ schema: z.record(z.string(), z.string()), default: {}, file: false, field: 'responseHeaders' }),
  // Strict-Transport-Security: max-age=31536000 on the route's https responses (labels/response-headers.ts).
  hsts: key({ schema: z.boolean(), default: false, field: 'hsts' }),
  // Answer every request with a redirect there instead of forwarding (labels/redirect.ts); never inherited.
  redirect: key({ schema: z.string().nullable(), default: null, inherit: false, file: false, field: 'redirect' }),
  'oidc.client_secret': key({ schema: z.string().nullable(), default: null, inherit: false, file: false, field: 'oidc.secret' }),
});

type Table = typeof KEY_FIELDS;
export type ValueKey = keyof Table;
export type ValueOf<K extends ValueKey> = Table[K] extends KeyField<infer T> ? T : never;
export type FieldOf<K extends ValueKey> = Table[K]['field'];

/** Every key's parsed value, by label name. A route's settings are a partial of this. */
export type RouteSettings = { [K in ValueKey]: ValueOf<K> };

type Groups = { [K in ValueKey]: FieldOf<K> extends `${infer G}.${string}` ? G : never }[ValueKey];
type PlainFields = { [K in ValueKey as FieldOf<K> extends `${string}.${string}` | null ? never : FieldOf<K> & string]: ValueOf<K> };
type GroupFields<G extends string> = { [K in ValueKey as FieldOf<K> extends `${G}.${infer F}` ? F : never]: ValueOf<K> };

/** The part of a RouteSpec the keys fill, nested as `policy.allow` says. */
export type KeyFields = PlainFields & { [G in Groups]: GroupFields<G> };

export const VALUE_KEYS = Object.freeze(Object.keys(KEY_FIELDS) as ValueKey[]);

/** Keys that fill a route field, with the field path split: `[['allow', ['policy', 'allow']], …]`, in table order. */
export const FIELD_KEYS: ReadonlyArray<readonly [ValueKey, readonly string[]]> = Object.freeze(
  VALUE_KEYS.flatMap((name) => {
    const field = KEY_FIELDS[name].field;
    return field === null ? [] : [Object.freeze([name, Object.freeze(field.split('.'))] as const)];
  }),
);
