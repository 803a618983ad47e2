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
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
