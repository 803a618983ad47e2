import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import type { HostOwner, RouteIssue, RouteSpec, TranslationResult } from '../routes/index.ts';
import { sameItems } from '../util/same-items.ts';

export type TranslateContainers = (listing: DockerListing) => TranslationResult;

/** Translates listings one after another, each container only when something it is read from changed. */
export interface TranslationMemo {
  translate(listing: DockerListing): TranslationResult;
  /**
   * One container's part of the latest translation: the same object while the container is
   * unchanged, so callers can keep what they derived from it, and a new one when it changed.
   * Undefined for a container that is not in the latest listing, or when the latest listing
   * was translated whole (see lastChange).
   */
  resultOf(containerId: string): ContainerPart | undefined;
  /**
   * Each container's part of the latest translation, in listing order (the objects resultOf
   * gives); null when the latest listing was translated whole, or its translation failed.
   */
  readonly parts: readonly ContainerPart[] | null;
  /**
   * What the latest translate call changed against the one before it: the containers it
   * translated again (new or changed) and the ids of those gone; every other container of the
   * listing has the same snapshot and the same part as before. Null when it translated the
   * whole listing afresh (the first call, Gatehouse's networks changed, or a translator that
   * broke the per-container rule).
   */
  readonly lastChange: ListingChange | null;
  /** Containers remembered now: those of the latest listing. */
  readonly size: number;
}

export interface ListingChange {
  readonly changed: readonly ContainerSnapshot[];
  readonly removed: readonly string[];
}

/** One container's own part of a translation, and the snapshot it was translated from. */
export interface ContainerPart {
  /** The container as it was translated (frozen). */
  readonly snapshot: ContainerSnapshot;
  /** Its route specs: the spec itself when it has exactly one (nearly every container), else a list. */
  readonly specs: RouteSpec | readonly RouteSpec[];
  readonly issues: readonly RouteIssue[];
  /**
   * The claim collector's record of the container's unit while it serves routes or holds closed
   * claims, else null: kept with the part, so a container needs no entry of its own there.
   */
  owner: HostOwner | null;
}

/** Whether the container has at least one route spec. */
export function hasSpecs(part: ContainerPart): boolean {
  const specs = part.specs;
  return !isSpecList(specs) || specs.length !== 0;
}

/** The container's route specs as a list. */
export function specsOf(part: ContainerPart): readonly RouteSpec[] {
  const specs = part.specs;
  return isSpecList(specs) ? specs : [specs];
}

function isSpecList(specs: RouteSpec | readonly RouteSpec[]): specs is readonly RouteSpec[] {
  return Array.isArray(specs);
}

/**
 * A container's part, and the memo's entry for it: one object per container, so a container with
 * one route and no issue costs this object and nothing else. A changed container gets a new one.
 */
class Part implements ContainerPart {
  readonly snapshot: ContainerSnapshot;
  /** The latest translate call whose listing had the container. */
  seen: number;
  specs: RouteSpec | readonly RouteSpec[] = NO_SPECS;
  issues: readonly RouteIssue[] = NO_ISSUES;
  owner: HostOwner | null = null;

  // Fields assigned here, not as parameter properties: Node runs this file with its types
  // stripped, and that leaves no code behind for them.
  constructor(snapshot: ContainerSnapshot, seen: number) {
    this.snapshot = snapshot;
    this.seen = seen;
  }
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
  let entries = new Map<string, Part>();
  let context: string | undefined;
  let call = 0;
  let lastChange: ListingChange | null = null;
  let latestParts: readonly Part[] | null = null;

  const translateAll = (listing: DockerListing): TranslationResult => {
    entries = new Map();
    context = undefined;
    lastChange = null;
    latestParts = null;
    return translateContainers(listing);
  };

