import type { Readable } from 'node:stream';
import type { Logger } from '../observability/index.ts';
import type { DockerClient } from './client.ts';
import { EventLineSplitter, isRelevantEvent } from './events.ts';
import type { ImageLabels } from './image-labels.ts';
import type { SwarmListing } from './swarm.ts';
import type { ContainerListEntry } from './to-snapshot.ts';

export interface SessionOptions {
  client: DockerClient;
  /** The watcher's stop signal. */
  signal: AbortSignal;
  debounceMs: number;
  /**
   * One more list this long after the last relevant event: the engine sometimes reports an
   * event before the listing shows its effect (a network attachment, a health status), and
   * that should not wait for the periodic resync.
   */
  settleMs: number;
  resyncMs: number;
  stallTimeoutMs: number;
  logger: Logger;
  onVersion(version: { version: string; apiVersion: string }): void;
  /** Called with every successful full list; a failed list ends the session instead. */
  /** `images` is null when the engine (or a socket proxy) refused the image list. */
  /** `swarm` is null when the engine is no Swarm manager (or refused the lists). */
  onList(entries: ContainerListEntry[], images: ImageLabels | null, swarm: SwarmListing | null): Promise<void>;
  /** Called once, after the first list of this connection succeeded. */
  onUp(): void;
}

export type SessionEnd = { reason: 'stopped' } | { reason: 'stalled'; message: string } | { reason: 'failed'; error: Error };

export interface SessionResult {
  end: SessionEnd;
  /** When the first list succeeded (ms epoch), or null if the connection never got that far. */
  upAt: number | null;
}

