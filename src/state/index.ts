/**
 * What must outlive a request and be shared between requests: used handoff ids, sign-in
 * failure counters. A data directory today; the interface is small enough for Redis later.
 */
export type { ExpiringMap, MapOptions, StateStore } from './expiring-map.ts';
export { openFileState, type FileStateOptions } from './file-store.ts';
export { openMemoryState } from './memory-store.ts';
export { ensurePrivateDir, replaceFile } from '../util/atomic-file.ts';
