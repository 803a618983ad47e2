import type { DockerListing } from '../docker/index.ts';

/**
 * The latest listing of each Docker engine, merged into the one listing the table is built from.
 * An engine that goes away sends nothing, so its last listing stays here and its routes stay
 * live, while the other engines keep replacing theirs. Only the engine Gatehouse runs beside
 * (`local`) says which networks and addresses are Gatehouse's own.
 */
export interface EngineListings {
  /** Records one engine's listing; returns the merged listing of every engine listed so far. */
  set(engine: string, listing: DockerListing): DockerListing;
  /** True once every engine has been listed at least once. */
  allListed(): boolean;
  /** The engines not listed yet. */
  unlisted(): string[];
}

export function createEngineListings(engines: readonly { name: string; local: boolean }[]): EngineListings {
  const latest = new Map<string, DockerListing>();
  const local = engines.find((engine) => engine.local)?.name ?? null;
  return {
    set(engine, listing) {
      if (!engines.some((known) => known.name === engine)) throw new TypeError(`unknown Docker engine "${engine}"`);
      latest.set(engine, listing);
      const containers = engines.flatMap((known) => latest.get(known.name)?.containers ?? []);
      const own = local === null ? undefined : latest.get(local);
      return Object.freeze({
        containers: Object.freeze(containers),
        selfNetworks: own?.selfNetworks ?? null,
        selfAddresses: own?.selfAddresses ?? Object.freeze([]),
        selfNetworkIds: own?.selfNetworkIds ?? Object.freeze([]),
      });
    },
    allListed: () => engines.every((engine) => latest.has(engine.name)),
    unlisted: () => engines.filter((engine) => !latest.has(engine.name)).map((engine) => engine.name),
  };
}
