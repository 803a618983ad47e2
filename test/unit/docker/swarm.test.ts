import { describe, expect, it } from 'vitest';
import { taskSnapshots, taskState, type SwarmListing } from '../../../src/docker/swarm.ts';
import { ownerOf, replicaGroup } from '../../../src/labels/index.ts';

const service = {
  ID: 'svc1',
  CreatedAt: '2026-12-05T10:00:00.000Z',
  Spec: {
    Name: 'shop_web',
    Labels: { 'iap.from': 'http://shop.example', 'com.docker.stack.namespace': 'shop', 'com.docker.swarm.service.id': 'forged' },
    EndpointSpec: { Ports: [{ TargetPort: 8080, Protocol: 'tcp' }, { TargetPort: 53, Protocol: 'udp' }] },
  },
};

const task = (id: string, slot: number, state: string, desired = 'running') => ({
  ID: id,
  ServiceID: 'svc1',
  Slot: slot,
  DesiredState: desired,
  Status: { State: state },
  NetworksAttachments: [
    { Network: { Spec: { Name: 'ingress' } }, Addresses: ['10.0.0.5/24'] },
    { Network: { Spec: { Name: 'shop_default' } }, Addresses: [`10.0.1.${slot}/24`] },
  ],
});

describe('Swarm tasks as snapshots', () => {
  it('labels each task wanted running with its service labels, on its overlay address', () => {
    const listing: SwarmListing = { services: [service], tasks: [task('t1', 1, 'running'), task('t2', 2, 'starting'), task('old', 1, 'shutdown', 'shutdown')] };
    const [first, second, ...rest] = taskSnapshots(listing);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      id: 't1',
      name: 'shop_web.1',
      state: 'running',
      health: 'none',
      networks: { shop_default: '10.0.1.1' },
      networkMode: 'shop_default',
      exposedPorts: [8080],
      imageLabels: {},
      created: Date.parse('2026-12-05T10:00:00.000Z') / 1000,
    });
    expect(first!.labels['iap.from']).toBe('http://shop.example');
    // A service label cannot claim another service's identity.
    expect(first!.labels['com.docker.swarm.service.id']).toBe('svc1');
    expect(second).toMatchObject({ id: 't2', state: 'running', health: 'starting' });
    // Both tasks are one upstream group, owned by the stack.
    expect(replicaGroup(first!)).toBe(replicaGroup(second!));
    expect(ownerOf(first!)).toEqual({ kind: 'stack', namespace: 'shop' });
  });

  it('skips tasks of unknown services and tasks without an id', () => {
    expect(taskSnapshots({ services: [service], tasks: [{ ...task('t9', 1, 'running'), ServiceID: 'gone' }, { ...task('t1', 1, 'running'), ID: undefined }] })).toEqual([]);
  });

  it.each([
    ['running', 'running', 'none'],
    ['starting', 'running', 'starting'],
    ['preparing', 'created', 'none'],
    ['pending', 'created', 'none'],
    ['failed', 'exited', 'none'],
    ['shutdown', 'exited', 'none'],
    ['rejected', 'exited', 'none'],
    [undefined, 'exited', 'none'],
  ])('task state %s is a %s container (health %s)', (state, container, health) => {
    expect(taskState(state)).toEqual({ state: container, health });
  });
});
