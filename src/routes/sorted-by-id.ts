import { compareStrings } from './canonical.ts';

/** Entries of a list kept sorted by id (the table's routes and its published closed claims). */
interface WithId {
  readonly id: string;
}

/** Below this many entries in or out, a binary search and a splice each; above, one filter and one sort and merge. */
const FEW = 32;

/**
 * The sorted list without `out` (those very entries) and with `into`: a few changes in place,
 * many (a build from scratch, a large change) in linear passes rather than a splice each,
 * which made the first build of 10,000 routes quadratic. `into` is sorted in place.
 */
export function applySorted<T extends WithId>(list: T[], out: readonly T[], into: T[]): T[] {
  let kept = list;
  if (out.length <= FEW) for (const entry of out) removeSorted(kept, entry);
  else {
    const gone = new Set(out);
    kept = kept.filter((entry) => !gone.has(entry));
  }
  if (into.length <= FEW) {
    for (const entry of into) insertSorted(kept, entry);
    return kept;
  }
  into.sort((a, b) => compareStrings(a.id, b.id));
  if (kept.length === 0) return into;
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  // Ids are unique within a table; on a tie the newcomer goes first, where insertSorted puts it.
  while (i < kept.length && j < into.length) {
    if (compareStrings((into[j] as T).id, (kept[i] as T).id) <= 0) merged.push(into[j++] as T);
    else merged.push(kept[i++] as T);
  }
  while (i < kept.length) merged.push(kept[i++] as T);
  while (j < into.length) merged.push(into[j++] as T);
  return merged;
}

/** Binary search by id in a list sorted by id: the index of `id`, or where it would go. */
export function indexOfId(list: readonly WithId[], id: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareStrings((list[middle] as WithId).id, id) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function insertSorted<T extends WithId>(list: T[], entry: T): void {
  list.splice(indexOfId(list, entry.id), 0, entry);
}

function removeSorted<T extends WithId>(list: T[], entry: T): void {
  const at = indexOfId(list, entry.id);
  // Ids are unique within a table, but the entry itself is what is removed.
  for (let i = at; i < list.length && list[i]?.id === entry.id; i++) {
    if (list[i] === entry) {
      list.splice(i, 1);
      return;
    }
  }
}
