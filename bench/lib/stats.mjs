/** Small summaries of measured samples. Every function ignores null and NaN entries. */

function clean(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

/** Nearest-rank quantile, q in [0, 1]; null for no samples. */
export function quantile(values, q) {
  const sorted = clean(values);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(values) {
  const sorted = clean(values);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function min(values) {
  const sorted = clean(values);
  return sorted.length === 0 ? null : sorted[0];
}

export function max(values) {
  const sorted = clean(values);
  return sorted.length === 0 ? null : sorted[sorted.length - 1];
}

/** { n, p50, p95, max } of a list of durations. */
export function distribution(values) {
  const sorted = clean(values);
  return { n: sorted.length, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: max(sorted) };
}

export function ratio(a, b) {
  return a === null || b === null || b === 0 ? null : a / b;
}
