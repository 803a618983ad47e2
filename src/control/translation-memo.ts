import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';
import type { RouteIssue, RouteSource, TranslationResult } from '../routes/index.ts';
import { sameItems } from '../util/same-items.ts';

export type TranslateContainers = (listing: DockerListing) => TranslationResult;

/** Translates listings one after another, each container only when something it is read from changed. */
export interface TranslationMemo {
  translate(listing: DockerListing): TranslationResult;
  /** Containers remembered now: those of the latest listing. */
  readonly size: number;
}

interface Entry {
  /** The container as it was translated. */
  readonly snapshot: ContainerSnapshot;
  readonly result: TranslationResult;
}

/**
 * Remembers each container's translation beside the snapshot it was made from, and reuses it
 * while the container's next snapshot is equal field by field and the listing's own context
 * (Gatehouse's networks) is unchanged. The translator's options are fixed for the memo's life,
 * so they need no comparing.
 *
 * This relies on what labels/ translateContainers guarantees: each container is translated
 * on its own, and every route and issue names the container it came from. A translator that
 * breaks the second rule is noticed and answered by translating the whole listing every time.
 */
export function createTranslationMemo(translateContainers: TranslateContainers): TranslationMemo {
  let entries = new Map<string, Entry>();
  let context: string | undefined;

  const translateAll = (listing: DockerListing): TranslationResult => {
    entries = new Map();
    context = undefined;
    return translateContainers(listing);
  };

  return {
    translate(listing) {
      const listingContext = JSON.stringify(listing.selfNetworks);
      const previous = listingContext === context ? entries : new Map<string, Entry>();
      const next = new Map<string, Entry | null>();
      const changed: ContainerSnapshot[] = [];
      for (const container of listing.containers) {
        if (next.has(container.id)) return translateAll(listing);
        const kept = previous.get(container.id);
        if (kept !== undefined && sameSnapshot(kept.snapshot, container)) {
          next.set(container.id, kept);
        } else {
          next.set(container.id, null);
          changed.push(container);
        }
      }
      // Called even when nothing changed, so a translator that fails keeps failing visibly.
      const fresh = split(translateContainers({ containers: changed, selfNetworks: listing.selfNetworks }), changed);
      if (fresh === null) return translateAll(listing);

      const result: TranslationResult = { specs: [], issues: [] };
      for (const container of listing.containers) {
        let entry = next.get(container.id) as Entry | null;
        if (entry === null) {
          entry = { snapshot: unchangeable(container), result: fresh.get(container.id) as TranslationResult };
          next.set(container.id, entry);
        }
        for (const spec of entry.result.specs) result.specs.push(spec);
        for (const issue of entry.result.issues) result.issues.push(issue);
      }
      // Containers that are gone are dropped here: the memo never outgrows the latest listing.
      entries = next as Map<string, Entry>;
      context = listingContext;
      return result;
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
    (a.imageLabels === b.imageLabels || (a.imageLabels !== null && b.imageLabels !== null && sameRecord(a.imageLabels, b.imageLabels)))
  );
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

/** The translation of several containers, per container; null when an item names none of them. */
function split(translation: TranslationResult, containers: readonly ContainerSnapshot[]): Map<string, TranslationResult> | null {
  const byId = new Map<string, TranslationResult>(containers.map((container) => [container.id, { specs: [], issues: [] }]));
  const ownerOf = (source: RouteSource | RouteIssue['source']) => (source.kind === 'container' ? byId.get(source.containerId) : undefined);
  for (const spec of translation.specs) {
    const own = ownerOf(spec.source);
    if (own === undefined) return null;
    own.specs.push(spec);
  }
  for (const issue of translation.issues) {
    const own = ownerOf(issue.source);
    if (own === undefined) return null;
    own.issues.push(issue);
  }
  return byId;
}
