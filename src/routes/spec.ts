import { z } from 'zod';
import type { ClosedClaimSpec } from './claims.ts';

/**
 * RouteSpec: one validated route claim, from a container's labels or the static routes file.
 * This is the contract between the translators (labels/, config file) and the route table
 * (routes/). Every value here is already checked and normalised; building the table does not
 * re-validate, it only groups replicas, resolves conflicts and indexes.
 */

export const PolicyEntry = z.discriminatedUnion('kind', [
  /** Exact address, compared case-insensitively; exactly one `@`. */
  z.object({ kind: z.literal('email'), email: z.string() }),
  /** `@example.com`: that domain exactly, no subdomains. Stored lowercased without the `@`. */
  z.object({ kind: z.literal('domain'), domain: z.string() }),
  z.object({ kind: z.literal('group'), group: z.string() }),
  /** Claim equals value, or a list claim contains it. */
  z.object({ kind: z.literal('claim'), claim: z.string(), value: z.string() }),
  z.object({ kind: z.literal('user'), sub: z.string() }),
  /** `*`: any signed-in user. */
  z.object({ kind: z.literal('any') }),
]);
export type PolicyEntry = z.infer<typeof PolicyEntry>;

/** An unauthenticated exception: `GET /healthz` or `/share/` (a trailing `/` means a prefix). */
export const BypassRule = z.object({
  /** Upper-case method, or null for any method. */
  method: z.string().nullable(),
  /** Normalised path; ends with `/` for a prefix rule, otherwise exact. */
  path: z.string(),
});
export type BypassRule = z.infer<typeof BypassRule>;

export const RoutePolicy = z.object({
  public: z.boolean(),
  allow: z.array(PolicyEntry),
  deny: z.array(PolicyEntry),
  bypass: z.array(BypassRule),
  corsPreflight: z.boolean(),
});
export type RoutePolicy = z.infer<typeof RoutePolicy>;

export const IdentityMode = z.enum(['headers', 'jwt', 'none']);
export type IdentityMode = z.infer<typeof IdentityMode>;

export const HostHeaderMode = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('preserve') }),
  z.object({ mode: z.literal('upstream') }),
  z.object({ mode: z.literal('literal'), host: z.string() }),
]);
export type HostHeaderMode = z.infer<typeof HostHeaderMode>;

/** One upstream address a route may forward to. */
export const UpstreamTarget = z.object({
  /** Origin only: `http://172.18.0.3:8080`. */
  origin: z.string(),
  /** Container behind this target, when it is one. */
  containerId: z.string().nullable(),
  /** False for members whose Docker health is `starting` or `unhealthy` (with `health=docker`). */
  ready: z.boolean(),
  /** Why it is not ready, for the 503 page and `gatehouse routes`: 'starting', 'unhealthy', … */
  state: z.string(),
});
export type UpstreamTarget = z.infer<typeof UpstreamTarget>;

export const RouteSource = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('container'),
    containerId: z.string(),
    containerName: z.string(),
    /** Replica group: compose project + service, else the container id. Same group + same route = one upstream set. */
    group: z.string(),
    /** Seconds since the epoch; the older claim wins a conflict. */
    created: z.number(),
  }),
  z.object({
    kind: z.literal('file'),
    file: z.string(),
    /** Position of the route in the file's `routes:` list (0-based). */
    index: z.number().int(),
  }),
]);
export type RouteSource = z.infer<typeof RouteSource>;

export const RouteSpec = z.object({
  source: RouteSource,
  /** `default` for top-level keys, else the `iap.<route>.` name; file routes use `name` or their index. */
  routeName: z.string(),
  /** Lowercased host names, without port, from `from` (several = aliases). */
  hosts: z.array(z.string()).min(1),
  /** The scheme the user browses with, from `from`. */
  fromScheme: z.enum(['http', 'https']),
  /** Normalised path prefix, starts with `/`; `/` matches everything on the host. */
  path: z.string(),
  stripPath: z.boolean(),
  upstream: UpstreamTarget,
  policy: RoutePolicy,
  identity: IdentityMode,
  /** `header.<Name>` templates and Pomerium's `set_request_headers`: name → template. */
  setHeaders: z.record(z.string(), z.string()),
  /** Pomerium's `remove_request_headers`, lowercased. */
  removeHeaders: z.array(z.string()),
  hostHeader: HostHeaderMode,
  websockets: z.boolean(),
  timeoutMs: z.number().int().nonnegative(),
  /** null: no idle timeout. */
  idleTimeoutMs: z.number().int().positive().nullable(),
  tlsSkipVerify: z.boolean(),
  health: z.enum(['docker', 'off']),
  lb: z.enum(['round_robin', 'least_request']),
  display: z.object({
    name: z.string(),
    icon: z.string().nullable(),
    description: z.string().nullable(),
  }),
});
export type RouteSpec = z.infer<typeof RouteSpec>;

/** A problem that kept a container (or file route) from being published, with what to fix. */
export const RouteIssue = z.object({
  /** `container` issues name the container; `file` issues name the file and route index. */
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('container'), containerId: z.string(), containerName: z.string() }),
    z.object({ kind: z.literal('file'), file: z.string(), index: z.number().int().nullable() }),
  ]),
  /** The full label (`iap.admin.port`) or file key at fault, when there is one. */
  label: z.string().nullable(),
  /** The offending value, when showing it helps (never for `secret:` or header values). */
  value: z.string().nullable(),
  code: z.enum(['invalid_value', 'unknown_key', 'missing', 'port', 'network', 'conflict', 'forbidden_target']),
  message: z.string(),
});
export type RouteIssue = z.infer<typeof RouteIssue>;

/** The result of translating a set of containers (or the file): routes plus rejections, never a throw. */
export interface TranslationResult {
  specs: RouteSpec[];
  issues: RouteIssue[];
  /** Addresses of rejected entries that stay closed (misconfigured); see routes/claims.ts. */
  closed?: readonly ClosedClaimSpec[];
}
