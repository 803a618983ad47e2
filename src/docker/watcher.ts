import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/index.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, openDockerClient, type DockerClient } from './client.ts';
import { parseDockerHost, type DockerTlsEnv } from './host.ts';
import type { EngineIdentity } from './engine-tag.ts';
import type { ImageLabels } from './image-labels.ts';
import { toListing } from './listing.ts';
import type { SwarmListing } from './swarm.ts';
import { readSelfMountinfo } from './self.ts';
import { runSession, type SessionResult } from './session.ts';
import type { DockerListing } from './snapshot.ts';
import type { ContainerListEntry } from './to-snapshot.ts';

export interface DiscoveryStatus {
  state: 'connecting' | 'up' | 'degraded';
  /** When `state` last changed (ms epoch). */
  since: number;
  /** When the last full list succeeded (ms epoch). */
  lastListAt: number | null;
  /** The most recent failure; kept after recovery so operators can see what happened. */
  lastError: string | null;
  engineVersion: string | null;
  /** Connection attempts after the first one. */
  reconnects: number;
}

export interface DockerWatcherOptions {
  dockerHost: string;
  /** This engine's TLS settings, in the Docker CLI's terms; default: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. */
  tls?: DockerTlsEnv;
  /** With several engines: which one this is; its snapshots are marked with it. Null or absent with one engine. */
  engine?: EngineIdentity | null;
  logger: Logger;
  onListing: (listing: DockerListing) => void;
  debounceMs?: number;
  /** A last list this long after a burst of events (default 1 s). */
  settleMs?: number;
  resyncMs?: number;
  stallTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Deadline for each /_ping, /version and /containers/json request. */
  requestTimeoutMs?: number;
}

export interface DockerWatcher {
  start(): void;
  /** Ends the connection, timers and sockets; the watcher cannot be started again. */
  stop(): Promise<void>;
  status(): DiscoveryStatus;
  /** Returns a function that removes the listener. */
  onStatus(listener: (status: DiscoveryStatus) => void): () => void;
}

/** A connection that stayed up this long starts the next retry from the initial delay again. */
const HEALTHY_RESETS_BACKOFF_MS = 30_000;

export function createDockerWatcher(options: DockerWatcherOptions): DockerWatcher {
  // A bad DOCKER_HOST (or certificate folder) fails at startup, not in the retry loop.
  if (options.tls === undefined) parseDockerHost(options.dockerHost);
  else parseDockerHost(options.dockerHost, options.tls);
  const engine = options.engine ?? null;
  const logger = options.logger.child(engine === null ? { component: 'docker' } : { component: 'docker', engine: engine.name });
  const settings = {
    debounceMs: options.debounceMs ?? 100,
    settleMs: options.settleMs ?? 1_000,
    resyncMs: options.resyncMs ?? 30_000,
    stallTimeoutMs: options.stallTimeoutMs ?? 300_000,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 });
  const stopping = new AbortController();
  const listeners = new Set<(status: DiscoveryStatus) => void>();
  let current: DiscoveryStatus = Object.freeze({ state: 'connecting', since: Date.now(), lastListAt: null, lastError: null, engineVersion: null, reconnects: 0 });
  let running: Promise<void> | null = null;
  let mountinfo: Promise<string | undefined> | null = null;

  const update = (patch: Partial<Omit<DiscoveryStatus, 'since'>>) => {
    const state = patch.state ?? current.state;
    current = Object.freeze({ ...current, ...patch, since: state === current.state ? current.since : Date.now() });
    for (const listener of listeners) {
      try {
        listener(current);
      } catch (error) {
        logger.error({ err: error }, 'a discovery status listener threw');
      }
    }
  };

  // A failed image list falls back to the last good one: images rarely change, and an image it
  // does not know leaves only that image's containers held back, never every route.
  let lastImages: ImageLabels | null = null;
  const publish = async (entries: ContainerListEntry[], images: ImageLabels | null, swarm: SwarmListing | null) => {
    lastImages = images ?? lastImages;
    const listing = toListing(entries, logger, await (mountinfo ??= readSelfMountinfo()), lastImages, swarm, engine);
    if (stopping.signal.aborted) return;
    update({ lastListAt: Date.now() });
    try {
      options.onListing(listing);
    } catch (error) {
      logger.error({ err: error }, 'handling a Docker container listing failed');
    }
  };

  const connectOnce = async (client: DockerClient): Promise<SessionResult> =>
    runSession({
      client,
      signal: stopping.signal,
      ...settings,
      logger,
      onVersion: ({ version }) => update({ engineVersion: version }),
      onList: publish,
      onUp: () => {
        if (current.state !== 'up') logger.info({ engineVersion: current.engineVersion, dockerHost: options.dockerHost }, 'Docker discovery is up');
        update({ state: 'up' });
      },
    });

  const loop = async () => {
    let client: DockerClient | null = null;
    try {
      for (let attempt = 0; !stopping.signal.aborted; attempt += 1) {
        if (attempt > 0) update({ reconnects: current.reconnects + 1 });
        let result: SessionResult;
        try {
          client ??= await openDockerClient(options.dockerHost, settings.requestTimeoutMs, options.tls);
          result = await connectOnce(client);
        } catch (error) {
          result = { end: { reason: 'failed', error: error instanceof Error ? error : new Error(String(error)) }, upAt: null };
        }
        const { end, upAt } = result;
        if (end.reason === 'stopped' || stopping.signal.aborted) break;
        if (upAt !== null && Date.now() - upAt >= HEALTHY_RESETS_BACKOFF_MS) backoff.reset();
        if (end.reason === 'stalled' && upAt !== null) {
          // Docker sends nothing while idle, so silence is not proof of a fault: reconnect and
          // re-list at once, and only call discovery degraded if that reconnect fails.
          logger.debug({ reason: end.message }, 'Docker event stream silent; reconnecting to make sure it is alive');
          continue;
        }
        const reason = end.reason === 'stalled' ? end.message : end.error.message;
        const retryInMs = backoff.next();
        update({ state: 'degraded', lastError: reason });
        logger.warn({ reason, retryInMs, reconnects: current.reconnects, lastListAt: current.lastListAt }, 'Docker discovery degraded; keeping the last container list and retrying');
        await sleep(retryInMs, undefined, { signal: stopping.signal }).catch(() => {});
      }
    } finally {
      client?.close();
    }
  };

  return {
    start() {
      if (running || stopping.signal.aborted) return;
      running = loop().catch((error: unknown) => logger.error({ err: error }, 'Docker discovery loop crashed'));
    },
    async stop() {
      stopping.abort(new Error('stopped'));
      await running;
    },
    status: () => current,
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
