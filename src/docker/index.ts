import pino from 'pino';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import { openDockerClient } from './client.ts';
import { toListing } from './listing.ts';
import { readSelfMountinfo } from './self.ts';
import type { DockerTlsEnv } from './host.ts';
import type { EngineIdentity } from './engine-tag.ts';
import type { DockerListing } from './snapshot.ts';

export { parseDockerHost, type DockerTlsEnv } from './host.ts';
export { publishedPorts, tagSnapshot, type EngineIdentity } from './engine-tag.ts';
export { findSelfNetworks, readSelfNetworks } from './self.ts';
export { toSnapshot, type ContainerListEntry } from './to-snapshot.ts';
export { createDockerWatcher, type DiscoveryStatus, type DockerWatcher, type DockerWatcherOptions } from './watcher.ts';
export type { ContainerSnapshot, DockerListing, HealthState } from './snapshot.ts';
export { taskSnapshots, type SwarmListing, type SwarmService, type SwarmTask } from './swarm.ts';

/**
 * One full list, for commands that need the current containers once (`gatehouse routes`). With
 * several engines, `engine` marks the snapshots as the watcher does and `tls` is that engine's.
 */
export async function listOnce(
  dockerHost: string,
  logger: Logger = pino({ level: 'silent' }),
  options: { tls?: DockerTlsEnv; engine?: EngineIdentity } = {},
): Promise<DockerListing> {
  const client = await openDockerClient(dockerHost, undefined, options.tls);
  try {
    const signal = new AbortController().signal;
    const entries = await client.listContainers(signal);
    // Without the image list, containers whose labels may come from their image are held back.
    const images = await client.listImageLabels(signal).catch(() => null);
    const swarm = await client.listSwarm(signal).catch(() => null);
    return toListing(entries, logger, await readSelfMountinfo(), images, swarm, options.engine ?? null);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatehouseError('DOCKER_UNAVAILABLE', `Cannot list containers from the Docker engine at ${dockerHost}: ${reason}. Check DOCKER_HOST (or GATEHOUSE_DOCKER_HOSTS) and that the engine (or socket proxy) is running.`, { cause: error });
  } finally {
    client.close();
  }
}
