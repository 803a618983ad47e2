/**
 * Sorts strings in place by UTF-16 code unit, as `Array.prototype.sort()` with no comparator
 * orders them. The built-in sort sets up close to a kilobyte of work space per call; a list of a
 * handful of names (a container's labels under the prefix, a record's keys) is insertion sorted
 * with none. Longer lists go to the built-in sort.
 */
export function sortByCodeUnit(list: string[]): void {
  if (list.length > 16) {
    list.sort();
    return;
  }
  for (let i = 1; i < list.length; i++) {
    const item = list[i] as string;
    let j = i - 1;
    while (j >= 0 && (list[j] as string) > item) {
      list[j + 1] = list[j] as string;
      j--;
    }
    list[j + 1] = item;
  }
}
