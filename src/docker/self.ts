import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { ContainerSnapshot } from './snapshot.ts';

/** Docker's default hostname is the first 12 hex characters of the container id. */
const CONTAINER_HOSTNAME = /^[0-9a-f]{12,64}$/;
/** `/var/lib/docker/containers/<id>/hostname` (and hosts, resolv.conf) are bind-mounted into every container. */
const CONTAINER_DIR_ID = /\/containers\/([0-9a-f]{64})\//g;
const ANY_FULL_ID = /\b[0-9a-f]{64}\b/g;
/** Where Docker binds a container's own hostname, hosts and resolv.conf (mountinfo's fifth field). */
const OWN_MOUNT_POINTS = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

/**
 * Pure: the networks of Gatehouse's own container, or null when it is not one of `containers`
 * (Gatehouse runs outside Docker, or under a custom hostname with no recognisable mount).
 * The hostname is tried first; `mountinfoText` (from /proc/self/mountinfo) covers `--hostname`.
 */
export function findSelfNetworks(
  containers: readonly ContainerSnapshot[],
  hostname: string = os.hostname(),
  mountinfoText?: string,
): string[] | null {
  const self = findSelf(containers, hostname, mountinfoText);
  return self ? Object.keys(self.networks).sort() : null;
}

/** The addresses of Gatehouse's own container (found as above); empty when it runs outside Docker. */
export function findSelfAddresses(containers: readonly ContainerSnapshot[], hostname: string = os.hostname(), mountinfoText?: string): string[] {
  const self = findSelf(containers, hostname, mountinfoText);
  return self ? Object.values(self.networks).filter((address) => address !== '').sort() : [];
}

export /** Gatehouse's own container among `containers`, found as findSelfNetworks explains. */
function findSelf(containers: readonly ContainerSnapshot[], hostname: string, mountinfoText: string | undefined): ContainerSnapshot | undefined {
  const lowered = hostname.toLowerCase();
  if (CONTAINER_HOSTNAME.test(lowered)) {
    const byHostname = containers.find((container) => container.id.startsWith(lowered));
    if (byHostname) return byHostname;
  }
  if (!mountinfoText) return undefined;
  // Only the files Docker binds into a container's own /etc count: a process on the host sees
  // other containers' mounts too (their secrets and shm, by mount propagation), which name them,
  // not this process. Overlay layer ids are 64 hex characters too, so only listed ids count.
  const ownMounts = mountinfoText
    .split('\n')
    .filter((line) => OWN_MOUNT_POINTS.has(line.split(' ')[4] ?? ''))
    .join('\n');
  const byId = new Map(containers.map((container) => [container.id, container]));
  const candidates = [
    ...Array.from(ownMounts.matchAll(CONTAINER_DIR_ID), (match) => match[1]),
    ...Array.from(ownMounts.matchAll(ANY_FULL_ID), (match) => match[0]),
  ];
  for (const id of candidates) {
    const container = id === undefined ? undefined : byId.get(id);
    if (container) return container;
  }
  return undefined;
}

/** The text of /proc/self/mountinfo, or undefined where there is none (not Linux, restricted /proc). */
export async function readSelfMountinfo(path = '/proc/self/mountinfo'): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Impure wrapper: finds Gatehouse's own networks using this process's hostname and mountinfo. */
export async function readSelfNetworks(containers: readonly ContainerSnapshot[]): Promise<string[] | null> {
  return findSelfNetworks(containers, os.hostname(), await readSelfMountinfo());
}
