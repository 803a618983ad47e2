import type { ContainerSnapshot } from './snapshot.ts';
import type { ContainerListEntry } from './to-snapshot.ts';

/**
 * Which engine a listing comes from, when Gatehouse watches several (GATEHOUSE_DOCKER_HOSTS).
 * `address` is null for the engine Gatehouse runs beside (its containers are reached on their
 * networks, as with one engine); for a remote engine it is the address of that machine, where
 * its containers' published ports are reached.
 */
export interface EngineIdentity {
  readonly name: string;
  readonly address: string | null;
}

/** Host addresses a published port listens on that another machine can reach. */
const REACHABLE_BINDINGS = new Set(['', '0.0.0.0', '::']);

/**
 * Marks a snapshot with its engine. A remote engine's container also gets an id of its own in
 * the merged listing (`pi/3f2a…`): ids are unique per engine only, and an engine must never be
 * able to stand in for another engine's container (in the translation memo, in closed claims,
 * in replica groups) by reporting the same id.
 */
export function tagSnapshot(snapshot: ContainerSnapshot, entry: ContainerListEntry | null, engine: EngineIdentity): ContainerSnapshot {
  const networkIds = networkIdsOf(entry);
  if (engine.address === null) return Object.freeze({ ...snapshot, engine: engine.name, networkIds });
  return Object.freeze({
    ...snapshot,
    id: `${engine.name}/${snapshot.id}`,
    engine: engine.name,
    networkIds,
    remote: Object.freeze({ address: engine.address, ports: entry === null ? Object.freeze({}) : publishedPorts(entry, engine.address) }),
  });
}

/** Network name → the engine's id for it (ids are what tell an overlay shared across machines). */
function networkIdsOf(entry: ContainerListEntry | null): Readonly<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [name, network] of Object.entries(entry?.NetworkSettings?.Networks ?? {})) {
    if (typeof network?.NetworkID === 'string' && network.NetworkID !== '') ids[name] = network.NetworkID;
  }
  return Object.freeze(ids);
}

/**
 * Private TCP port → the host port it is published on, reachable from another machine: bound on
 * every interface, or on the engine's own address. A port bound to 127.0.0.1 on the remote
 * machine is that machine's business and stays out.
 */
export function publishedPorts(entry: Pick<ContainerListEntry, 'Ports'>, address: string): Readonly<Record<string, number>> {
  const ports: Record<string, number> = {};
  const sorted = [...(entry.Ports ?? [])].sort((a, b) => (a.PrivatePort ?? 0) - (b.PrivatePort ?? 0) || (a.PublicPort ?? 0) - (b.PublicPort ?? 0));
  for (const port of sorted) {
    if (port.Type !== 'tcp' || !Number.isInteger(port.PrivatePort) || !Number.isInteger(port.PublicPort) || !port.PublicPort) continue;
    const binding = port.IP ?? '';
    if (!REACHABLE_BINDINGS.has(binding) && binding !== address) continue;
    // The first (lowest) host port per private port, so the choice is stable from list to list.
    ports[String(port.PrivatePort)] ??= port.PublicPort;
  }
  return Object.freeze(ports);
}
