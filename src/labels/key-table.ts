import {
  KEY_FIELDS,
  VALUE_KEYS,
  type FieldOf,
  type KeyField,
  type RouteSettings,
  type ValueKey,
  type ValueOf,
} from '../routes/index.ts';
import type { Parsed } from './parsed.ts';
import { parsers } from './values.ts';
import { parseFrom, parseOriginList, parseTarget } from './urls.ts';
import { parseBypassList, parsePathPrefix } from './paths.ts';
import { parsePolicyList } from './policy-entries.ts';
import { parseMfa, parseNetworkList, parseProviderList } from './access.ts';
import { parseClientId, parseClientSecretRef, parseRedirectUris } from './oidc-client.ts';
import { parseUnnamedResponseHeader } from './response-headers.ts';
import { parseRedirectTarget } from './redirect.ts';

/**
 * Every label key, once, with its parser: the key's meaning for a route (shape, default,
 * inheritance, routes file, field) is routes/key-fields.ts; this table adds how its text is
 * read. The mapped type makes a key without a parser, or a parser without a key, a compile error.
 */

export interface ParseContext {
  /** The routes file may target loopback and link-local addresses; container labels may not. */
  allowLocalTargets: boolean;
}

type Parser<T> = (raw: string, context: ParseContext) => Parsed<T>;

export interface KeyDef<T, F extends string | null = string | null> extends KeyField<T, F> {
  /** Never echoes a value in its problem: callers show it once, next to the label. */
  readonly parse: Parser<T>;
}

const fixed = <T>(parse: (raw: string) => Parsed<T>): Parser<T> => (raw: string) => parse(raw);

const PARSERS: { readonly [K in ValueKey]: Parser<ValueOf<K>> } = {
  from: fixed(parseFrom),
  path: fixed(parsePathPrefix),
  strip_path: parsers.bool,
  port: parsers.port,
  scheme: parsers.oneOf(['http', 'https']),
  to: (raw, context) => parseTarget(raw, { allowLocal: context.allowLocalTargets }),
  network: parsers.network,
  allow: fixed(parsePolicyList),
  deny: fixed(parsePolicyList),
  public: parsers.bool,
  bypass: fixed(parseBypassList),
  cors_preflight: parsers.bool,
  identity: parsers.oneOf(['headers', 'jwt', 'none']),
  host: parsers.hostHeader,
  websockets: parsers.bool,
  ws_origins: fixed(parseOriginList),
  timeout: parsers.duration,
  idle_timeout: parsers.idleTimeout,
  tls_skip_verify: parsers.bool,
  health: parsers.oneOf(['docker', 'off']),
  lb: parsers.oneOf(['round_robin', 'least_request']),
  basic_auth: parsers.bool,
  bearer: parsers.bool,
  name: parsers.text,
  icon: parsers.text,
  description: parsers.text,
  enable: parsers.bool,
  providers: fixed(parseProviderList),
  mfa: fixed(parseMfa),
  max_age: parsers.idleTimeout,
  networks: fixed(parseNetworkList),
  trusted_networks: fixed(parseNetworkList),
  mode: parsers.oneOf(['proxy', 'forward_auth']),
  group: parsers.text,
  'oidc.redirect_uris': fixed(parseRedirectUris),
  'oidc.client_id': fixed(parseClientId),
  'oidc.client_secret': fixed(parseClientSecretRef),
  response_header: fixed(parseUnnamedResponseHeader),
  hsts: parsers.bool,
  redirect: fixed(parseRedirectTarget),
};

export const KEYS = Object.freeze(
  Object.fromEntries(VALUE_KEYS.map((name) => [name, Object.freeze({ ...KEY_FIELDS[name], parse: PARSERS[name] })])),
) as { readonly [K in ValueKey]: KeyDef<ValueOf<K>, FieldOf<K>> };

export { VALUE_KEYS, FIELD_KEYS, type ValueKey, type RouteSettings, type KeyFields } from '../routes/index.ts';

export function keyDef<K extends ValueKey>(name: K): KeyDef<ValueOf<K>> {
  return KEYS[name] as unknown as KeyDef<ValueOf<K>>;
}

export function parseValue<K extends ValueKey>(name: K, raw: string, context: ParseContext): Parsed<RouteSettings[K]> {
  return keyDef(name).parse(raw, context) as Parsed<RouteSettings[K]>;
}
