import type { ContainerSnapshot, DockerListing } from '../../../src/docker/snapshot.ts';

/** A running container on one network with one exposed port, overridable field by field. */
export function container(overrides: Partial<ContainerSnapshot> & { labels?: Record<string, string> } = {}): ContainerSnapshot {
  return {
    id: 'c0ffee000001',
    name: 'app',
    labels: {},
    imageLabels: {},
    state: 'running',
    health: 'none',
    created: 1_700_000_000,
    networks: { proxy: '172.18.0.5' },
    networkMode: 'proxy',
    exposedPorts: [80],
    ...overrides,
  };
}

export function listing(containers: ContainerSnapshot[], selfNetworks: string[] | null = ['proxy']): DockerListing {
  return { containers, selfNetworks };
}

export const OPTIONS = { prefix: 'iap', dockerNetwork: undefined } as const;
