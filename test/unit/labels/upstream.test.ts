import { describe, expect, it } from 'vitest';
import type { ContainerSnapshot } from '../../../src/docker/snapshot.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import { container, OPTIONS } from './containers.ts';

const FROM = { 'iap.from': 'https://app.example.com', 'iap.allow': '*' };

function run(c: Partial<ContainerSnapshot>, options: { selfNetworks?: string[] | null; dockerNetwork?: string } = {}) {
  return translateContainers(
    { containers: [container({ name: 'wiki', ...c, labels: { ...FROM, ...c.labels } })], selfNetworks: options.selfNetworks === undefined ? ['proxy'] : options.selfNetworks },
    { ...OPTIONS, dockerNetwork: options.dockerNetwork },
  );
}

function origin(result: ReturnType<typeof run>): string[] {
  expect(result.issues).toEqual([]);
  return result.specs.map((s) => s.upstream.origin);
}

function problem(result: ReturnType<typeof run>) {
  expect(result.specs).toEqual([]);
  return result.issues.map(({ code, label, value, message }) => ({ code, label, value, message }));
}

describe('port inference', () => {
  it('uses the only exposed port', () => {
    expect(origin(run({ exposedPorts: [3000] }))).toEqual(['http://172.18.0.5:3000']);
  });

  it('asks for iap.port when several ports are exposed', () => {
    expect(problem(run({ exposedPorts: [80, 443] }))).toEqual([
      { code: 'port', label: 'iap.port', value: null, message: 'container "wiki": set iap.port — it exposes 80, 443' },
    ]);
  });

  it('asks for iap.port when no port is exposed, naming the route', () => {
    expect(problem(run({ exposedPorts: [], labels: { 'iap.admin.path': '/admin' } }))).toEqual([
      { code: 'port', label: 'iap.port', value: null, message: 'container "wiki": set iap.port — it exposes no port' },
      { code: 'port', label: 'iap.admin.port', value: null, message: 'container "wiki": set iap.admin.port — it exposes no port' },
    ]);
  });

  it('an explicit port wins, even one the image does not expose', () => {
    expect(origin(run({ exposedPorts: [80, 443], labels: { 'iap.port': '8443', 'iap.scheme': 'https' } }))).toEqual(['https://172.18.0.5:8443']);
  });
});

