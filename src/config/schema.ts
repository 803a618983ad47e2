import { z } from 'zod';
import { parseDuration } from '../util/duration.ts';
import { decodePolicyEnv, POLICY_ENV_HINT } from './routes-file-policy-env.ts';

/**
 * Every setting Gatehouse reads from its environment. Each variable also has a `_FILE`
 * twin (Docker secrets): `GATEHOUSE_SECRET_FILE=/run/secrets/gatehouse` reads the value
 * from that file. Parsed once at startup; the result is frozen.
 */

const listenAddress = z.string().transform((value, ctx) => {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: 'custom', message: 'expected HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080' });
    return z.NEVER;
  }
  return { host: (m[1] ?? m[2]) as string, port };
});
export type ListenAddress = { host: string; port: number };

const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 30s, 5m or 14h' });
    return z.NEVER;
  }
  return ms;
});

/** The message never repeats the value: a Redis URL may carry a password. */
const redisUrl = z.string().transform((value, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(value.trim());
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'expected redis://[:password@]host:6379[/db], or rediss://… for TLS' });
    return z.NEVER;
  }
  return url.href;
});

const policyEnv = z.string().transform((value, ctx) => {
  const decoded = decodePolicyEnv(value);
  if (decoded === null) {
    ctx.addIssue({ code: 'custom', message: POLICY_ENV_HINT });
    return z.NEVER;
  }
  return decoded;
});

