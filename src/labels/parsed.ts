/** The outcome of parsing one user-written value: the value, or what was expected instead. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string; forbidden?: true };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

/** Comma-separated items, trimmed, empty ones dropped. */
export function splitList(text: string): string[] {
  const items: string[] = [];
  for (let start = 0; start <= text.length; ) {
    const end = listItemEnd(text, start);
    const item = trimmedSlice(text, start, end);
    start = end + 1;
    if (item !== '') items.push(item);
  }
  return items;
}

/**
 * Where the list item from `start` ends: at the next comma, else at the end of the text. For
 * walking a list without an array of its items (`trimmedSlice(text, start, end)`, then from
 * `end + 1`), as the parsers every container's labels go through do.
 */
export function listItemEnd(text: string, start: number): number {
  const comma = text.indexOf(',', start);
  return comma === -1 ? text.length : comma;
}

/** `text.slice(start, end).trim()`, without the untrimmed copy when the ends are ASCII. */
export function trimmedSlice(text: string, start: number, end: number): string {
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end--;
  // Other white space (no-break space, line separators…) is trim's to judge.
  if (start < end && (text.charCodeAt(start) >= 128 || text.charCodeAt(end - 1) >= 128)) return text.slice(start, end).trim();
  return text.slice(start, end);
}

/** Tab, line feed, vertical tab, form feed, carriage return and space: the ASCII white space `trim` removes. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
