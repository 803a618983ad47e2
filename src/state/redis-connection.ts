import { Redis } from 'ioredis';
import { GatehouseError } from '../errors.ts';
import { checkRedisUrl } from './redis-url.ts';

/**
 * The connections to Redis (or Valkey) behind the shared state: one for commands, one for
 * pub/sub. Commands never queue while Redis is away (they fail at once), so a request that
 * needs Redis answers quickly instead of hanging; the client reconnects on its own, with a
 * capped backoff, and resubscribes. `status()` is what /readyz shows.
 */

export interface RedisStatus {
  readonly state: 'connecting' | 'ready' | 'unreachable';
  /** Milliseconds since the epoch of the last change of state. */
  readonly since: number;
  readonly lastError: string | null;
}

export interface RedisConnection {
  readonly commands: Redis;
  readonly subscriber: Redis;
  status(): RedisStatus;
  /** Called each time a connection is ready again after being away (not the first time), naming which. */
  onReconnect(listener: (which: 'commands' | 'subscriber') => void): void;
  close(): Promise<void>;
}

export interface RedisConnectionOptions {
  url: string;
  /** How long the first connection may take before the start fails; default 10 s. */
  connectTimeoutMs?: number;
  now?: () => number;
  onStatus?: (status: RedisStatus) => void;
}

export async function connectRedis(options: RedisConnectionOptions): Promise<RedisConnection> {
  const parsed = checkRedisUrl(options.url);
  const now = options.now ?? Date.now;
  const where = `${parsed.protocol}//${parsed.host}`;
  const settings = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // Quick at first, then every 2 s: a Redis restart is noticed within seconds.
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2_000),
  };
  const commands = new Redis(options.url, settings);
  const subscriber = new Redis(options.url, settings);
  let status: RedisStatus = { state: 'connecting', since: now(), lastError: null };
  let everReady = false;
  const reconnectListeners: Array<(which: 'commands' | 'subscriber') => void> = [];

  const set = (state: RedisStatus['state'], lastError: string | null) => {
    if (status.state === state && status.lastError === lastError) return;
    status = { state, since: status.state === state ? status.since : now(), lastError };
    options.onStatus?.(status);
  };
  commands.on('ready', () => {
    set('ready', null);
    if (everReady) for (const listener of reconnectListeners) listener('commands');
    everReady = true;
  });
  const lost = (error?: Error) => set(everReady ? 'unreachable' : 'connecting', error?.message ?? status.lastError ?? 'connection closed');
  commands.on('error', lost);
  commands.on('close', () => lost());
  // The subscriber's own errors are seen as the command connection's: both reach the same server.
  subscriber.on('error', () => undefined);
  let subscriberEverReady = false;
  subscriber.on('ready', () => {
    if (subscriberEverReady) for (const listener of reconnectListeners) listener('subscriber');
    subscriberEverReady = true;
  });

  try {
    // Waits for Redis to come up (it may start beside Gatehouse), retrying until the timeout.
    const ready = (client: Redis) => new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const bothReady = Promise.all([ready(commands), ready(subscriber)]);
    commands.connect().catch(() => undefined);
    subscriber.connect().catch(() => undefined);
    await withTimeout(bothReady, options.connectTimeoutMs ?? 10_000);
  } catch (error) {
    commands.disconnect();
    subscriber.disconnect();
    throw new GatehouseError('CONFIG_INVALID', `GATEHOUSE_REDIS_URL: cannot reach Redis at ${where} (${status.lastError ?? (error as Error).message}); start it, or unset GATEHOUSE_REDIS_URL for a single instance`, { cause: error });
  }
  return {
    commands,
    subscriber,
    status: () => status,
    onReconnect: (listener) => void reconnectListeners.push(listener),
    async close() {
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