const cidrList = z.string().transform((value, ctx) => {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!isCidr(item)) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an IP address or CIDR (e.g. 172.16.0.0/12, 10.0.0.1, fd00::/8)` });
      return z.NEVER;
    }
  }
  return items;
});

const bool = z.string().transform((value, ctx) => {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'expected true or false' });
  return z.NEVER;
});

const labelPrefix = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/, 'expected a lowercase label prefix such as iap or com.example.iap');

const httpUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an absolute URL such as https://auth.example.com' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'expected an http or https URL' });
    return z.NEVER;
  }
  return url.href.replace(/\/$/, '');
});

/** An issuer is compared to the provider's metadata character for character: keep it as written. */
const issuerUrl = z.string().transform((value, ctx) => {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected the issuer URL exactly as the provider publishes it, e.g. https://id.example.com/realms/home' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'expected an http or https URL' });
    return z.NEVER;
  }
  return text;
});

/** Variable name → schema. Defaults are given as the string a user would write. */
export const ENV_SCHEMA = {
  GATEHOUSE_LISTEN: listenAddress.prefault('0.0.0.0:8080'),
  GATEHOUSE_ADMIN_LISTEN: listenAddress.prefault('127.0.0.1:9090'),
  /** Where `gatehouse routes` and `explain` find the running instance; default: from GATEHOUSE_ADMIN_LISTEN. */
  GATEHOUSE_ADMIN_URL: z.url({ protocol: /^https?$/ }).optional(),
  GATEHOUSE_LABEL_PREFIX: labelPrefix.default('iap'),
  GATEHOUSE_DOCKER_NETWORK: z.string().min(1).optional(),
  DOCKER_HOST: z.string().default('unix:///var/run/docker.sock'),
  GATEHOUSE_CONFIG: z.string().min(1).optional(),
  /** Pomerium's variable, read as Pomerium reads it: routes as base64 of YAML or JSON. Holds the decoded text. */
  POLICY: policyEnv.optional(),
  /** Pomerium's current name for the same thing (`ROUTES`, base64); read beside POLICY. */
  ROUTES: policyEnv.optional(),
  GATEHOUSE_TRUSTED_PROXIES: cidrList.prefault(''),
  /** Who may call the forward-auth endpoint; unset: the trusted proxies. */
  GATEHOUSE_FORWARD_AUTH_CLIENTS: cidrList.optional(),
  GATEHOUSE_LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  GATEHOUSE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  GATEHOUSE_ACCESS_LOG: bool.prefault('true'),
  GATEHOUSE_DOCKER_RESYNC: duration.prefault('30s'),
  GATEHOUSE_DOCKER_DEBOUNCE: duration.prefault('100ms'),
  GATEHOUSE_DOCKER_STALL_TIMEOUT: duration.prefault('5m'),
  GATEHOUSE_SHUTDOWN_GRACE: duration.prefault('30s'),
  GATEHOUSE_REQUEST_TIMEOUT: duration.prefault('0'),
  GATEHOUSE_HEADERS_TIMEOUT: duration.prefault('30s'),
  GATEHOUSE_KEEPALIVE_TIMEOUT: duration.prefault('72s'),
  GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT: duration.prefault('10s'),
  // Where label routes may connect (see SECURITY.md, "Upstream targets"): CIDR lists.
  GATEHOUSE_UPSTREAM_ALLOW: cidrList.prefault(''),
  GATEHOUSE_UPSTREAM_DENY: cidrList.prefault(''),
  GATEHOUSE_DATA_DIR: z.string().min(1).default('./data'),
  // Several replicas (see README, "More than one machine"): revocations, used sign-in links, counters, provider sessions and keys in Redis.
  GATEHOUSE_REDIS_URL: redisUrl.optional(),
  // Label trust (see SECURITY.md): where `secret:NAME` header labels read from, and whether image labels count.
  GATEHOUSE_LABEL_SECRETS_DIR: z.string().min(1).default('/run/gatehouse/label-secrets'),
  GATEHOUSE_TRUST_IMAGE_LABELS: bool.prefault('false'),
  // The host of containers without `iap.from`: `<compose service>.<domain>` (labels/default-host.ts).
  GATEHOUSE_DOMAIN: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^(?:https?:\/\/)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\.?$/,
      'expected a domain such as nas.example (apps then get https://<service>.nas.example), or http://nas.localhost for plain http on a test machine',
    )
    .optional(),
  // Identity (see README, "Sign-in").
  GATEHOUSE_AUTH_URL: httpUrl.optional(),
  GATEHOUSE_OIDC_ISSUER: issuerUrl.optional(),
  GATEHOUSE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  GATEHOUSE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  GATEHOUSE_OIDC_SCOPES: z.string().default('openid email profile'),
  GATEHOUSE_GROUPS_CLAIM: z.string().min(1).default('groups'),
  GATEHOUSE_BEARER_AUDIENCES: z.string().optional(),
  GATEHOUSE_SECRET: z.string().min(1).optional(),
  GATEHOUSE_SESSION_TTL: duration.prefault('14h'),
  GATEHOUSE_DEFAULT_ALLOW: z.string().default(''),
  // Built-in identity provider (used when GATEHOUSE_OIDC_ISSUER is not set); default <data dir>/users.yml.
  GATEHOUSE_USERS_FILE: z.string().min(1).optional(),
  // Several sign-in methods (see README, "Several providers"): a YAML list of providers.
  GATEHOUSE_PROVIDERS_FILE: z.string().min(1).optional(),
  // TLS (see README, "TLS"). The HTTPS listener is on when a certificate source is set.
  GATEHOUSE_HTTPS_LISTEN: listenAddress.prefault('0.0.0.0:8443'),
  GATEHOUSE_TLS_DIR: z.string().min(1).optional(),
  GATEHOUSE_TLS_ACME_JSON: z.string().min(1).optional(),
  GATEHOUSE_TLS_DEFAULT_CERT: z.string().min(1).optional(),
  /** How long a certificate whose files are gone stays in use (traefik-certs-dumper empties its folder before rewriting it). */
  GATEHOUSE_TLS_ABSENT_GRACE: duration.prefault('60s'),
  /** Unset: on whenever TLS is on. */
  GATEHOUSE_HTTP_REDIRECT: bool.optional(),
  /** The HTTPS port users see, when a port mapping makes it differ from 443. */
  GATEHOUSE_HTTPS_PUBLIC_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'expected a port number 1–65535')
    .transform(Number)
    .refine((port) => port >= 1 && port <= 65535, 'expected a port number 1–65535')
    .optional(),
} as const;

/** Variables whose values are never logged or echoed in error messages. */
export const SECRET_VARIABLES = new Set<string>(['GATEHOUSE_OIDC_CLIENT_SECRET', 'GATEHOUSE_SECRET', 'GATEHOUSE_REDIS_URL']);

export const EnvConfig = z.object(ENV_SCHEMA);
export type EnvConfig = z.infer<typeof EnvConfig>;

export function isCidr(text: string): boolean {
  const [addr, bits, extra] = text.split('/');
  if (extra !== undefined || addr === undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  const max = v4 ? 32 : 128;
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255)) return false;
  } else if (!/^[0-9a-fA-F:]+$/.test(addr) || !addr.includes(':')) {
    return false;
  }
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}
