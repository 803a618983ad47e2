import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../../src/errors.ts';
import { findSelfNetworks, parseDockerHost, toSnapshot, type ContainerListEntry, type ContainerSnapshot } from '../../../src/docker/index.ts';
import { ContainerSnapshot as ContainerSnapshotSchema } from '../../../src/docker/snapshot.ts';

const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);
/** Captured with `curl --unix-socket /var/run/docker.sock http://localhost/containers/json` from Docker 20.10 (API 1.41). */
const load = (name: string) => JSON.parse(readFileSync(fixture(name), 'utf8')) as ContainerListEntry[];
const starting = load('containers-json-engine-20.10-starting.json');
const byName = (entries: ContainerListEntry[], suffix: string) => {
  const entry = entries.find((candidate) => candidate.Names[0]?.endsWith(suffix));
  if (!entry) throw new Error(`fixture has no container ending in ${suffix}`);
  return entry;
};

describe('toSnapshot on real Docker 20.10 list entries', () => {
  it('reads a bridge container with a published and an exposed port, labels and a passing health check', () => {
    expect(toSnapshot(byName(starting, '-health'))).toEqual({
      id: '1fa09dc18bd6d877d638fa63a3d03a11f155f8ebab62850aeef399a25d7b25c4',
      name: 'gh-cap-10301-health',
      imageLabels: null,
      labels: { 'iap.host': 'app.example.test' },
      state: 'running',
      health: 'healthy',
      created: 1795444537,
      networks: { bridge: '172.17.0.2' },
      networkMode: 'default',
      // 80 is listed twice (IPv4 and IPv6 bindings) and 8080 only exposed: unique and sorted.
      exposedPorts: [80, 8080],
    });
  });

  it('reads a container on two user networks, each with its own address', () => {
    const snapshot = toSnapshot(byName(starting, '-multi'));
    expect(snapshot.networks).toEqual({ 'gh-cap-10301-back': '172.19.0.2', 'gh-cap-10301-front': '172.18.0.2' });
    expect(snapshot.networkMode).toBe('gh-cap-10301-front');
    expect(snapshot.labels).toEqual({ 'com.docker.compose.project': 'demo' });
    expect(snapshot.health).toBe('none');
    expect(snapshot.exposedPorts).toEqual([]);
  });

  it('reads a host-network container (no address)', () => {
    const snapshot = toSnapshot(byName(starting, '-host'));
    expect(snapshot.networkMode).toBe('host');
    expect(snapshot.networks).toEqual({ host: '' });
    expect(snapshot.health).toBe('none');
  });

  it('takes health from the Status text: starting, unhealthy, and none when paused', () => {
    expect(byName(starting, '-unhealthy').Status).toBe('Up Less than a second (health: starting)');
    expect(toSnapshot(byName(starting, '-unhealthy')).health).toBe('starting');
    const [unhealthy] = load('containers-json-engine-20.10-unhealthy.json');
    expect(unhealthy?.Status).toBe('Up 4 seconds (unhealthy)');
    expect(toSnapshot(unhealthy!).health).toBe('unhealthy');
    const [paused] = load('containers-json-engine-20.10-paused.json');
    expect(paused?.Status).toMatch(/\(Paused\)$/);
    expect(toSnapshot(paused!)).toMatchObject({ state: 'paused', health: 'none' });
  });

  it('produces values that satisfy the ContainerSnapshot schema, frozen', () => {
    for (const entry of starting) {
      const snapshot = toSnapshot(entry);
      expect(ContainerSnapshotSchema.parse(snapshot)).toEqual(snapshot);
      expect(Object.isFrozen(snapshot)).toBe(true);
      expect(Object.isFrozen(snapshot.labels)).toBe(true);
    }
  });
});

describe('toSnapshot on an API ≥ 1.52 entry with a Health object', () => {
  const modern = {
    ...byName(starting, '-health'),
    Names: ['/web'],
    Status: 'Up 2 minutes (healthy)',
    Health: { Status: 'unhealthy', FailingStreak: 3 },
  } as ContainerListEntry;

  it('prefers the Health object over the Status text', () => {
    expect(toSnapshot(modern).health).toBe('unhealthy');
    expect(toSnapshot({ ...modern, Health: { Status: 'starting' }, Status: 'Up 1 second' }).health).toBe('starting');
    expect(toSnapshot({ ...modern, Health: { Status: 'none' }, Status: 'Up 1 second' }).health).toBe('none');
  });

  it('falls back to the Status text when the object is missing or unknown', () => {
    expect(toSnapshot({ ...modern, Health: null }).health).toBe('healthy');
    expect(toSnapshot({ ...modern, Health: { Status: 'something-new' } }).health).toBe('healthy');
  });
});

