import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import { containerClaims, ownerOf, replicaGroup, type ClaimReading } from '../labels/index.ts';
import type { ClaimInputs, ClosedClaimSpec, ClosedState, HostOwner } from '../routes/index.ts';
import type { TranslationResult } from '../routes/index.ts';
import { sameSnapshot } from './translation-memo.ts';

/** Works out, build after build, which containers hold closed claims and which unit each container belongs to. */
export interface ClaimCollector {
  /**
   * `perContainer`, when given, is each container's own part of `containers` (the translation
   * memo's, the same object while the container is unchanged) and the containers whose routes
   * were all withheld afterwards: then a container whose snapshot and part are unchanged costs
   * a comparison, not a new reading. The owners map returned is the collector's own and is
   * updated in place by the next collect.
   */
  collect(listing: DockerListing, containers: TranslationResult, perContainer?: PerContainer): ClaimInputs;
}

export interface PerContainer {
  resultOf(containerId: string): TranslationResult | undefined;
  /** Containers whose routes were withheld after translation (each also has an issue in `containers`). */
  readonly withheld: ReadonlySet<string>;
  /**
   * What changed since the listing of the previous collect (the translation memo's lastChange),
   * and the containers whose withheld flag may differ from then: every other container has the
   * same snapshot, result and flag. Then only those are read again, not the whole listing.
   */
  readonly change?: { readonly changed: readonly ContainerSnapshot[]; readonly removed: readonly string[]; readonly rewithheld: Iterable<string> } | null;
}

interface Entry {
  readonly snapshot: ContainerSnapshot;
  /** What the entry was derived from: the container's own translation, and whether it was withheld. */
  readonly result: TranslationResult | null;
  readonly withheld: boolean;
  readonly state: ClosedState | null;
  readonly claims: readonly ClosedClaimSpec[];
  /** The container's unit when it serves routes or holds claims; null when it needs none. */
  readonly owner: HostOwner | null;
  seen: number;
}

/**
 * A container that is not running holds its addresses as `stopped`; a running one whose labels
 * were rejected holds them as `misconfigured`. Either way the table keeps those addresses closed
 * until the container is removed. Claims of an unchanged container are the very objects of the
 * previous build, so the route table builder can tell nothing changed.
 */
