import type Dockerode from 'dockerode';
import type { ImageLabels } from './image-labels.ts';
import { ContainerSnapshot, HealthState } from './snapshot.ts';

/**
 * One item of `GET /containers/json`. Engines with API ≥ 1.52 add a `Health` object;
 * older ones (e.g. 20.10, API 1.41) only mention health inside the `Status` text.
 */
export type ContainerListEntry = Dockerode.ContainerInfo & {
  Health?: { Status?: string | null } | null;
};

const HEALTH_IN_STATUS_TEXT = /\((health: starting|healthy|unhealthy)\)/;

/** Health from the `Health` object when present, else from text such as "Up 3 seconds (health: starting)". */
export function healthOf(entry: Pick<ContainerListEntry, 'Health' | 'Status'>): HealthState {
  const fromObject = HealthState.safeParse(entry.Health?.Status);
  if (fromObject.success) return fromObject.data;
  const match = HEALTH_IN_STATUS_TEXT.exec(entry.Status ?? '');
  if (!match) return 'none';
  return match[1] === 'health: starting' ? 'starting' : (match[1] as HealthState);
}

/**
 * Pure: one list entry → a frozen snapshot. Throws only when the engine sent an entry without
 * an id, which callers treat as "skip this container", never as "the list failed".
 */
export function toSnapshot(entry: ContainerListEntry, images: ImageLabels | null = null): ContainerSnapshot {
  if (typeof entry.Id !== 'string' || entry.Id === '') {
    throw new TypeError(`Docker returned a container without an Id (names: ${JSON.stringify(entry.Names ?? [])})`);
  }
  const networks: Record<string, string> = {};
  for (const [name, network] of Object.entries(entry.NetworkSettings?.Networks ?? {})) {
    networks[name] = network?.IPAddress ?? '';
  }
  const tcpPorts = (entry.Ports ?? []).filter((port) => port.Type === 'tcp' && Number.isInteger(port.PrivatePort));
  const exposedPorts = [...new Set(tcpPorts.map((port) => port.PrivatePort))].sort((a, b) => a - b);
  // Legacy links add aliases such as "/web/db"; the container's own name has a single slash.
  const names = entry.Names ?? [];
  const ownName = names.find((name) => name.lastIndexOf('/') === 0) ?? names[0] ?? entry.Id.slice(0, 12);

  return Object.freeze({
    id: entry.Id,
    name: ownName.replace(/^\//, ''),
    labels: Object.freeze({ ...(entry.Labels ?? {}) }),
    imageLabels: imageLabelsOf(entry, images),
    state: entry.State ?? '',
    health: healthOf(entry),
    created: entry.Created ?? 0,
    networks: Object.freeze(networks),
    networkMode: entry.HostConfig?.NetworkMode ?? '',
    exposedPorts: Object.freeze(exposedPorts) as number[],
  });
}

/** The labels of the container's image; null when the image list is missing or lacks the image. */
function imageLabelsOf(entry: ContainerListEntry, images: ImageLabels | null): Readonly<Record<string, string>> | null {
  if (images === null || typeof entry.ImageID !== 'string') return null;
  return images.get(entry.ImageID) ?? null;
}
