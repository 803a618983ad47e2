import type { Route } from './table.ts';
import type { RouteSource } from './spec.ts';

/**
 * Claims: every host + path the table knows, live or closed. A closed claim (its app is stopped,
 * or its labels or file entry were rejected) keeps its address, so a broader route on the same
 * host never serves the traffic meant for it; only removing the container or file entry ends it.
 */

/** Why a claimed address serves nothing. Live claims carry their route instead. */
export type ClosedState = 'stopped' | 'misconfigured';

/** Who a host belongs to: the unit of its first claim. The routes file outranks every unit. */
export type HostOwner =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'compose'; readonly project: string; readonly engine?: string }
  | { readonly kind: 'stack'; readonly namespace: string; readonly engine?: string }
  | { readonly kind: 'container'; readonly containerId: string; readonly containerName: string };

/** A claim that serves nothing, as the translators and control/ hand it over. */
export interface ClosedClaimSpec {
  readonly source: RouteSource;
  /** The route name, when it could be read; for messages and `gatehouse routes`. */
  readonly routeName: string;
  readonly hosts: readonly string[];
  /** Normalised path prefix; `/` when the path could not be read (the whole host stays closed). */
  readonly path: string;
  /** A rejected Pomerium `prefix`: `path` is held as a string prefix (`/admin` holds `/administrator` too). */
  readonly stringPrefix?: boolean;
  readonly state: ClosedState;
  /** The unit the claim belongs to; for file entries `{ kind: 'file' }`. */
  readonly owner: HostOwner;
}

/** One claimed host + path in the published table. */
export type Claim =
  | { readonly state: 'live'; readonly path: string; readonly route: Route }
  | { readonly state: ClosedState; readonly path: string; readonly route: null; readonly closed: ClosedClaim };

/** A closed claim as published: frozen, with the owner it was checked against. */
export interface ClosedClaim {
  readonly id: string;
  readonly hosts: readonly string[];
  readonly path: string;
  readonly stringPrefix?: boolean;
  readonly state: ClosedState;
  readonly routeName: string;
  readonly source: RouteSource;
  readonly owner: HostOwner;
}

/** The key two claims compare units by: equal keys, same unit. */
export function ownerKey(owner: HostOwner): string {
  switch (owner.kind) {
    case 'file':
      return 'file';
    // With several engines a project or stack is one per engine: the Pi's "media" is not the NAS's.
    case 'compose':
      return `compose:${owner.project}${onEngine(owner.engine)}`;
    case 'stack':
      return `stack:${owner.namespace}${onEngine(owner.engine)}`;
    case 'container':
      return `container:${owner.containerId}`;
  }
}

/** The engine part of an owner key; `@` cannot occur in an engine name or be confused with one. */
const onEngine = (engine: string | undefined) => (engine === undefined ? '' : `@${engine}`);

/** How messages and `gatehouse routes` name an owner. */
export function describeOwner(owner: HostOwner): string {
  switch (owner.kind) {
    case 'file':
      return `the routes file "${owner.file}"`;
    case 'compose':
      return `compose project "${owner.project}"${owner.engine === undefined ? '' : ` on Docker engine "${owner.engine}"`}`;
    case 'stack':
      return `stack "${owner.namespace}"${owner.engine === undefined ? '' : ` on Docker engine "${owner.engine}"`}`;
    case 'container':
      return `container "${owner.containerName}"`;
  }
}

/** Equal in every field (`engine` absent and undefined alike). */
export function sameOwner(a: HostOwner, b: HostOwner): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case 'file':
      return b.kind === 'file' && b.file === a.file;
    case 'compose':
      return b.kind === 'compose' && b.project === a.project && b.engine === a.engine;
    case 'stack':
      return b.kind === 'stack' && b.namespace === a.namespace && b.engine === a.engine;
    case 'container':
      return b.kind === 'container' && b.containerId === a.containerId && b.containerName === a.containerName;
  }
}

/** A container alone, for callers that know no compose project or stack for it. */
export function soleOwner(source: RouteSource): HostOwner {
  return source.kind === 'file'
    ? { kind: 'file', file: source.file }
    : { kind: 'container', containerId: source.containerId, containerName: source.containerName };
}
