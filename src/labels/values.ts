import { z } from 'zod';
import type { HostHeaderMode } from '../routes/index.ts';
import { parseDuration } from '../util/duration.ts';
import { fail, ok, type Parsed } from './parsed.ts';

type ValueParser<T> = (raw: string) => Parsed<T>;

/** A value read by its zod schema alone: the grammar of record, which the fast checks below must agree with. */
export function parseBySchema<T>(schema: z.ZodType<T, string>, raw: string): Parsed<T> {
  const result = schema.safeParse(raw);
  return result.success ? ok(result.data) : fail(result.error.issues[0]?.message ?? 'invalid value');
}

/**
 * The schema reads every value; `fast` answers the common well-formed text first, with the very
 * value the schema gives it (undefined for anything else, which the schema then reads): a zod
 * parse costs several times a plain check, and runs once per label of every container.
 */
function fromZod<T>(schema: z.ZodType<T, string>, fast: (raw: string) => T | undefined): ValueParser<T> {
  return (raw) => {
    const quick = fast(raw);
    return quick !== undefined ? ok(quick) : parseBySchema(schema, raw);
  };
}

function oneOfSchema<const T extends readonly [string, ...string[]]>(values: T): z.ZodType<T[number], string> {
  const names = values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return z.string().trim().toLowerCase().pipe(z.enum(values, { error: `expected ${names}` }));
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T): ValueParser<T[number]> {
  const exact = new Set<string>(values);
  // Written exactly as listed (the values are trimmed and lowercase): what trim, lowercase and the enum would give.
  return fromZod(oneOfSchema(values), (raw) => (exact.has(raw) ? (raw as T[number]) : undefined));
}

const PORT_EXPECTED = 'expected a port number 1–65535';
const PORT_SCHEMA = z
  .string()
  .trim()
  .regex(/^\d{1,5}$/, PORT_EXPECTED)
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, PORT_EXPECTED);
const PLAIN_PORT = /^[1-9]\d{0,4}$/;
// Plain digits without a leading zero or spaces, in range: the number the schema would give.
const port = fromZod(PORT_SCHEMA, (raw) => {
  if (!PLAIN_PORT.test(raw)) return undefined;
  const n = Number(raw);
  return n <= 65535 ? n : undefined;
});

const TEXT_EXPECTED = 'expected a non-empty text of at most 1000 characters on one line';
const ONE_LINE = /^[^\u0000-\u001f\u007f]*$/;
const TEXT_SCHEMA = z.string().trim().min(1, TEXT_EXPECTED).max(1000, TEXT_EXPECTED).regex(ONE_LINE, TEXT_EXPECTED);
const text = fromZod(TEXT_SCHEMA, (raw) => {
  const s = raw.trim();
  return s.length >= 1 && s.length <= 1000 && ONE_LINE.test(s) ? s : undefined;
});

const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NETWORK_SCHEMA = z.string().trim().regex(NETWORK_NAME, 'expected a Docker network name such as proxy');
const network = fromZod(NETWORK_SCHEMA, (raw) => {
  const s = raw.trim();
  return NETWORK_NAME.test(s) ? s : undefined;
});

/** The schemas behind the fast checks, for the tests that hold the two to the same answers. */
export const VALUE_SCHEMAS = Object.freeze({ port: PORT_SCHEMA, text: TEXT_SCHEMA, network: NETWORK_SCHEMA, oneOf: oneOfSchema });

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
// Frozen, keys sorted: the form the route table holds, so it takes the value as it is.
const PRESERVE: HostHeaderMode = Object.freeze({ mode: 'preserve' });
const UPSTREAM: HostHeaderMode = Object.freeze({ mode: 'upstream' });
const hostHeader: ValueParser<HostHeaderMode> = (raw) => {
  const s = raw.trim().toLowerCase();
  if (s === 'preserve' || s === 'upstream') return ok(s === 'preserve' ? PRESERVE : UPSTREAM);
  const m = HOST_PORT.exec(s);
  if (m && (m[1] === undefined || (Number(m[1]) >= 1 && Number(m[1]) <= 65535))) return ok(Object.freeze({ host: s, mode: 'literal' as const }));
  return fail('expected preserve, upstream or a host name such as wiki.internal or wiki.internal:8080');
};

/** The value grammars the key table (key-table.ts) assembles; each names what it expected. */
export const parsers = Object.freeze({ bool, port, text, network, duration, idleTimeout, hostHeader, oneOf });

/** A value that must never appear in an issue or a log line. */
export function isSecretValue(raw: string): boolean {
  // Asked of every label value: an ASCII first character that is neither white space nor s/S settles it.
  const first = raw.charCodeAt(0);
  if (first < 128 && first !== 115 && first !== 83 && first !== 32 && (first < 9 || first > 13)) return false;
  return raw.trimStart().toLowerCase().startsWith('secret:');
}
