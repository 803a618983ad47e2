import { MAP_NAME, type ExpiringMap, type MapOptions, type StateStore } from './expiring-map.ts';
import { createMemoryMap } from './memory-map.ts';

/** A state store that lives as long as the process: unit tests, and state that dies with its owner anyway. */
export function openMemoryState(options: { now?: () => number } = {}): StateStore {
  const now = options.now ?? Date.now;
  const maps = new Map<string, ExpiringMap<unknown>>();
  return {
    map<V>(name: string, mapOptions: MapOptions<V>): ExpiringMap<V> {
      if (!MAP_NAME.test(name)) throw new Error(`internal: state map name "${name}" is not plain lowercase`);
      let map = maps.get(name);
      if (map === undefined) {
        map = createMemoryMap<unknown>({ maxEntries: mapOptions.maxEntries, now, onChange: () => undefined, flush: async () => undefined });
        maps.set(name, map);
      }
      return map as ExpiringMap<V>;
    },
    close: async () => undefined,
  };
}
