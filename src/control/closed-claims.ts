import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import { containerClaims, createUnitReader, ownerOf, replicaGroup, type ClaimReading, type UnitReader } from '../labels/index.ts';
import type { ClaimInputs, ClosedClaimSpec, ClosedState, HostOwner } from '../routes/index.ts';
import type { TranslationResult } from '../routes/index.ts';
import { hasSpecs, sameSnapshot, type ContainerPart } from './translation-memo.ts';
import { ListedMap } from '../util/listed-map.ts';

/** Works out, build after build, which containers hold closed claims and which unit each container belongs to. */
export interface ClaimCollector {
  /**
   * `perContainer`, when given, is each container's own part of `containers` (the translation
   * memo's) and the containers whose routes were all withheld afterwards; with a change list it
   * makes a collect cost the changed containers only, and each container's unit is written on
   * its part. The owners map returned is the collector's own (with parts, a view of them) and
   * is updated in place by the next collect.
   */
  collect(listing: DockerListing, containers: TranslationResult, perContainer?: PerContainer): ClaimInputs;
  /** Compose projects and stacks remembered now (for tests and diagnostics): never much more than twice the listing. */
  readonly rememberedUnits: number;
}

export interface PerContainer {
  /** Each container's own part of `containers`, in listing order (the memo's parts); null when not known. */
  readonly parts: readonly ContainerPart[] | null;
  /** One container's own part (the memo's resultOf), for the containers `change` names. */
  partOf(containerId: string): ContainerPart | undefined;
  /** Containers whose routes were withheld after translation (each also has an issue in `containers`). */
  readonly withheld: ReadonlySet<string>;
  /**
   * What changed since the listing of the previous collect (the translation memo's lastChange),
   * and the containers whose withheld flag may differ from then: every other container has the
   * same snapshot, part and flag. Then only those are read again, not the whole listing. Given
   * only when the previous collect saw every translation made since it.
   */
  readonly change?: { readonly changed: readonly ContainerSnapshot[]; readonly removed: readonly string[]; readonly rewithheld: Iterable<string> } | null;
}

/**
 * What the collector keeps of a container that holds closed claims or whose routes were
 * withheld. Every other container (running, its routes served or none asked for: nearly all)
 * keeps nothing here: its unit is written on its part of the memo, which is what it was derived
 * from and is replaced when the container changes.
 */
interface Entry {
  readonly snapshot: ContainerSnapshot;
  readonly withheld: boolean;
  readonly state: ClosedState;
  readonly claims: readonly ClosedClaimSpec[];
  /** The container's unit when it holds claims. */
  readonly owner: HostOwner | null;
}

/**
 * A container that is not running holds its addresses as `stopped`; a running one whose labels
 * were rejected holds them as `misconfigured`. Either way the table keeps those addresses closed
 * until the container is removed. Claims of an unchanged container are the very objects of the
 * previous build, so the route table builder can tell nothing changed.
 */
