import { GatehouseError } from '../errors.ts';
import type { StateStore } from './expiring-map.ts';
import { connectRedis, type RedisStatus } from './redis-connection.ts';
import { createRedisDocuments, type SharedDocuments } from './redis-documents.ts';
import { openRedisMaps } from './redis-maps.ts';
import { shareFiles } from './shared-files.ts';

/**
 * State shared by several Gatehouse replicas through Redis (GATEHOUSE_REDIS_URL): the
 * expiring maps (revocations, used sign-in links, sign-in failure counters) with a copy in
 * each replica, the built-in provider's documents read straight through, and the secret files.
 */
export interface SharedState extends StateStore {
  readonly documents: SharedDocuments;
  status(): RedisStatus;
  /** False while Redis cannot be reached: new sign-ins are refused, signed-in users keep going. */
  available(): boolean;
  /** Loads every map opened so far from Redis; call once all maps are open, before serving. */
  resync(): Promise<void>;
  /** See shared-files.ts: `names` are paths relative to `dir`. */
  shareFiles(dir: string, names: readonly string[], create: () => Promise<void>): Promise<{ taken: string[] }>;
}

export interface SharedStateOptions {
  url: string;
  /** Key prefix, so several Gatehouse deployments can share one Redis; default `gatehouse:`. */
  prefix?: string;
  now?: () => number;
  connectTimeoutMs?: number;
  onError?: (error: GatehouseError) => void;
  onStatus?: (status: RedisStatus) => void;
}

export async function openSharedState(options: SharedStateOptions): Promise<SharedState> {
  const prefix = options.prefix ?? 'gatehouse:';
  const now = options.now ?? Date.now;
  const connection = await connectRedis({
    url: options.url,
    now,
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.onStatus === undefined ? {} : { onStatus: options.onStatus }),
  });
  try {
    const maps = await openRedisMaps({ connection, prefix, now, ...(options.onError === undefined ? {} : { onError: options.onError }) });
    return {
      map: maps.map,
      documents: createRedisDocuments(connection.commands, prefix, now),
      status: connection.status,
      available: () => connection.status().state === 'ready',
      // A replica starting beside a Redis that goes away between its first connection and this
      // load (a Swarm task rescheduled as Redis stops) must stop with the start's own message,
      // not the client's "Stream isn't writeable".
      resync: () =>
        maps.resync().catch((error: unknown) => {
          if (connection.status().state === 'ready') throw error;
          const status = connection.status();
          throw new GatehouseError('STATE_UNAVAILABLE', `GATEHOUSE_REDIS_URL: Redis went away while the shared state was loading (${status.lastError ?? (error as Error).message}); start it, or unset GATEHOUSE_REDIS_URL for a single instance`, { cause: error });
        }),
      shareFiles: (dir, names, create) => shareFiles(connection.commands, prefix, dir, names, create),
      async close() {
        await maps.close();
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