describe('network choice', () => {
  const twoNets = { networks: { proxy: '172.18.0.5', backend: '172.19.0.7' } };

  it('iap.network picks the address on that network', () => {
    expect(origin(run({ ...twoNets, labels: { 'iap.network': 'backend' } }))).toEqual(['http://172.19.0.7:80']);
  });

  it('iap.network naming a network the container is not on lists its networks', () => {
    expect(problem(run({ ...twoNets, labels: { 'iap.network': 'frontend' } }))).toEqual([
      { code: 'network', label: 'iap.network', value: 'frontend', message: 'container "wiki": iap.network="frontend": the container is not on that network (it is on: backend, proxy)' },
    ]);
  });

  it('GATEHOUSE_DOCKER_NETWORK is used when the container is on it', () => {
    expect(origin(run(twoNets, { dockerNetwork: 'backend', selfNetworks: ['proxy', 'backend'] }))).toEqual(['http://172.19.0.7:80']);
  });

  it('otherwise the single network shared with Gatehouse', () => {
    expect(origin(run(twoNets, { dockerNetwork: 'elsewhere', selfNetworks: ['backend', 'gatehouse_default'] }))).toEqual(['http://172.19.0.7:80']);
  });

  it('no shared network: lists both sides and what to set', () => {
    expect(problem(run(twoNets, { selfNetworks: ['gatehouse_default'] }))).toEqual([
      {
        code: 'network',
        label: 'iap.network',
        value: null,
        message: "container \"wiki\": shares no network with Gatehouse (container: backend, proxy; Gatehouse: gatehouse_default): attach it to one of Gatehouse's networks, or set iap.network on the container or GATEHOUSE_DOCKER_NETWORK on Gatehouse",
      },
    ]);
  });

  it('several shared networks: refuses to guess', () => {
    expect(problem(run(twoNets, { selfNetworks: ['proxy', 'backend'] }))).toEqual([
      {
        code: 'network',
        label: 'iap.network',
        value: null,
        message: 'container "wiki": shares several networks with Gatehouse (backend, proxy): set iap.network on the container or GATEHOUSE_DOCKER_NETWORK on Gatehouse to choose one',
      },
    ]);
  });

  it('Gatehouse outside Docker: the container’s only network, or an issue when there are several', () => {
    expect(origin(run({}, { selfNetworks: null }))).toEqual(['http://172.18.0.5:80']);
    expect(problem(run(twoNets, { selfNetworks: null }))[0]?.message).toBe(
      'container "wiki": is on several networks (backend, proxy): set iap.network on the container or GATEHOUSE_DOCKER_NETWORK on Gatehouse to choose one',
    );
  });

  it('host networking needs iap.to; 127.0.0.1 is never assumed', () => {
    const host = { networkMode: 'host', networks: { host: '' } };
    expect(problem(run(host))).toEqual([
      {
        code: 'network',
        label: 'iap.to',
        value: null,
        message: 'container "wiki": uses the host network, so it has no container address: set iap.to to an address of the Docker host, such as http://192.168.1.10:8080',
      },
    ]);
    expect(origin(run({ ...host, labels: { 'iap.to': 'http://192.168.1.10:8080' } }))).toEqual(['http://192.168.1.10:8080']);
  });

  it('a container on no network (network mode none or another container’s) is reported', () => {
    expect(problem(run({ networkMode: 'none', networks: {} }))[0]?.message).toBe(
      'container "wiki": is attached to no network Gatehouse can see (network mode "none"): attach it to a network shared with Gatehouse, or set iap.to',
    );
  });

  it('an address the engine has not assigned yet is reported', () => {
    expect(problem(run({ networks: { proxy: '' } }))).toEqual([
      { code: 'network', label: 'iap.network', value: null, message: 'container "wiki": has no IP address on network "proxy" yet' },
    ]);
  });

  it('a named route may choose its own network', () => {
    const result = run({ ...twoNets, labels: { 'iap.network': 'proxy', 'iap.db.path': '/db', 'iap.db.network': 'backend' } });
    expect(result.specs.map((s) => [s.routeName, s.upstream.origin])).toEqual([
      ['db', 'http://172.19.0.7:80'],
      ['default', 'http://172.18.0.5:80'],
    ]);
  });

  it('network and port problems of one route are reported together', () => {
    expect(problem(run({ exposedPorts: [1, 2], networks: { proxy: '' } })).map((p) => p.code)).toEqual(['network', 'port']);
  });
});

describe('health → readiness', () => {
  /** [Docker health, iap.health, ready, state]. */
  const CASES: [ContainerSnapshot['health'], string | undefined, boolean, string][] = [
    ['none', undefined, true, 'running'],
    ['healthy', undefined, true, 'healthy'],
    ['starting', undefined, false, 'starting'],
    ['unhealthy', 'docker', false, 'unhealthy'],
    ['unhealthy', 'off', true, 'running'],
    ['starting', 'off', true, 'running'],
  ];
  it.each(CASES)('health %s with iap.health=%s → ready %s (%s)', (health, key, ready, state) => {
    const result = run({ health, labels: key === undefined ? {} : { 'iap.health': key } });
    expect(result.specs.map((s) => s.upstream)).toEqual([{ origin: 'http://172.18.0.5:80', containerId: 'c0ffee000001', ready, state, network: 'proxy' }]);
  });

  it('applies to iap.to upstreams too, which keep the container id', () => {
    const result = run({ health: 'starting', labels: { 'iap.to': 'http://10.0.0.9:81' } });
    expect(result.specs[0]?.upstream).toEqual({ origin: 'http://10.0.0.9:81', containerId: 'c0ffee000001', ready: false, state: 'starting' });
  });
});

describe('replica groups', () => {
  const group = (labels: Record<string, string>) => {
    const spec = run({ labels })?.specs[0];
    return spec?.source.kind === 'container' ? spec.source.group : null;
  };
  it('Compose project + service', () => {
    expect(group({ 'com.docker.compose.project': 'stack', 'com.docker.compose.service': 'api' })).toBe('compose:stack/api');
  });
  it('Swarm service first', () => {
    expect(group({ 'com.docker.swarm.service.id': 'svc123', 'com.docker.compose.project': 'stack', 'com.docker.compose.service': 'api' })).toBe('swarm:svc123');
  });
  it('else the container alone', () => {
    expect(group({ 'com.docker.compose.project': 'stack' })).toBe('container:c0ffee000001');
  });
});
