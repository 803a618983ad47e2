/**
 * What must outlive a request and be shared between requests: used handoff ids, sign-in
 * failure counters, revocations, the built-in provider's documents. A data directory by
 * default; Redis when several replicas share it (shared-state.ts).
 */
import type { SharedState, SharedStateOptions } from './shared-state.ts';

export type { ExpiringMap, MapOptions, StateStore } from './expiring-map.ts';
export { openFileState, type FileStateOptions } from './file-store.ts';
export { openMemoryState } from './memory-store.ts';
export { ensurePrivateDir, replaceFile } from '../util/atomic-file.ts';
export type { SharedState, SharedStateOptions } from './shared-state.ts';
export type { RedisStatus } from './redis-connection.ts';
export type { DocumentWrite, SharedDocuments } from './redis-documents.ts';

/** The Redis client is loaded only when GATEHOUSE_REDIS_URL is set. */
export async function openSharedState(options: SharedStateOptions): Promise<SharedState> {
  const { openSharedState: open } = await import('./shared-state.ts');
  return open(options);
}