export function createClaimCollector(reading: ClaimReading): ClaimCollector {
  // Containers that hold claims or were withheld → what was derived for them.
  let entries = new Map<string, Entry>();
  // Container → unit, when the memo's parts are not known (no parts given, or the listing was
  // translated whole); otherwise each part carries its unit and `onParts` reads them.
  const ownersMap = new Map<string, HostOwner>();
  let onParts: PartOwners | null = null;
  // One owner object per compose project or stack, shared by all its containers.
  const units = createUnitReader();
  // Whether the latest collect ran to its end (so the owners entries it changed are all known),
  // and wrote the units on the memo's parts (so a change list can be followed from there).
  let completed = false;
  let unitsOnParts = false;

  /**
   * Derives a container's state, claims and unit from what its translation says (`withheld`:
   * its routes were withheld; `served`: it has routes; `rejected`: it has an issue), and records
   * them. `part` is the container's part of the memo, which then holds its unit; `kept`, what
   * was derived for it before, if it held claims or was withheld; `fresh`, that no entry of this
   * id exists (a full collect, ids listed once), so nothing needs deleting.
   */
  const read = (container: ContainerSnapshot, part: ContainerPart | null, withheld: boolean, served: boolean, rejected: boolean, kept: Entry | undefined, fresh: boolean): void => {
    const id = container.id;
    const state = closedStateOf(container, rejected, served);
    let owner: HostOwner | null = null;
    if (state === null) {
      if (!fresh) entries.delete(id);
      if (served) owner = units.ownerOf(container);
    } else {
      const same = kept !== undefined && kept.state === state && sameSnapshot(kept.snapshot, container);
      const claims = same ? kept.claims : closedClaimsOf(container, state, reading, units);
      if (claims.length !== 0) owner = same && kept.owner !== null ? kept.owner : units.ownerOf(container);
      if (claims.length !== 0 || withheld) entries.set(id, { snapshot: container, withheld, state, claims, owner });
      else if (!fresh) entries.delete(id);
    }
    if (part !== null) part.owner = owner;
    else if (owner !== null) ownersMap.set(id, owner);
    else if (!fresh) ownersMap.delete(id);
  };

  const heldClaims = (): ClosedClaimSpec[] => {
    const closed: ClosedClaimSpec[] = [];
    for (const entry of entries.values()) for (const claim of entry.claims) closed.push(claim);
    return closed;
  };

  /** Units no container names any more are dropped now and then, so they never outgrow the listing. */
  const pruneUnits = (containers: number) => {
    if (units.size > 2 * containers + 64) units.clear();
  };

  /**
   * Only the containers the change list names are read again; the rest keep what they have. The
   * units of containers that are gone went with their parts.
   */
  const collectChange = (owners: PartOwners, perContainer: PerContainer, change: NonNullable<PerContainer['change']>): ClaimInputs => {
    const ownersChanged: string[] = [];
    const { withheld } = perContainer;
    for (const id of change.removed) {
      entries.delete(id);
      ownersChanged.push(id);
    }
    const reread = (container: ContainerSnapshot, part: ContainerPart) => {
      const kept = entries.size === 0 ? undefined : entries.get(container.id);
      const isWithheld = withheld.size !== 0 && withheld.has(container.id);
      read(container, part, isWithheld, !isWithheld && hasSpecs(part), isWithheld || part.issues.length !== 0, kept, false);
      ownersChanged.push(container.id);
    };
    for (const container of change.changed) reread(container, perContainer.partOf(container.id) as ContainerPart);
    for (const id of change.rewithheld) {
      const part = perContainer.partOf(id);
      if (part === undefined) continue;
      const was = entries.get(id)?.withheld ?? false;
      if (was !== withheld.has(id)) reread(part.snapshot, part);
    }
    owners.parts = perContainer.parts as readonly ContainerPart[];
    return { closed: heldClaims(), owners, ownersChanged };
  };

  /**
   * Every container is read again and every unit written anew: the route builder is then told
   * nothing of which entries changed, so it checks every route's unit. The claims of a
   * container whose snapshot and state are unchanged are still the previous ones.
   */
  const collectAll = (listing: DockerListing, containers: TranslationResult, perContainer: PerContainer | undefined): ClaimInputs => {
    const previous = entries;
    entries = new Map();
    ownersMap.clear();
    const list = listing.containers;
    // The memo's parts, in listing order. Without them the statuses come from the whole
    // translation, and the listing may name an id twice: the last one counts, as it does when
    // the owners map is filled from scratch, so entries of an earlier one are deleted.
    const parts = perContainer?.parts != null && perContainer.parts.length === list.length ? perContainer.parts : null;
    const withheld = perContainer?.withheld ?? NONE;
    if (parts !== null) {
      // Every part of the listing gets its unit (or null), so no unit is left from before.
      const checkWithheld = withheld.size !== 0;
      for (let i = 0; i < list.length; i++) {
        const container = list[i] as ContainerSnapshot;
        const part = parts[i] as ContainerPart;
        const kept = previous.size === 0 ? undefined : previous.get(container.id);
        const isWithheld = checkWithheld && withheld.has(container.id);
        read(container, part, isWithheld, !isWithheld && hasSpecs(part), isWithheld || part.issues.length !== 0, kept, true);
      }
      onParts ??= new PartOwners();
      onParts.partOf = (perContainer as PerContainer).partOf;
      onParts.parts = parts;
      unitsOnParts = true;
      return { closed: heldClaims(), owners: onParts };
    }
    const whole = new WholeTranslation(containers);
    for (const container of list) {
      const kept = previous.size === 0 ? undefined : previous.get(container.id);
      read(container, null, false, whole.serves(container.id), whole.rejects(container.id), kept, false);
    }
    return { closed: heldClaims(), owners: ownersMap };
  };

  return {
    collect(listing, containers, perContainer) {
      const change = perContainer?.change;
      // The change list can be followed only from a collect that kept the units on the parts,
      // and only when every changed container has its part.
      const incremental =
        completed &&
        unitsOnParts &&
        change != null &&
        perContainer?.parts != null &&
        change.changed.every((container) => perContainer.partOf(container.id) !== undefined);
      completed = false;
      unitsOnParts = false;
      const inputs = incremental ? collectChange(onParts as PartOwners, perContainer as PerContainer, change) : collectAll(listing, containers, perContainer);
      if (incremental) unitsOnParts = true;
      pruneUnits(listing.containers.length);
      completed = true;
      return inputs;
    },
    get rememberedUnits() {
      return units.size;
    },
  };
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Container → unit (ClaimInputs.owners), read from the memo's parts: the collector keeps no map
 * of its own for them. The same object from one collect to the next, updated in place as the
 * contract asks; read during the build it was returned for.
 */
class PartOwners extends ListedMap<string, HostOwner> {
  /** The latest listing's parts, in order (for the rare whole reads: size, iteration). */
  parts: readonly ContainerPart[] = [];
  partOf: (containerId: string) => ContainerPart | undefined = () => undefined;
  get(containerId: string): HostOwner | undefined {
    return this.partOf(containerId)?.owner ?? undefined;
  }
  get size(): number {
    let size = 0;
    for (const part of this.parts) if (part.owner !== null) size++;
    return size;
  }
  protected list(): [string, HostOwner][] {
    const list: [string, HostOwner][] = [];
    for (const part of this.parts) if (part.owner !== null) list.push([part.snapshot.id, part.owner]);
    return list;
  }
}

/** Which containers a whole translation serves and rejects, read once, when a container's own part is not known. */
class WholeTranslation {
  private readonly served = new Set<string>();
  private readonly rejected = new Set<string>();
  constructor(translation: TranslationResult) {
    for (const issue of translation.issues) if (issue.source.kind === 'container') this.rejected.add(issue.source.containerId);
    for (const spec of translation.specs) if (spec.source.kind === 'container') this.served.add(spec.source.containerId);
  }
  serves(containerId: string): boolean {
    return this.served.has(containerId);
  }
  rejects(containerId: string): boolean {
    return this.rejected.has(containerId);
  }
}

const NO_CLAIMS: readonly ClosedClaimSpec[] = Object.freeze([]);

function closedStateOf(container: ContainerSnapshot, rejected: boolean, served: boolean): ClosedState | null {
  if (container.state !== 'running') return 'stopped';
  if (rejected && !served) return 'misconfigured';
  return null;
}

export function closedClaimsOf(container: ContainerSnapshot, state: ClosedState, reading: ClaimReading, units?: UnitReader): readonly ClosedClaimSpec[] {
  const claimed = containerClaims(container, reading);
  if (claimed.length === 0) return NO_CLAIMS;
  const owner = units === undefined ? ownerOf(container) : units.ownerOf(container);
  const source = { kind: 'container' as const, containerId: container.id, containerName: container.name, group: replicaGroup(container), created: container.created };
  return claimed.map((claim) => Object.freeze({ source, routeName: claim.routeName, hosts: claim.hosts, path: claim.path, state, owner }));
}
