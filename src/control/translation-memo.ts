import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import type { RouteIssue, RouteSource, TranslationResult } from '../routes/index.ts';
import { sameItems } from '../util/same-items.ts';

export type TranslateContainers = (listing: DockerListing) => TranslationResult;

/** Translates listings one after another, each container only when something it is read from changed. */
export interface TranslationMemo {
  translate(listing: DockerListing): TranslationResult;
  /**
   * One container's part of the latest translation: the same object while the container is
   * unchanged, so callers can keep what they derived from it. Undefined for a container that is
   * not in the latest listing.
   */
  resultOf(containerId: string): TranslationResult | undefined;
  /**
   * What the latest translate call changed against the one before it: the containers it
   * translated again (new or changed) and the ids of those gone; every other container of the
   * listing has the same snapshot and the same result object as before. Null when it
   * translated the whole listing afresh (the first call, Gatehouse's networks changed, or a
   * translator that broke the per-container rule).
   */
  readonly lastChange: ListingChange | null;
  /** Containers remembered now: those of the latest listing. */
  readonly size: number;
}

export interface ListingChange {
  readonly changed: readonly ContainerSnapshot[];
  readonly removed: readonly string[];
}

interface Entry {
  /** The container as it was translated. */
  readonly snapshot: ContainerSnapshot;
  /** Set once, when the call that made the entry has translated the container. */
  result: TranslationResult;
  /** The latest translate call whose listing had the container. */
  seen: number;
}

/**
 * Remembers each container's translation beside the snapshot it was made from, and reuses it
 * while the container's next snapshot is equal field by field and the listing's own context
 * (Gatehouse's networks) is unchanged. The translator's options are fixed for the memo's life,
 * so they need no comparing. The remembered entries are kept from one listing to the next and
 * only the changed ones are written, so a listing of 10,000 containers with one changed costs
 * a comparison per container, not a new map of 10,000.
 *
 * This relies on what labels/ translateContainers guarantees: each container is translated
 * on its own, and every route and issue names the container it came from. A translator that
 * breaks the second rule is noticed and answered by translating the whole listing every time.
 */
export function createTranslationMemo(translateContainers: TranslateContainers): TranslationMemo {
  let entries = new Map<string, Entry>();
  let context: string | undefined;
  let call = 0;
  let lastChange: ListingChange | null = null;

  const translateAll = (listing: DockerListing): TranslationResult => {
    entries = new Map();
    context = undefined;
    lastChange = null;
    return translateContainers(listing);
  };

  return {
    translate(listing) {
      const now = ++call;
      const listingContext = JSON.stringify(listing.selfNetworks);
      // Entries from before a whole translation, or from another context, are no base for a change list.
      const fromKnown = context !== undefined && listingContext === context;
      lastChange = null;
      if (listingContext !== context) entries = new Map();
      const changed: ContainerSnapshot[] = [];
      // The new entry of each changed container, its result filled in once translated. A new id
      // is entered at once, so the same id again in this listing is noticed; a changed one
      // replaces its entry only then, so a translator that throws leaves the memo as it was.
      const made: Entry[] = [];
      // Each container's entry in listing order, so the result is put together without looking
      // each one up again.
      const ordered: Entry[] = new Array(listing.containers.length);
      let at = 0;
      for (const container of listing.containers) {
        const kept = entries.get(container.id);
        // An id listed twice: the listing cannot be taken apart by container.
        if (kept?.seen === now) return translateAll(listing);
        if (kept !== undefined && sameSnapshot(kept.snapshot, container)) {
          kept.seen = now;
          ordered[at++] = kept;
          continue;
        }
        const entry: Entry = { snapshot: unchangeable(container), result: PENDING, seen: now };
        if (kept === undefined) entries.set(container.id, entry);
        else kept.seen = now;
        made.push(entry);
        changed.push(container);
        ordered[at++] = entry;
      }
      let fresh: TranslationResult[] | null;
      try {
        // Called even when nothing changed, so a translator that fails keeps failing visibly.
        fresh = split(translateContainers({ containers: changed, selfNetworks: listing.selfNetworks }), changed);
      } catch (error) {
        for (const entry of made) if (entries.get(entry.snapshot.id) === entry) entries.delete(entry.snapshot.id);
        throw error;
      }
      if (fresh === null) return translateAll(listing);
      for (let i = 0; i < made.length; i++) {
        const entry = made[i] as Entry;
        entry.result = fresh[i] as TranslationResult;
        entries.set(entry.snapshot.id, entry);
      }
      // Containers that are gone are dropped here: the memo never outgrows the latest listing.
      const removed: string[] = [];
      if (entries.size !== listing.containers.length) {
        for (const [id, entry] of entries) {
          if (entry.seen === now) continue;
          entries.delete(id);
          removed.push(id);
        }
      }

      const result: TranslationResult = { specs: [], issues: [] };
      for (const entry of ordered) {
        const own = entry.result;
        for (const spec of own.specs) result.specs.push(spec);
        for (const issue of own.issues) result.issues.push(issue);
      }
      context = listingContext;
      lastChange = fromKnown ? { changed, removed } : null;
      return result;
    },
    get lastChange() {
      return lastChange;
    },
    resultOf(containerId) {
      return entries.get(containerId)?.result;
    },
    get size() {
      return entries.size;
    },
  };
}

