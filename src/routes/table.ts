import type { KeyFields } from './key-fields.ts';
import type { RouteIssue, RouteSource, UpstreamTarget } from './spec.ts';
import type { Claim, ClosedClaim, HostOwner } from './claims.ts';
import type { PomeriumRoute } from './pomerium.ts';

/**
 * One live route: a host set + path prefix, its policy and the upstream group behind it.
 * Replicas (same compose project + service, same route name) are merged into one Route
 * with several upstreams. Frozen; never mutated after the table is built. Every field a label
 * key fills comes from the key table (key-fields.ts), under the same name as in RouteSpec.
 */
export type Route = Readonly<KeyFields> & {
  /** Stable across rebuilds while the claim is unchanged: `<group>/<routeName>` (group: `container:<id>`, `compose:<project>/<service>`, `swarm:<id>`) or `file:<file>#<index>`. */
  readonly id: string;
  readonly hosts: readonly string[];
  readonly fromScheme: 'http' | 'https';
  readonly setHeaders: Readonly<Record<string, string>>;
  readonly removeHeaders: readonly string[];
  /** Every member, ready or not (for status output). */
  readonly upstreams: readonly UpstreamTarget[];
  /** Members that may take traffic; empty → 503 "starting / unavailable". */
  readonly ready: readonly UpstreamTarget[];
  /** The containers or file entries that contributed this route. */
  readonly sources: readonly RouteSource[];
  /** Routes read from a Pomerium file only: Pomerium's matching, rewriting, headers and upstream TLS. */
  readonly pomerium?: Readonly<PomeriumRoute>;
};

export interface RouteTable {
  readonly routes: readonly Route[];
  /** Everything that was rejected while building, including conflicts. */
  readonly issues: readonly RouteIssue[];
  /**
   * Equal fingerprints mean equal tables: the table's JSON, made when first read (for a large
   * table it is large). To compare two tables, sameTables is much cheaper.
   */
  readonly fingerprint: string;
  /** host (lowercase, no port) → routes on that host, longest path first. */
  readonly byHost: ReadonlyMap<string, readonly Route[]>;
  /**
   * host → every claim on it, live or closed, longest path first. Matching reads this, so a
   * stopped or misconfigured claim keeps its address instead of falling through to `/`.
   */
  readonly claims: ReadonlyMap<string, readonly Claim[]>;
  /** Claims that serve nothing (stopped, misconfigured), sorted by id. */
  readonly closed: readonly ClosedClaim[];
  /** host → the unit that owns it: no other unit may claim any path under it. */
  readonly owners: ReadonlyMap<string, HostOwner>;
  /** OpenID client id → the route that declared it (`iap.oidc.*`); see oidc-clients.ts. */
  readonly oidcClients: ReadonlyMap<string, Route>;
}
