/** Image id (`sha256:…`) → the labels baked into that image. */
export type ImageLabels = ReadonlyMap<string, Readonly<Record<string, string>>>;

/**
 * Pure: the items of `GET /images/json` → id → labels. Items without an id are skipped; an image
 * without labels maps to `{}`, so "no labels" and "unknown image" stay different.
 */
export function toImageLabels(items: readonly unknown[]): ImageLabels {
  const map = new Map<string, Readonly<Record<string, string>>>();
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const { Id, Labels } = item as { Id?: unknown; Labels?: unknown };
    if (typeof Id !== 'string' || Id === '') continue;
    const labels: Record<string, string> = {};
    if (Labels !== null && typeof Labels === 'object') {
      for (const [name, value] of Object.entries(Labels as Record<string, unknown>)) if (typeof value === 'string') labels[name] = value;
    }
    map.set(Id, Object.freeze(labels));
  }
  return map;
}
