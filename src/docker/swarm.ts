import type { ContainerSnapshot, HealthState } from './snapshot.ts';

/**
 * Swarm services as the translator sees containers: one snapshot per task Swarm wants running,
 * labelled with its service's `deploy.labels` (`Spec.Labels`) and addressed on the overlay
 * networks it is attached to. Every rule that holds for containers then holds for services:
 * network inference, replicas as one upstream group (by service id), ownership by stack
 * (`com.docker.stack.namespace`, which `docker stack deploy` sets on the service), conflicts,
 * and the fail-closed states. Pure; from `GET /services` and `GET /tasks`.
 */

export interface SwarmService {
  ID?: string;
  CreatedAt?: string;
  Spec?: { Name?: string; Labels?: Record<string, string> | null; EndpointSpec?: { Ports?: Array<{ TargetPort?: number; Protocol?: string }> | null } | null };
}

export interface SwarmTask {
  ID?: string;
  ServiceID?: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string } | null;
  NetworksAttachments?: Array<{ Network?: { Spec?: { Name?: string } }; Addresses?: string[] | null }> | null;
}

export interface SwarmListing {
  services: readonly SwarmService[];
  tasks: readonly SwarmTask[];
}

/** The routing mesh's own network: never an upstream address. */
const INGRESS = 'ingress';

/**
 * Swarm's task states as container states: only `running` serves; `starting` (a health check
 * not yet passed: Swarm marks a task running only once it is healthy) is a running container whose
 * health is still starting; anything before is `created`, anything after `exited`.
 */
export function taskState(state: string | undefined): { state: string; health: HealthState } {
  switch (state) {
    case 'running':
      return { state: 'running', health: 'none' };
    case 'starting':
      return { state: 'running', health: 'starting' };
    case 'new':
    case 'pending':
    case 'assigned':
    case 'accepted':
    case 'preparing':
    case 'ready':
      return { state: 'created', health: 'none' };
    default:
      return { state: 'exited', health: 'none' };
  }
}

export function taskSnapshots(listing: SwarmListing): ContainerSnapshot[] {
  const services = new Map(listing.services.filter((service) => typeof service.ID === 'string').map((service) => [service.ID!, service]));
  const snapshots: ContainerSnapshot[] = [];
  for (const task of listing.tasks) {
    // Old tasks stay in the list for a while (history); only those Swarm wants running count.
    if (typeof task.ID !== 'string' || task.DesiredState !== 'running') continue;
    const service = services.get(task.ServiceID ?? '');
    const name = service?.Spec?.Name;
    if (service === undefined || typeof name !== 'string') continue;
    const networks: Record<string, string> = {};
    for (const attachment of task.NetworksAttachments ?? []) {
      const network = attachment.Network?.Spec?.Name;
      if (typeof network !== 'string' || network === INGRESS) continue;
      networks[network] = (attachment.Addresses?.[0] ?? '').split('/')[0] ?? '';
    }
    const ports = (service.Spec?.EndpointSpec?.Ports ?? []).filter((port) => (port.Protocol ?? 'tcp') === 'tcp' && Number.isInteger(port.TargetPort));
    const { state, health } = taskState(task.Status?.State);
    const created = Date.parse(service.CreatedAt ?? '');
    snapshots.push(
      Object.freeze({
        id: task.ID,
        name: `${name}.${task.Slot ?? task.NodeID ?? task.ID.slice(0, 12)}`,
        // The service's own id and name last, so a label cannot pretend to be another service.
        labels: Object.freeze({ ...(service.Spec?.Labels ?? {}), 'com.docker.swarm.service.id': service.ID!, 'com.docker.swarm.service.name': name, 'com.docker.swarm.task.id': task.ID }),
        // Service labels are the deployer's: an image's labels never reach them.
        imageLabels: Object.freeze({}),
        state,
        health,
        created: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
        networks: Object.freeze(networks),
        networkMode: Object.keys(networks)[0] ?? '',
        exposedPorts: Object.freeze([...new Set(ports.map((port) => port.TargetPort!))].sort((a, b) => a - b)) as number[],
      }),
    );
  }
  return snapshots;
}
