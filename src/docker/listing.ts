import os from 'node:os';
import type { Logger } from '../observability/index.ts';
import { findSelf, findSelfAddresses, findSelfNetworks } from './self.ts';
import type { ContainerSnapshot, DockerListing } from './snapshot.ts';
import type { ImageLabels } from './image-labels.ts';
import { toSnapshot, type ContainerListEntry } from './to-snapshot.ts';
import { taskSnapshots, type SwarmListing } from './swarm.ts';
import { tagSnapshot, type EngineIdentity } from './engine-tag.ts';

/** A frozen listing of every entry; an entry the engine sent broken is skipped, never the whole list. */
export function toListing(
  entries: readonly ContainerListEntry[],
  logger: Logger,
  mountinfoText: string | undefined,
  images: ImageLabels | null = null,
  swarm: SwarmListing | null = null,
  engine: EngineIdentity | null = null,
): DockerListing {
  const containers: ContainerSnapshot[] = [];
  for (const entry of entries) {
    try {
      const snapshot = toSnapshot(entry, images);
      containers.push(engine === null ? snapshot : tagSnapshot(snapshot, entry, engine));
    } catch (error) {
      logger.warn({ err: error }, 'skipping a container the Docker engine described incompletely');
    }
  }
  // Swarm tasks after the containers: Gatehouse's own container is found among the containers.
  if (swarm !== null) containers.push(...taskSnapshots(swarm).map((task) => (engine === null ? task : tagSnapshot(task, null, engine))));
  // Gatehouse runs beside one engine only: a remote engine's listing never names its networks or
  // addresses, whatever its containers are called.
  if (engine !== null && engine.address !== null) return Object.freeze({ containers: Object.freeze(containers), selfNetworks: null, selfAddresses: Object.freeze([]) });
  const selfNetworks = findSelfNetworks(containers, os.hostname(), mountinfoText);
  const selfAddresses = findSelfAddresses(containers, os.hostname(), mountinfoText);
  const selfNetworkIds = engine === null ? undefined : Object.values(findSelf(containers, os.hostname(), mountinfoText)?.networkIds ?? {}).sort();
  return Object.freeze({
    containers: Object.freeze(containers),
    selfNetworks: selfNetworks && Object.freeze(selfNetworks),
    selfAddresses: Object.freeze(selfAddresses),
    ...(selfNetworkIds === undefined ? {} : { selfNetworkIds: Object.freeze(selfNetworkIds) }),
  });
}
