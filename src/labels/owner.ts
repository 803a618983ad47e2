import type { ContainerSnapshot } from '../docker/index.ts';
import type { HostOwner } from '../routes/index.ts';

/**
 * The unit a container's claims belong to: its Swarm stack, else its compose project, else the
 * container alone. A host belongs to the unit of its first claim.
 *
 * Limit: Compose and Swarm set these labels, but whoever starts a container can write them as
 * well, and so join a unit on purpose. Ownership keeps apart units that did not choose to share
 * a host (another project, a copied compose file); SECURITY.md says so.
 */
export function ownerOf(container: Pick<ContainerSnapshot, 'id' | 'name' | 'labels' | 'engine'>): HostOwner {
  // With several engines the unit is per engine: whoever starts containers on one machine never
  // joins, by copying a project or stack name, a unit on another (GATEHOUSE_DOCKER_HOSTS).
  // A container's id is unique across engines already (docker/engine-tag.ts).
  const engine = container.engine === undefined ? {} : { engine: container.engine };
  const stack = container.labels['com.docker.stack.namespace'];
  if (stack) return { kind: 'stack', namespace: stack, ...engine };
  const project = container.labels['com.docker.compose.project'];
  if (project) return { kind: 'compose', project, ...engine };
  return { kind: 'container', containerId: container.id, containerName: container.name };
}
