import { createDockerWatcher, type DiscoveryStatus, type DockerListing, type DockerWatcher, type DockerWatcherOptions } from '../docker/index.ts';
import type { Logger } from '../observability/index.ts';
import { createEngineListings } from './engine-listings.ts';

/** One engine to watch, as config/ reads it from GATEHOUSE_DOCKER_HOSTS (or DOCKER_HOST alone). */
export interface EngineToWatch {
  readonly name: string;
  readonly dockerHost: string;
  readonly tls: { readonly DOCKER_TLS_VERIFY?: string; readonly DOCKER_CERT_PATH?: string };
  /** null: the engine Gatehouse runs beside; else the address its published ports are reached on. */
  readonly address: string | null;
}

export type EngineWatchSettings = Omit<DockerWatcherOptions, 'dockerHost' | 'tls' | 'engine' | 'logger' | 'onListing'>;

/** Every engine's watcher, each with its own connection, backoff, event stream and last listing. */
export interface EngineWatchers {
  start(): void;
  stop(): Promise<void>;
  /** All engines in one: `up` when every engine is; errors name their engine. */
  status(): DiscoveryStatus;
  /** Each engine's own status, in the configured order. */
  engines(): readonly { name: string; status: DiscoveryStatus; listed: boolean }[];
  /** True once every engine has been listed at least once (readiness; see README "Several Docker hosts"). */
  allListed(): boolean;
  /** Called with the engine's name on every status change of any engine. */
  onStatus(listener: (engine: string, status: DiscoveryStatus) => void): () => void;
}

export interface EngineWatchersOptions {
  engines: readonly EngineToWatch[];
  /** False: one engine, watched exactly as before GATEHOUSE_DOCKER_HOSTS (snapshots carry no engine). */
  several: boolean;
  logger: Logger;
  onListing: (listing: DockerListing) => void;
  settings?: EngineWatchSettings;
}

export function createEngineWatchers(options: EngineWatchersOptions): EngineWatchers {
  const { engines, several, logger } = options;
  if (engines.length === 0) throw new TypeError('no Docker engine to watch');
  const listings = createEngineListings(engines.map((engine) => ({ name: engine.name, local: engine.address === null })));
  const watchers = new Map<string, DockerWatcher>();
  const listed = new Set<string>();
  const listeners = new Set<(engine: string, status: DiscoveryStatus) => void>();
  for (const engine of engines) {
    const watcher = createDockerWatcher({
      ...options.settings,
      dockerHost: engine.dockerHost,
      ...(several ? { tls: engine.tls, engine: { name: engine.name, address: engine.address } } : {}),
      logger,
      onListing: (listing) => {
        listed.add(engine.name);
        options.onListing(several ? listings.set(engine.name, listing) : listing);
      },
    });
    watcher.onStatus((status) => {
      for (const listener of listeners) listener(engine.name, status);
    });
    watchers.set(engine.name, watcher);
  }
  const each = () => engines.map((engine) => ({ name: engine.name, status: (watchers.get(engine.name) as DockerWatcher).status(), listed: listed.has(engine.name) }));
  return {
    start() {
      for (const watcher of watchers.values()) watcher.start();
    },
    async stop() {
      await Promise.allSettled([...watchers.values()].map((watcher) => watcher.stop()));
    },
    status: () => combined(each(), several),
    engines: each,
    allListed: () => engines.every((engine) => listed.has(engine.name)),
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The engines' statuses as one: the worst state, since when that state holds, and the errors of
 * the engines that are not up, each prefixed with its engine's name when there are several.
 */
export function combined(engines: readonly { name: string; status: DiscoveryStatus }[], several: boolean): DiscoveryStatus {
  const first = engines[0] as { name: string; status: DiscoveryStatus };
  if (!several || engines.length === 1) return first.status;
  const rank = { up: 0, connecting: 1, degraded: 2 } as const;
  const worst = engines.reduce((a, b) => (rank[b.status.state] > rank[a.status.state] ? b : a)).status.state;
  const down = engines.filter((engine) => engine.status.state !== 'up');
  const errors = engines.filter((engine) => engine.status.lastError !== null).map((engine) => `engine "${engine.name}": ${engine.status.lastError}`);
  const lastLists = engines.map((engine) => engine.status.lastListAt);
  return Object.freeze({
    state: worst,
    since: worst === 'up' ? Math.max(...engines.map((engine) => engine.status.since)) : Math.min(...down.map((engine) => engine.status.since)),
    lastListAt: lastLists.some((at) => at === null) ? null : Math.min(...(lastLists as number[])),
    lastError: errors.length === 0 ? null : errors.join('; '),
    engineVersion: engines.map((engine) => `${engine.name} ${engine.status.engineVersion ?? 'unknown'}`).join(', '),
    reconnects: engines.reduce((sum, engine) => sum + engine.status.reconnects, 0),
  });
}