export function createClaimCollector(reading: ClaimReading): ClaimCollector {
  let previous = new Map<string, Entry>();
  const owners = new Map<string, HostOwner>();
  // Containers that hold closed claims now → their claims.
  const held = new Map<string, readonly ClosedClaimSpec[]>();
  let call = 0;
  // Whether the latest collect ran to its end (so the owners entries it changed are all known),
  // and read each container's own part of the translation (so its entries can be kept as they are).
  let completed = false;
  let withParts = false;
  const record = (id: string, entry: Entry, ownersChanged: string[]) => {
    if (entry.owner === null) owners.delete(id);
    else owners.set(id, entry.owner);
    if (entry.claims.length !== 0) held.set(id, entry.claims);
    else if (held.size !== 0) held.delete(id);
    ownersChanged.push(id);
  };
  const forget = (id: string, ownersChanged: string[]) => {
    owners.delete(id);
    held.delete(id);
    ownersChanged.push(id);
  };
  const heldClaims = (): ClosedClaimSpec[] => {
    const closed: ClosedClaimSpec[] = [];
    for (const claims of held.values()) for (const claim of claims) closed.push(claim);
    return closed;
  };
  return {
    collect(listing, containers, perContainer) {
      const now = ++call;
      const tracked = completed;
      const incremental = tracked && withParts && perContainer?.change != null;
      completed = false;
      withParts = perContainer !== undefined;
      const ownersChanged: string[] = [];
      // Read from the whole translation when a container's own part is not known.
      let sets: { served: Set<string>; rejected: Set<string> } | null = null;
      const fromWhole = (container: ContainerSnapshot) => {
        if (sets === null) {
          sets = { served: new Set(), rejected: new Set() };
          for (const issue of containers.issues) if (issue.source.kind === 'container') sets.rejected.add(issue.source.containerId);
          for (const spec of containers.specs) if (spec.source.kind === 'container') sets.served.add(spec.source.containerId);
        }
        return { result: null, withheld: false, served: sets.served.has(container.id), rejected: sets.rejected.has(container.id) };
      };
      const statusOf = (container: ContainerSnapshot) => {
        const result = perContainer?.resultOf(container.id);
        if (perContainer === undefined || result === undefined) return fromWhole(container);
        const withheld = perContainer.withheld.has(container.id);
        return { result, withheld, served: !withheld && result.specs.length > 0, rejected: withheld || result.issues.length > 0 };
      };

      if (incremental) {
        const change = (perContainer as PerContainer).change as NonNullable<PerContainer['change']>;
        for (const id of change.removed) {
          previous.delete(id);
          forget(id, ownersChanged);
        }
        const reread = (container: ContainerSnapshot) => {
          const entry = derive(container, statusOf(container), previous.get(container.id), now, reading);
          previous.set(container.id, entry);
          record(container.id, entry, ownersChanged);
        };
        for (const container of change.changed) reread(container);
        for (const id of change.rewithheld) {
          const kept = previous.get(id);
          if (kept !== undefined && kept.withheld !== (perContainer as PerContainer).withheld.has(id)) reread(kept.snapshot);
        }
        completed = true;
        return { closed: heldClaims(), owners, ownersChanged };
      }

      const next = perContainer === undefined ? new Map<string, Entry>() : previous;
      // Containers of this listing with an entry seen now, each counted once.
      let seenNow = 0;
      for (const container of listing.containers) {
        const kept = previous.get(container.id);
        if (next === previous && kept?.seen !== now) seenNow++;
        let entry: Entry;
        if (kept !== undefined && kept.result !== null && perContainer !== undefined && sameSnapshot(kept.snapshot, container)) {
          const result = perContainer.resultOf(container.id);
          if (result === kept.result && perContainer.withheld.has(container.id) === kept.withheld) {
            kept.seen = now;
            entry = kept;
          } else {
            entry = derive(container, statusOf(container), kept, now, reading);
          }
        } else {
          entry = derive(container, statusOf(container), kept, now, reading);
        }
        if (entry !== kept) {
          next.set(container.id, entry);
          record(container.id, entry, ownersChanged);
        }
      }
      // Containers that are gone: deleting while iterating is safe for a Map. None are when every
      // entry kept is one seen now (the first collect, a listing with nothing removed).
      if (previous.size !== seenNow || next !== previous) {
        for (const id of previous.keys()) {
          if (next.get(id)?.seen === now) continue;
          if (next === previous) previous.delete(id);
          forget(id, ownersChanged);
        }
      }
      previous = next;
      completed = true;
      // The route builder checks only these containers' routes for a changed unit; after a
      // collect that stopped half-way, which entries changed is not known, so it checks them all.
      return tracked ? { closed: heldClaims(), owners, ownersChanged } : { closed: heldClaims(), owners };
    },
  };
}

/** A container's entry; the previous one's claims and unit are kept when its snapshot and state are unchanged. */
function derive(
  container: ContainerSnapshot,
  status: { result: TranslationResult | null; withheld: boolean; served: boolean; rejected: boolean },
  kept: Entry | undefined,
  now: number,
  reading: ClaimReading,
): Entry {
  const state = closedStateOf(container, status.rejected, status.served);
  const same = kept !== undefined && kept.state === state && sameSnapshot(kept.snapshot, container);
  const claims = state === null ? NO_CLAIMS : same ? kept.claims : closedClaimsOf(container, state, reading);
  const needsOwner = state !== null ? claims.length > 0 : status.served;
  const owner = !needsOwner ? null : same && kept.owner !== null ? kept.owner : ownerOf(container);
  return { snapshot: container, result: status.result, withheld: status.withheld, state, claims, owner, seen: now };
}

const NO_CLAIMS: readonly ClosedClaimSpec[] = Object.freeze([]);

function closedStateOf(container: ContainerSnapshot, rejected: boolean, served: boolean): ClosedState | null {
  if (container.state !== 'running') return 'stopped';
  if (rejected && !served) return 'misconfigured';
  return null;
}

export function closedClaimsOf(container: ContainerSnapshot, state: ClosedState, reading: ClaimReading): ClosedClaimSpec[] {
  const owner = ownerOf(container);
  const source = { kind: 'container' as const, containerId: container.id, containerName: container.name, group: replicaGroup(container), created: container.created };
  return containerClaims(container, reading).map((claim) => Object.freeze({ source, routeName: claim.routeName, hosts: claim.hosts, path: claim.path, state, owner }));
}
