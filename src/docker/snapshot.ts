import { z } from 'zod';

/**
 * What Gatehouse knows about one container, running or not, taken from `GET /containers/json?all=1`
 * and `GET /images/json` (no per-container inspect, so a socket proxy allowing only the lists is enough).
 */
export const HealthState = z.enum(['none', 'starting', 'healthy', 'unhealthy']);
export type HealthState = z.infer<typeof HealthState>;

export const ContainerSnapshot = z.object({
  id: z.string(),
  /** Without the leading slash. */
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  /**
   * The labels of the container's image (Docker merges them into `labels`), from
   * `GET /images/json`; null when unknown (the list was refused, or the image is gone).
   */
  imageLabels: z.record(z.string(), z.string()).nullable(),
  /** Docker's `State`: running, paused, restarting, created, exited, dead. */
  state: z.string(),
  health: HealthState,
  /** Seconds since the epoch, from `Created`; orders conflicting claims (older wins). */
  created: z.number(),
  /** Network name → IPv4 address ('' when the engine has not assigned one yet). */
  networks: z.record(z.string(), z.string()),
  /** `HostConfig.NetworkMode` (bridge, host, none, container:ID or a network name). */
  networkMode: z.string(),
  /** Private (container-side) TCP ports the image exposes or the user published, sorted, unique. */
  exposedPorts: z.array(z.number().int()),
  /**
   * The engine that listed it, when Gatehouse watches several (GATEHOUSE_DOCKER_HOSTS); absent
   * with one engine. Part of the owner and replica identity, so engines never share a unit.
   */
  engine: z.string().optional(),
  /**
   * With several engines: network name → the engine's network id. An overlay network has the same
   * id on every machine that joins it; a name alone could be any machine's own bridge.
   */
  networkIds: z.record(z.string(), z.string()).optional(),
  /**
   * Set for a container on a remote engine (another machine): the address its published ports
   * are reached on, and each private TCP port → the host port it is published on there. Its
   * network addresses belong to that machine and are never routed to.
   */
  remote: z
    .object({
      address: z.string(),
      ports: z.record(z.string(), z.number().int()),
      /**
       * Its networks that Gatehouse is on as well, known by network id (an overlay has one id on
       * every machine), sorted; filled in when the engines' listings are merged.
       */
      shared: z.array(z.string()).optional(),
    })
    .optional(),
});
export type ContainerSnapshot = z.infer<typeof ContainerSnapshot>;

/** The containers seen in one full list, and which of them (if any) is Gatehouse itself. */
export interface DockerListing {
  containers: readonly ContainerSnapshot[];
  /** The networks Gatehouse's own container is attached to; null when Gatehouse runs outside Docker. */
  selfNetworks: readonly string[] | null;
  /** The addresses of Gatehouse's own container, which label routes may never target; absent or empty outside Docker. */
  selfAddresses?: readonly string[];
  /** With several engines: the ids of Gatehouse's own networks, from the engine it runs beside. */
  selfNetworkIds?: readonly string[];
}
