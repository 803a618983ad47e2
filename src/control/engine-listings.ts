import type { ContainerSnapshot, DockerListing } from '../docker/index.ts';

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
      const own = local === null ? undefined : latest.get(local);
      const selfIds = new Set(own?.selfNetworkIds ?? []);
      const containers = engines.flatMap((known) => (latest.get(known.name)?.containers ?? []).map((container) => withShared(container, selfIds)));
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

/**
 * A remote container with the networks it shares with Gatehouse, matched by network id: an
 * overlay has one id on every machine that joins it, while a name could be any machine's own
 * bridge. The same object when nothing is shared and nothing was before.
 */
function withShared(container: ContainerSnapshot, selfIds: ReadonlySet<string>): ContainerSnapshot {
  const remote = container.remote;
  if (remote === undefined) return container;
  const ids = container.networkIds ?? {};
  const shared = Object.keys(container.networks)
    .filter((name) => ids[name] !== undefined && selfIds.has(ids[name] as string))
    .sort();
  if (shared.length === 0 && remote.shared === undefined) return container;
  return Object.freeze({ ...container, remote: Object.freeze({ ...remote, shared: Object.freeze(shared) as string[] }) });
}