describe('toSnapshot on incomplete entries', () => {
  it('uses the name with a single slash when legacy links add aliases', () => {
    const entry = { ...byName(starting, '-multi'), Names: ['/web/db', '/db'] };
    expect(toSnapshot(entry).name).toBe('db');
  });

  it('tolerates missing optional parts and keeps only TCP ports', () => {
    const entry = {
      Id: 'a'.repeat(64),
      Names: ['/bare'],
      State: 'running',
      Status: 'Up 1 second',
      Created: 1,
      Labels: null,
      Ports: [
        { PrivatePort: 53, Type: 'udp' },
        { PrivatePort: 8080, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' },
      ],
      HostConfig: undefined,
      NetworkSettings: { Networks: null },
    } as unknown as ContainerListEntry;
    expect(toSnapshot(entry)).toMatchObject({ labels: {}, networks: {}, networkMode: '', exposedPorts: [443, 8080] });
  });

  it('throws for an entry without an id, so the caller can skip it', () => {
    expect(() => toSnapshot({ Names: ['/ghost'] } as unknown as ContainerListEntry)).toThrow(/without an Id.*ghost/);
  });
});

describe('findSelfNetworks', () => {
  const containers: ContainerSnapshot[] = starting.map((entry) => toSnapshot(entry));
  const multi = byName(starting, '-multi');
  /** /proc/self/mountinfo read inside the "-multi" container, and on the Docker host itself. */
  const inContainer = readFileSync(fixture('mountinfo-container.txt'), 'utf8');
  const onHost = readFileSync(fixture('mountinfo-host.txt'), 'utf8');

  it("finds Gatehouse's container by Docker's default hostname (the 12-character id)", () => {
    expect(findSelfNetworks(containers, multi.Id.slice(0, 12))).toEqual(['gh-cap-10301-back', 'gh-cap-10301-front']);
  });

  it('falls back to the container id in /proc/self/mountinfo when the hostname was changed', () => {
    expect(inContainer).toContain(multi.Id);
    expect(findSelfNetworks(containers, 'gatehouse', inContainer)).toEqual(['gh-cap-10301-back', 'gh-cap-10301-front']);
  });

  it('returns null outside Docker, even though the host mountinfo holds 64-hex overlay ids', () => {
    expect(onHost).toMatch(/\b[0-9a-f]{64}\b/);
    expect(findSelfNetworks(containers, 'vm', onHost)).toBeNull();
    expect(findSelfNetworks(containers, 'vm')).toBeNull();
  });

  it('is not misled on the host by the mounts of other containers (their secrets and shm, seen by propagation)', () => {
    const others = [
      `501 44 0:90 / /var/lib/docker/containers/${multi.Id}/mounts/secrets rw,relatime shared:40 - tmpfs tmpfs rw`,
      `502 44 0:91 / /var/lib/docker/containers/${multi.Id}/mounts/shm rw,nosuid shared:41 - tmpfs shm rw,size=65536k`,
    ].join('\n');
    expect(findSelfNetworks(containers, 'vm', `${onHost}\n${others}\n`)).toBeNull();
  });

    it('does not treat a short hex hostname as a container id prefix', () => {
    expect(findSelfNetworks(containers, 'da81')).toBeNull();
  });

  it('returns null when the own container is not in the list (e.g. the list is filtered)', () => {
    const others = containers.filter((container) => container.id !== multi.Id);
    expect(findSelfNetworks(others, multi.Id.slice(0, 12), inContainer)).toBeNull();
  });
});

describe('parseDockerHost', () => {
  let certDir = '';
  beforeAll(() => {
    certDir = mkdtempSync(path.join(tmpdir(), 'gh-dw-certs-'));
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(certDir, file), `${file} contents`);
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  it('reads a unix socket path and clears any host taken from the environment', () => {
    expect(parseDockerHost('unix:///var/run/docker.sock', {})).toEqual({ socketPath: '/var/run/docker.sock', host: undefined, port: undefined, protocol: 'http' });
  });

  it.each([
    ['tcp://127.0.0.1:2375', { host: '127.0.0.1', port: 2375, protocol: 'http' }],
    ['tcp://docker-proxy', { host: 'docker-proxy', port: 2375, protocol: 'http' }],
    ['http://socket-proxy:2375', { host: 'socket-proxy', port: 2375, protocol: 'http' }],
    ['http://socket-proxy/', { host: 'socket-proxy', port: 80, protocol: 'http' }],
    ['https://docker.example.test:2376', { host: 'docker.example.test', port: 2376, protocol: 'https' }],
    ['tcp://[::1]:2375', { host: '::1', port: 2375, protocol: 'http' }],
  ])('%s', (value, expected) => {
    expect(parseDockerHost(value, {})).toEqual({ socketPath: undefined, ...expected });
  });

  it('uses TLS for tcp:// when DOCKER_TLS_VERIFY is set, with the certificates in DOCKER_CERT_PATH', () => {
    const options = parseDockerHost('tcp://docker.example.test', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir });
    expect(options).toMatchObject({ host: 'docker.example.test', port: 2376, protocol: 'https' });
    expect(String(options.ca)).toBe('ca.pem contents');
    expect(String(options.cert)).toBe('cert.pem contents');
    expect(String(options.key)).toBe('key.pem contents');
  });

  it('ignores DOCKER_TLS_VERIFY=0 and certificates for plain http', () => {
    expect(parseDockerHost('tcp://h:2375', { DOCKER_TLS_VERIFY: '0', DOCKER_CERT_PATH: certDir })).toEqual({ socketPath: undefined, host: 'h', port: 2375, protocol: 'http' });
  });

  it('names DOCKER_CERT_PATH when a certificate is missing', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'gh-dw-nocerts-'));
    try {
      expect(() => parseDockerHost('https://h', { DOCKER_CERT_PATH: empty })).toThrow(/DOCKER_CERT_PATH=.*ca\.pem/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.each([
    ['ssh://user@host', /DOCKER_HOST="ssh:\/\/user@host".*ssh:\/\/ is not supported/],
    ['npipe:////./pipe/docker_engine', /npipe:\/\/ is not supported/],
    ['ftp://host', /ftp:\/\/ is not supported/],
    ['/var/run/docker.sock', /DOCKER_HOST=.*expected unix:\/\/\/path/],
    ['unix://var/run/docker.sock', /absolute path/],
    ['tcp://host:2375/some/prefix', /path after host:port/],
    ['', /DOCKER_HOST=""/],
  ])('rejects %j with CONFIG_INVALID', (value, message) => {
    let caught: unknown;
    try {
      parseDockerHost(value, {});
    } catch (error) {
      caught = error;
    }
    expect(isGatehouseError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});