/**
 * One connection to the engine: ping → version → subscribe to /events → full list, then a
 * full list after relevant events (throttled, see requestList) and a periodic resync. Subscribing before the
 * first list means no change between the two is lost. Resolves when the connection is over;
 * every way it can end (clean EOF included) is reported, never swallowed.
 */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { client, logger } = options;
  const controller = new AbortController();
  let upAt: number | null = null;
  let finished = false;
  let settle: (end: SessionEnd) => void = () => {};
  const ended = new Promise<SessionEnd>((resolve) => (settle = resolve));
  const end = (outcome: SessionEnd) => {
    if (finished) return;
    finished = true;
    controller.abort(new Error(outcome.reason === 'failed' ? outcome.error.message : outcome.reason));
    settle(outcome);
  };
  const fail = (context: string, error: unknown) => end({ reason: 'failed', error: describe(context, error) });
  const onStop = () => end({ reason: 'stopped' });
  options.signal.addEventListener('abort', onStop, { once: true });

  let stream: Readable | null = null;
  let debounceTimer: NodeJS.Timeout | null = null;
  let resyncTimer: NodeJS.Timeout | null = null;
  let stallTimer: NodeJS.Timeout | null = null;
  let settleTimer: NodeJS.Timeout | null = null;
  let listing = false;
  let listAgain = false;
  let imagesWarned = false;
  let swarmWarned = false;
  let lastListAt = Number.NEGATIVE_INFINITY;

  const list = async (): Promise<void> => {
    if (listing) {
      listAgain = true;
      return;
    }
    listing = true;
    try {
      do {
        listAgain = false;
        lastListAt = Date.now();
        const entries = await client.listContainers(controller.signal);
        const images = await listImages(client, controller.signal, (error) => {
          // Once per session: a socket proxy that refuses the call refuses it every time.
          if (imagesWarned) return;
          imagesWarned = true;
          options.logger.warn({ err: error }, 'cannot list images (GET /images/json); containers whose labels may come from their image are held back');
        });
        const swarm = await listSwarm(client, controller.signal, (error) => {
          if (swarmWarned) return;
          swarmWarned = true;
          options.logger.warn({ err: error }, 'cannot list Swarm services (GET /services, /tasks); services published through deploy.labels are not served');
        });
        if (finished) return;
        await options.onList(entries, images, swarm);
      } while (listAgain && !finished);
    } finally {
      listing = false;
    }
  };
  const startList = () => void list().catch((error: unknown) => fail('listing containers failed', error));
  /**
   * The first change after a quiet spell is listed at once (a new container goes live without
   * waiting); changes within `windowMs` of the last list coalesce into one list at the window's end.
   */
  const requestList = (windowMs: number) => {
    if (finished || debounceTimer) return;
    const wait = lastListAt + windowMs - Date.now();
    if (wait <= 0) {
      startList();
      return;
    }
    debounceTimer = setTimeout(() => {
      debounceTimer = null;
      startList();
    }, wait);
  };
  const onChange = () => {
    requestList(options.debounceMs);
    if (settleTimer) settleTimer.refresh();
    else {
      settleTimer = setTimeout(() => {
        settleTimer = null;
        requestList(0);
      }, options.settleMs);
    }
  };

  const watch = (events: Readable) => {
    const splitter = new EventLineSplitter();
    stallTimer = setTimeout(() => {
      end({ reason: 'stalled', message: `no bytes on the Docker event stream for ${options.stallTimeoutMs} ms` });
    }, options.stallTimeoutMs);
    events.on('data', (chunk: Buffer | string) => {
      stallTimer?.refresh();
      let lines;
      try {
        lines = splitter.push(chunk);
      } catch (error) {
        fail('the Docker event stream is malformed', error);
        return;
      }
      for (const line of lines) {
        if (!line.ok) {
          // Unreadable event: a full list is always safe, and cheaper than guessing.
          logger.debug({ line: line.line.slice(0, 200) }, 'unreadable Docker event; re-listing containers');
          onChange();
        } else if (isRelevantEvent(line.event)) {
          onChange();
        }
      }
    });
    events.once('end', () => fail('the Docker event stream ended', null));
    events.once('error', (error) => fail('the Docker event stream failed', error));
    events.once('close', () => fail('the Docker event stream closed', null));
  };

  const connect = async () => {
    await client.ping(controller.signal);
    options.onVersion(await client.version(controller.signal));
    stream = await client.events(controller.signal);
    if (finished) return;
    watch(stream);
    await list();
    if (finished) return;
    upAt = Date.now();
    options.onUp();
    resyncTimer = setInterval(() => requestList(0), options.resyncMs);
  };

  try {
    if (options.signal.aborted) onStop();
    await connect().catch((error: unknown) => fail('cannot use the Docker engine', error));
    return { end: await ended, upAt };
  } finally {
    if (debounceTimer) clearTimeout(debounceTimer);
    if (resyncTimer) clearInterval(resyncTimer);
    if (stallTimer) clearTimeout(stallTimer);
    if (settleTimer) clearTimeout(settleTimer);
    const events = stream as Readable | null;
    events?.removeAllListeners('data');
    events?.on('error', () => {});
    events?.destroy();
    options.signal.removeEventListener('abort', onStop);
  }
}

function describe(context: string, error: unknown): Error {
  if (error === null || error === undefined) return new Error(context);
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${context}: ${message.trim()}`, { cause: error });
}

/**
 * The image list, or null when it cannot be had: without it image labels cannot be told from the
 * deployer's, which the translator treats as "refuse" (see labels/image-labels.ts), never as
 * "trust". A failure here is no reason to stop discovery.
 */
async function listImages(client: DockerClient, signal: AbortSignal, warn: (error: unknown) => void): Promise<ImageLabels | null> {
  try {
    return await client.listImageLabels(signal);
  } catch (error) {
    if (!signal.aborted) warn(error);
    return null;
  }
}

/**
 * Services and tasks, or null: on an engine that is no Swarm manager (the usual case), and when
 * the lists are refused (a socket proxy from before Swarm support), which is told once.
 */
async function listSwarm(client: DockerClient, signal: AbortSignal, warn: (error: unknown) => void): Promise<SwarmListing | null> {
  try {
    return await client.listSwarm(signal);
  } catch (error) {
    if (!signal.aborted) warn(error);
    return null;
  }
}
