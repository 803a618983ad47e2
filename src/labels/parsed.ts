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
  // One pass, no intermediate arrays: the lists of every container's labels go through here.
  const items: string[] = [];
  let start = 0;
  for (;;) {
    const comma = text.indexOf(',', start);
    const item = (comma === -1 ? text.slice(start) : text.slice(start, comma)).trim();
    if (item !== '') items.push(item);
    if (comma === -1) return items;
    start = comma + 1;
  }
}
