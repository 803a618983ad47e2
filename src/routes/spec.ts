import { z } from 'zod';
import { FIELD_KEYS, KEY_FIELDS, type KeyFields } from './key-fields.ts';
import type { ClosedClaimSpec } from './claims.ts';
import { PomeriumRoute } from './pomerium.ts';

/**
 * RouteSpec: one validated route claim, from a container's labels or the static routes file.
 * This is the contract between the translators (labels/, config file) and the route table
 * (routes/). Every value here is already checked and normalised; building the table does not
 * re-validate, it only groups replicas, resolves conflicts and indexes.
 */

export { BypassRule, HostHeaderMode, IdentityMode, PolicyEntry } from './values.ts';

/** Who may use a route: filled by the keys whose field is `policy.*` (see key-fields.ts). */
export type RoutePolicy = KeyFields['policy'];

/** Which sign-in a route accepts and from where (`providers`, `mfa`, `max_age`, `networks`, `trusted_networks`). */
export type RouteAccess = KeyFields['access'];

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
  /** The Docker network the address was chosen on (status page, `gatehouse explain`); absent for `to` and file targets. */
  network: z.string().optional(),
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

/** The fields every spec has whatever its keys say; the rest comes from the key table. */
const StructuralFields = {
  source: RouteSource,
  /** `default` for top-level keys, else the `iap.<route>.` name; file routes use `name` or their index. */
  routeName: z.string(),
  /** Lowercased host names, without port, from `from` (several = aliases). */
  hosts: z.array(z.string()).min(1),
  /** The scheme the user browses with, from `from`. */
  fromScheme: z.enum(['http', 'https']),
  upstream: UpstreamTarget,
  /** `header.<Name>` templates and Pomerium's `set_request_headers`: name → template. */
  setHeaders: z.record(z.string(), z.string()),
  /** Pomerium's `remove_request_headers`, lowercased. */
  removeHeaders: z.array(z.string()),
};

type Structural = { [K in keyof typeof StructuralFields]: z.infer<(typeof StructuralFields)[K]> };

/** One validated route claim: the structural fields plus one field per key (key-fields.ts). */
export type RouteSpec = Structural & KeyFields & {
  /** Only on routes read from a Pomerium file: Pomerium's semantics for them (see pomerium.ts). */
  pomerium?: PomeriumRoute;
};

/** The key fields' schemas, nested as their field paths say (`policy.allow` → policy: { allow }). */
function keyFieldSchemas(): Record<string, z.ZodType> {
  const nested: Record<string, Record<string, z.ZodType>> = {};
  const plain: Record<string, z.ZodType> = {};
  for (const [name, path] of FIELD_KEYS) {
    const schema = KEY_FIELDS[name].schema as z.ZodType;
    if (path.length === 1) plain[path[0] as string] = schema;
    else (nested[path[0] as string] ??= {})[path[1] as string] = schema;
  }
  for (const [group, fields] of Object.entries(nested)) plain[group] = z.object(fields).strict();
  return plain;
}

export const RouteSpec = z.object({ ...StructuralFields, pomerium: PomeriumRoute.optional(), ...keyFieldSchemas() }).strict() as unknown as z.ZodType<RouteSpec>;

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
  code: z.enum(['invalid_value', 'unknown_key', 'missing', 'port', 'network', 'conflict', 'forbidden_target', 'forbidden_host']),
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
