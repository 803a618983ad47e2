import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import { containerClaims, ownerOf, replicaGroup, type ClaimReading } from '../labels/index.ts';
import type { ClaimInputs, ClosedClaimSpec, ClosedState, HostOwner } from '../routes/index.ts';
import type { TranslationResult } from '../routes/index.ts';
import { sameSnapshot } from './translation-memo.ts';

/** Works out, build after build, which containers hold closed claims and which unit each container belongs to. */
export interface ClaimCollector {
  collect(listing: DockerListing, containers: TranslationResult): ClaimInputs;
}

interface Entry {
  readonly snapshot: ContainerSnapshot;
  readonly state: ClosedState;
  readonly claims: readonly ClosedClaimSpec[];
}

/**
 * A container that is not running holds its addresses as `stopped`; a running one whose labels
 * were rejected holds them as `misconfigured`. Either way the table keeps those addresses closed
 * until the container is removed. Claims of an unchanged container are the very objects of the
 * previous build, so the route table builder can tell nothing changed.
 */
export function createClaimCollector(reading: ClaimReading): ClaimCollector {
  let previous = new Map<string, Entry>();
  return {
    collect(listing, containers) {
      const rejected = new Set<string>();
      for (const issue of containers.issues) if (issue.source.kind === 'container') rejected.add(issue.source.containerId);
      const served = new Set<string>();
      for (const spec of containers.specs) if (spec.source.kind === 'container') served.add(spec.source.containerId);

      const next = new Map<string, Entry>();
      const closed: ClosedClaimSpec[] = [];
      const owners = new Map<string, HostOwner>();
      for (const container of listing.containers) {
        const state = closedStateOf(container, rejected, served);
        if (state !== null) {
          const kept = previous.get(container.id);
          const entry =
            kept !== undefined && kept.state === state && sameSnapshot(kept.snapshot, container)
              ? kept
              : { snapshot: container, state, claims: closedClaimsOf(container, state, reading) };
          next.set(container.id, entry);
          closed.push(...entry.claims);
          if (entry.claims.length > 0) owners.set(container.id, ownerOf(container));
        } else if (served.has(container.id)) {
          owners.set(container.id, ownerOf(container));
        }
      }
      previous = next;
      return { closed, owners };
    },
  };
}

function closedStateOf(container: ContainerSnapshot, rejected: ReadonlySet<string>, served: ReadonlySet<string>): ClosedState | null {
  if (container.state !== 'running') return 'stopped';
  if (rejected.has(container.id) && !served.has(container.id)) return 'misconfigured';
  return null;
}

export function closedClaimsOf(container: ContainerSnapshot, state: ClosedState, reading: ClaimReading): ClosedClaimSpec[] {
  const owner = ownerOf(container);
  const source = { kind: 'container' as const, containerId: container.id, containerName: container.name, group: replicaGroup(container), created: container.created };
  return containerClaims(container, reading).map((claim) => Object.freeze({ source, routeName: claim.routeName, hosts: claim.hosts, path: claim.path, state, owner }));
}
