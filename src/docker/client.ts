import { http } from '../util/node-http.ts';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createEngineApi } from './engine-http.ts';
import { EVENT_FILTERS } from './events.ts';
import { parseDockerHost, type DockerTlsEnv } from './host.ts';
import { type ImageLabels, toImageLabels } from './image-labels.ts';
import type { SwarmListing, SwarmService, SwarmTask } from './swarm.ts';
import type { ContainerListEntry } from './to-snapshot.ts';

/**
 * The read-only Engine API calls Gatehouse makes, so a socket proxy allowing only
 * GET /_ping, /version, /containers/json, /images/json, /events, and on a Swarm manager
 * /services and /tasks, is enough.
 */
export interface DockerClient {
  ping(signal: AbortSignal): Promise<void>;
  version(signal: AbortSignal): Promise<{ version: string; apiVersion: string }>;
  listContainers(signal: AbortSignal): Promise<ContainerListEntry[]>;
  /** `GET /images/json`: each local image's id → its labels, to tell image labels from the deployer's. */
  listImageLabels(signal: AbortSignal): Promise<ImageLabels>;
  /** `GET /services` and `GET /tasks`: null when this engine is not a Swarm manager (it answers 503). */
  listSwarm(signal: AbortSignal): Promise<SwarmListing | null>;
  /** Resolves once the engine answered with the stream's headers; the body is newline-delimited JSON. */
  events(signal: AbortSignal): Promise<Readable>;
  /** Closes every socket this client opened. */
  close(): void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Opens a client for DOCKER_HOST (TLS as `tls` says, else as the Docker CLI's variables say); nothing connects until the first call. */
export async function openDockerClient(dockerHost: string, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, tls?: DockerTlsEnv): Promise<DockerClient> {
  const options = tls === undefined ? parseDockerHost(dockerHost) : parseDockerHost(dockerHost, tls);
  // A private agent without keep-alive: no pooled socket outlives a request or the client.
  const agent = options.protocol === 'https' ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  const docker = createEngineApi(options, agent);
  const withDeadline = <T>(what: string, signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>) =>
    callWithDeadline(`GET ${what}`, requestTimeoutMs, signal, call);

  return {
    async ping(signal) {
      await withDeadline('/_ping', signal, (s) => docker.ping(s));
    },
    async version(signal) {
      const info = await withDeadline('/version', signal, (s) => docker.version(s));
      return { version: String(info.Version ?? 'unknown'), apiVersion: String(info.ApiVersion ?? 'unknown') };
    },
    async listContainers(signal) {
      const list = await withDeadline('/containers/json', signal, (s) => docker.listContainers({ all: true }, s));
      if (!Array.isArray(list)) throw new Error('GET /containers/json did not return a JSON array');
      return list as ContainerListEntry[];
    },
    async listImageLabels(signal) {
      const list = await withDeadline('/images/json', signal, (s) => docker.listImages(s));
      if (!Array.isArray(list)) throw new Error('GET /images/json did not return a JSON array');
      return toImageLabels(list);
    },
    async listSwarm(signal) {
      try {
        const services = await withDeadline('/services', signal, (s) => docker.listServices(s));
        const tasks = await withDeadline('/tasks', signal, (s) => docker.listTasks({ 'desired-state': ['running'] }, s));
        if (!Array.isArray(services) || !Array.isArray(tasks)) throw new Error('GET /services or /tasks did not return a JSON array');
        return { services: services as SwarmService[], tasks: tasks as SwarmTask[] };
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 503) return null;
        throw error;
      }
    },
    async events(signal) {
      const stream = await withDeadline('/events', signal, (s) =>
        docker.events({ type: [...EVENT_FILTERS.type], event: [...EVENT_FILTERS.event] }, s),
      );
      return stream;
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Runs one request with a deadline. Races the call against the abort as well, because a request
 * whose socket hangs mid-response may never settle on its own.
 */
async function callWithDeadline<T>(what: string, timeoutMs: number, parent: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  const onParentAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  let removeAbortListener = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(controller.signal.reason instanceof Error ? controller.signal.reason : new Error(`${what} was aborted`));
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
    removeAbortListener = () => controller.signal.removeEventListener('abort', onAbort);
  });
  aborted.catch(() => {});
  try {
    return await Promise.race([call(controller.signal), aborted]);
  } catch (error) {
    throw controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    removeAbortListener();
    parent.removeEventListener('abort', onParentAbort);
  }
}