  return {
    translate(listing) {
      const now = ++call;
      const listingContext = JSON.stringify(listing.selfNetworks);
      // Entries from before a whole translation, or from another context, are no base for a change list.
      const fromKnown = context !== undefined && listingContext === context;
      lastChange = null;
      latestParts = null;
      if (listingContext !== context) entries = new Map();
      const containers = listing.containers;
      // Each container's part in listing order, so the result is put together without looking
      // each one up again.
      const ordered: Part[] = new Array(containers.length);
      // The parts to translate now (new or changed containers), in listing order.
      let made: Part[];
      let changed: readonly ContainerSnapshot[];
      // Changed containers' new parts: each replaces its entry only once translated, so a
      // translator that throws leaves the memo as it was.
      let replacing: Part[] | null = null;
      if (entries.size === 0) {
        // Nothing remembered (a first listing): every container is new, entered at once with one
        // map write; an id listed twice shows in the map's size.
        for (let i = 0; i < containers.length; i++) {
          const container = containers[i] as ContainerSnapshot;
          const part = new Part(unchangeable(container), now);
          entries.set(container.id, part);
          if (entries.size !== i + 1) return translateAll(listing);
          ordered[i] = part;
        }
        made = ordered;
        changed = containers;
      } else {
        made = [];
        const changedNow: ContainerSnapshot[] = [];
        for (let i = 0; i < containers.length; i++) {
          const container = containers[i] as ContainerSnapshot;
          const kept = entries.get(container.id);
          let part: Part;
          if (kept === undefined) {
            // A new id is entered at once, so the same id again in this listing is noticed.
            part = new Part(unchangeable(container), now);
            entries.set(container.id, part);
          } else {
            // An id listed twice: the listing cannot be taken apart by container.
            if (kept.seen === now) return translateAll(listing);
            kept.seen = now;
            if (sameSnapshot(kept.snapshot, container)) {
              ordered[i] = kept;
              continue;
            }
            part = new Part(unchangeable(container), now);
            (replacing ??= []).push(part);
          }
          made.push(part);
          changedNow.push(container);
          ordered[i] = part;
        }
        changed = changedNow;
      }
      let split: 'in order' | 'by id' | null;
      let translation: TranslationResult;
      try {
        // Called even when nothing changed, so a translator that fails keeps failing visibly.
        const batch = made.length === containers.length ? listing : { containers: changed, selfNetworks: listing.selfNetworks };
        translation = translateContainers(batch);
        split = takeApart(translation, made);
      } catch (error) {
        for (const part of made) if (entries.get(part.snapshot.id) === part) entries.delete(part.snapshot.id);
        throw error;
      }
      if (split === null) return translateAll(listing);
      if (replacing !== null) for (const part of replacing) entries.set(part.snapshot.id, part);
      // Containers that are gone are dropped here: the memo never outgrows the latest listing.
      const removed: string[] = [];
      if (entries.size !== containers.length) {
        for (const [id, part] of entries) {
          if (part.seen === now) continue;
          entries.delete(id);
          removed.push(id);
        }
      }

      let result: TranslationResult;
      if (made.length === containers.length && split === 'in order') {
        // Every container was translated now, and the translation lists them in listing order:
        // it is already the listing's result.
        result = { specs: translation.specs, issues: translation.issues };
      } else {
        result = { specs: [], issues: [] };
        for (const part of ordered) {
          const specs = part.specs;
          if (!isSpecList(specs)) result.specs.push(specs);
          else for (const spec of specs) result.specs.push(spec);
          for (const issue of part.issues) result.issues.push(issue);
        }
      }
      context = listingContext;
      lastChange = fromKnown ? { changed, removed } : null;
      latestParts = ordered;
      return result;
    },
    get lastChange() {
      return lastChange;
    },
    get parts() {
      return latestParts;
    },
    resultOf(containerId) {
      return entries.get(containerId);
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

/** One frozen empty list for the containers with no route, and one for those with no issue (almost all). */
const NO_SPECS: readonly RouteSpec[] = Object.freeze([]);
const NO_ISSUES: readonly RouteIssue[] = Object.freeze([]);

/**
 * Gives each part its own routes and issues out of the translation of their containers; null
 * when an item names none of them. A translator lists each container's routes and issues
 * together and in container order, so they are taken apart by walking both lists beside the
 * parts ('in order'); a translation in another order is taken apart by id ('by id').
 */
function takeApart(translation: TranslationResult, parts: readonly Part[]): 'in order' | 'by id' | null {
  if (walkInOrder(translation.specs, parts, assignSpecs) && walkInOrder(translation.issues, parts, assignIssues)) return 'in order';
  // Whatever the walk gave a part, it gave from items naming that part, which all go to it again now.
  return takeApartById(translation, parts) ? 'by id' : null;
}

const assignSpecs = (part: Part, specs: readonly RouteSpec[], from: number, to: number) => {
  part.specs = to - from === 1 ? (specs[from] as RouteSpec) : specs.slice(from, to);
};
const assignIssues = (part: Part, issues: readonly RouteIssue[], from: number, to: number) => {
  part.issues = issues.slice(from, to);
};

/** A route spec or an issue: what walkInOrder reads of either. */
interface Sourced {
  readonly source: { readonly kind: 'container'; readonly containerId: string } | { readonly kind: 'file' };
}

/**
 * Hands each run of items naming one container to that container's part, the parts being
 * walked once, in order. False when an item names no container at or after the current one
 * (another order, a container listed in two runs, or a source that is no container).
 */
function walkInOrder<T extends Sourced>(
  items: readonly T[],
  parts: readonly Part[],
  assign: (part: Part, items: readonly T[], from: number, to: number) => void,
): boolean {
  let at = 0;
  let from = 0;
  while (from < items.length) {
    const source = (items[from] as T).source;
    if (source.kind !== 'container') return false;
    const id = source.containerId;
    while (at < parts.length && (parts[at] as Part).snapshot.id !== id) at++;
    if (at === parts.length) return false;
    let to = from + 1;
    while (to < items.length) {
      const next = (items[to] as T).source;
      if (next.kind !== 'container' || next.containerId !== id) break;
      to++;
    }
    assign(parts[at] as Part, items, from, to);
    at++;
    from = to;
  }
  return true;
}

/** Takes a translation in any order apart by container id; false when an item names none of the parts. */
function takeApartById(translation: TranslationResult, parts: readonly Part[]): boolean {
  const byId = new Map<string, Part>();
  for (const part of parts) byId.set(part.snapshot.id, part);
  const specs = new Map<Part, RouteSpec[]>();
  for (const spec of translation.specs) {
    const part = spec.source.kind === 'container' ? byId.get(spec.source.containerId) : undefined;
    if (part === undefined) return false;
    const own = specs.get(part);
    if (own === undefined) specs.set(part, [spec]);
    else own.push(spec);
  }
  const issues = new Map<Part, RouteIssue[]>();
  for (const issue of translation.issues) {
    const part = issue.source.kind === 'container' ? byId.get(issue.source.containerId) : undefined;
    if (part === undefined) return false;
    const own = issues.get(part);
    if (own === undefined) issues.set(part, [issue]);
    else own.push(issue);
  }
  for (const [part, own] of specs) part.specs = own.length === 1 ? (own[0] as RouteSpec) : own;
  for (const [part, own] of issues) part.issues = own;
  return true;
}
