import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { publishedPorts } from '../../../src/docker/index.ts';
import { toListing } from '../../../src/docker/listing.ts';
import type { ContainerListEntry } from '../../../src/docker/to-snapshot.ts';

const ID = 'a'.repeat(64);
const entry = (ports: ContainerListEntry['Ports'], id = ID): ContainerListEntry =>
  ({
    Id: id,
    Names: ['/web'],
    Labels: { 'com.docker.compose.project': 'media' },
    State: 'running',
    Status: 'Up 1 minute',
    Created: 1_000,
    Ports: ports,
    HostConfig: { NetworkMode: 'media_default' },
    NetworkSettings: { Networks: { media_default: { IPAddress: '172.18.0.5', NetworkID: 'net-media' } } },
  }) as unknown as ContainerListEntry;
const silent = pino({ level: 'silent' });

describe('publishedPorts', () => {
  it('keeps TCP ports published on every interface or on the engine address, the lowest host port first', () => {
    const ports = publishedPorts(
      entry([
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8081, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 9000, PublicPort: 9000, Type: 'tcp' },
        { IP: '10.0.0.5', PrivatePort: 9001, PublicPort: 19001, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 53, PublicPort: 53, Type: 'udp' },
        { PrivatePort: 443, Type: 'tcp' } as never,
      ]),
      '10.0.0.5',
    );
    expect(ports).toEqual({ '80': 8080, '9001': 19001 });
  });
});

describe('toListing for several engines', () => {
  it('marks the local engine’s containers with its name and keeps their ids and networks', () => {
    const listing = toListing([entry([])], silent, undefined, null, null, { name: 'nas', address: null });
    expect(listing.containers[0]).toMatchObject({ id: ID, engine: 'nas', networks: { media_default: '172.18.0.5' } });
    expect(listing.containers[0]?.remote).toBeUndefined();
  });

  it('gives a remote engine’s containers an id of their own and the address of their machine', () => {
    const listing = toListing([entry([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }])], silent, undefined, null, null, { name: 'pi', address: '10.0.0.5' });
    expect(listing.containers[0]).toMatchObject({ id: `pi/${ID}`, engine: 'pi', remote: { address: '10.0.0.5', ports: { '80': 8080 } } });
  });

  it('never takes Gatehouse’s own networks from a remote engine, whatever its containers claim to be', () => {
    const mountinfo = `1 2 0:1 / /etc/hostname rw - ext4 /dev/sda /var/lib/docker/containers/${ID}/hostname\n`;
    const local = toListing([entry([])], silent, mountinfo, null, null, { name: 'nas', address: null });
    expect(local.selfNetworks).toEqual(['media_default']);
    expect(local.selfNetworkIds).toEqual(['net-media']);
    expect(local.containers[0]?.networkIds).toEqual({ media_default: 'net-media' });
    const remote = toListing([entry([])], silent, mountinfo, null, null, { name: 'pi', address: '10.0.0.5' });
    expect(remote.selfNetworks).toBeNull();
    expect(remote.selfAddresses).toEqual([]);
    expect(remote.selfNetworkIds ?? []).toEqual([]);
  });
});
