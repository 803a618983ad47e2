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
  let call = 0;
  // Whether the latest collect ran to its end, so the owners entries it changed are all known.
  let completed = false;
  return {
    collect(listing, containers, perContainer) {
      const now = ++call;
      const tracked = completed;
      completed = false;
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

      const next = perContainer === undefined ? new Map<string, Entry>() : previous;
      const closed: ClosedClaimSpec[] = [];
      for (const container of listing.containers) {
        const kept = previous.get(container.id);
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
          if (entry.owner === null) owners.delete(container.id);
          else owners.set(container.id, entry.owner);
          ownersChanged.push(container.id);
        }
        if (entry.claims.length > 0) closed.push(...entry.claims);
      }
      // Containers that are gone: deleting while iterating is safe for a Map.
      for (const id of previous.keys()) {
        if (next.get(id)?.seen === now) continue;
        if (next === previous) previous.delete(id);
        owners.delete(id);
        ownersChanged.push(id);
      }
      previous = next;
      completed = true;
      // The route builder checks only these containers' routes for a changed unit; after a
      // collect that stopped half-way, which entries changed is not known, so it checks them all.
      return tracked ? { closed, owners, ownersChanged } : { closed, owners };
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