/**
 * Equal in every field translation could read. Spelt out, since comparing in place costs far
 * less than serialising each snapshot; a test checks it still covers every field.
 */
export function sameSnapshot(a: ContainerSnapshot, b: ContainerSnapshot): boolean {
  if (a === b) return true;
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.state === b.state &&
    a.health === b.health &&
    Object.is(a.created, b.created) &&
    a.networkMode === b.networkMode &&
    sameItems(a.exposedPorts, b.exposedPorts) &&
    sameRecord(a.networks, b.networks) &&
    sameRecord(a.labels, b.labels) &&
    (a.imageLabels === b.imageLabels || (a.imageLabels !== null && b.imageLabels !== null && sameRecord(a.imageLabels, b.imageLabels))) &&
    sameEngine(a, b)
  );
}

/** Same engine and network ids, and for a remote engine the same address, shared networks and published ports (GATEHOUSE_DOCKER_HOSTS). */
function sameEngine(a: ContainerSnapshot, b: ContainerSnapshot): boolean {
  if (a.engine !== b.engine) return false;
  if (a.networkIds !== b.networkIds && (a.networkIds === undefined || b.networkIds === undefined || !sameRecord(a.networkIds, b.networkIds))) return false;
  if (a.remote === b.remote) return true;
  if (a.remote === undefined || b.remote === undefined) return false;
  if (a.remote.address !== b.remote.address || !sameItems(a.remote.shared ?? [], b.remote.shared ?? [])) return false;
  const names = Object.keys(a.remote.ports);
  if (!sameItems(names, Object.keys(b.remote.ports))) return false;
  for (const name of names) if (a.remote.ports[name] !== b.remote.ports[name]) return false;
  return true;
}

/** The snapshot itself when nothing in it can change (the Docker watcher's are frozen), else a frozen copy. */
function unchangeable(container: ContainerSnapshot): ContainerSnapshot {
  const { labels, imageLabels, networks, exposedPorts } = container;
  const imageLabelsFrozen = imageLabels === null || Object.isFrozen(imageLabels);
  if (Object.isFrozen(container) && Object.isFrozen(labels) && imageLabelsFrozen && Object.isFrozen(networks) && Object.isFrozen(exposedPorts)) return container;
  return Object.freeze({
    ...container,
    labels: Object.freeze({ ...labels }),
    imageLabels: imageLabels === null ? null : Object.freeze({ ...imageLabels }),
    networks: Object.freeze({ ...networks }),
    exposedPorts: Object.freeze([...exposedPorts]) as number[],
  });
}

/** Same entries in the same order: a reordered record counts as a change, never the reverse. */
function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const names = Object.keys(a);
  if (!sameItems(names, Object.keys(b))) return false;
  for (const name of names) if (a[name] !== b[name]) return false;
  return true;
}

/** The result of an entry whose container is being translated. */
const PENDING: TranslationResult = Object.freeze({ specs: [], issues: [] }) as unknown as TranslationResult;

/** One frozen empty list for the containers with no issue (almost all). */
const NO_ISSUES = Object.freeze([]) as unknown as RouteIssue[];

/**
 * The translation of several containers, per container in their order; null when an item names
 * none of them. A translator lists each container's routes and
 * issues in container order, so they are taken apart by walking both lists together; a
 * translation in another order is taken apart by id.
 */
function split(translation: TranslationResult, containers: readonly ContainerSnapshot[]): TranslationResult[] | null {
  const parts: TranslationResult[] = new Array(containers.length);
  for (let i = 0; i < containers.length; i++) parts[i] = { specs: [], issues: NO_ISSUES };
  let byId: Map<string, number> | null = null;
  // The part of the container with this id: the one at `from` or later, else found by id.
  const find = (containerId: string, from: number): number => {
    for (let i = from; i < containers.length; i++) if ((containers[i] as ContainerSnapshot).id === containerId) return i;
    if (byId === null) {
      byId = new Map();
      for (let i = containers.length - 1; i >= 0; i--) byId.set((containers[i] as ContainerSnapshot).id, i);
    }
    return byId.get(containerId) ?? -1;
  };
  let at = 0;
  for (const spec of translation.specs) {
    const source = spec.source;
    if (source.kind !== 'container') return null;
    if (at >= containers.length || (containers[at] as ContainerSnapshot).id !== source.containerId) at = find(source.containerId, at);
    if (at === -1) return null;
    (parts[at] as TranslationResult).specs.push(spec);
  }
  at = 0;
  for (const issue of translation.issues) {
    const source = issue.source;
    if (source.kind !== 'container') return null;
    if (at >= containers.length || (containers[at] as ContainerSnapshot).id !== source.containerId) at = find(source.containerId, at);
    if (at === -1) return null;
    const part = parts[at] as TranslationResult;
    if (part.issues === NO_ISSUES) part.issues = [];
    part.issues.push(issue);
  }
  return parts;
}
