import { z } from 'zod';
import type { BypassRule, HostHeaderMode, IdentityMode, PolicyEntry } from '../routes/index.ts';
import { parseDuration } from '../util/duration.ts';
import type { ValueKey } from './keys.ts';
import { fail, ok, type Parsed } from './parsed.ts';
import { parseBypassList, parsePathPrefix } from './paths.ts';
import { parsePolicyList } from './policy-entries.ts';
import { type FromValue, parseFrom, parseTarget } from './urls.ts';

/** Every key's parsed value. A route's settings are a partial of this; defaults apply later. */
export interface RouteSettings {
  from: FromValue;
  path: string;
  strip_path: boolean;
  port: number;
  scheme: 'http' | 'https';
  to: string;
  network: string;
  allow: PolicyEntry[];
  deny: PolicyEntry[];
  public: boolean;
  bypass: BypassRule[];
  cors_preflight: boolean;
  identity: IdentityMode;
  host: HostHeaderMode;
  websockets: boolean;
  timeout: number;
  /** null: no idle timeout (`0`). */
  idle_timeout: number | null;
  tls_skip_verify: boolean;
  health: 'docker' | 'off';
  lb: 'round_robin' | 'least_request';
  name: string;
  icon: string;
  description: string;
  enable: boolean;
}

type ValueParser<T> = (raw: string) => Parsed<T>;

function fromZod<T>(schema: z.ZodType<T, string>): ValueParser<T> {
  return (raw) => {
    const result = schema.safeParse(raw);
    return result.success ? ok(result.data) : fail(result.error.issues[0]?.message ?? 'invalid value');
  };
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T): ValueParser<T[number]> {
  const names = values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return fromZod(z.string().trim().toLowerCase().pipe(z.enum(values, { error: `expected ${names}` })));
}

const PORT_EXPECTED = 'expected a port number 1–65535';
const port = fromZod(
  z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, PORT_EXPECTED)
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, PORT_EXPECTED),
);

const TEXT_EXPECTED = 'expected a non-empty text of at most 1000 characters on one line';
const text = fromZod(z.string().trim().min(1, TEXT_EXPECTED).max(1000, TEXT_EXPECTED).regex(/^[^\u0000-\u001f\u007f]*$/, TEXT_EXPECTED));

const network = fromZod(z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a Docker network name such as proxy'));

const TRUE = new Set(['true', 'yes', '1', 'on']);
const FALSE = new Set(['false', 'no', '0', 'off']);
const bool: ValueParser<boolean> = (raw) => {
  const s = raw.trim().toLowerCase();
  if (TRUE.has(s)) return ok(true);
  if (FALSE.has(s)) return ok(false);
  return fail('expected true or false (yes/no, on/off and 1/0 work too)');
};

const DURATION_EXPECTED = 'expected a duration such as 500ms, 30s, 5m or 1h30m';
const duration: ValueParser<number> = (raw) => {
  const ms = parseDuration(raw);
  return ms === null ? fail(DURATION_EXPECTED) : ok(ms);
};
const idleTimeout: ValueParser<number | null> = (raw) => {
  const ms = parseDuration(raw);
  if (ms === null) return fail(`${DURATION_EXPECTED}, or 0 for none`);
  return ok(ms === 0 ? null : ms);
};

const HOST_PORT = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::(\d{1,5}))?$/;
const hostHeader: ValueParser<HostHeaderMode> = (raw) => {
  const s = raw.trim().toLowerCase();
  if (s === 'preserve' || s === 'upstream') return ok({ mode: s });
  const m = HOST_PORT.exec(s);
  if (m && (m[1] === undefined || (Number(m[1]) >= 1 && Number(m[1]) <= 65535))) return ok({ mode: 'literal', host: s });
  return fail('expected preserve, upstream or a host name such as wiki.internal or wiki.internal:8080');
};

const LABEL_PARSERS: { [K in ValueKey]: ValueParser<RouteSettings[K]> } = {
  from: parseFrom,
  path: parsePathPrefix,
  strip_path: bool,
  port,
  scheme: oneOf(['http', 'https']),
  to: (raw) => parseTarget(raw, { allowLocal: false }),
  network,
  allow: parsePolicyList,
  deny: parsePolicyList,
  public: bool,
  bypass: parseBypassList,
  cors_preflight: bool,
  identity: oneOf(['headers', 'jwt', 'none']),
  host: hostHeader,
  websockets: bool,
  timeout: duration,
  idle_timeout: idleTimeout,
  tls_skip_verify: bool,
  health: oneOf(['docker', 'off']),
  lb: oneOf(['round_robin', 'least_request']),
  name: text,
  icon: text,
  description: text,
  enable: bool,
};

export interface ParseContext {
  /** The routes file may target loopback and link-local addresses; container labels may not. */
  allowLocalTargets: boolean;
}

export function parseValue<K extends ValueKey>(key: K, raw: string, context: ParseContext): Parsed<RouteSettings[K]> {
  if (key === 'to' && context.allowLocalTargets) return parseTarget(raw, { allowLocal: true }) as Parsed<RouteSettings[K]>;
  return LABEL_PARSERS[key](raw);
}

/** A value that must never appear in an issue or a log line. */
export function isSecretValue(raw: string): boolean {
  return raw.trimStart().toLowerCase().startsWith('secret:');
}
