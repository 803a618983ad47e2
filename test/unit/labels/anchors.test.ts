import { describe, expect, it } from 'vitest';
import type { ContainerSnapshot } from '../../../src/docker/snapshot.ts';
import { translateContainers } from '../../../src/labels/index.ts';
import { RouteSpec } from '../../../src/routes/spec.ts';
import { NO_POLICY, SPEC_DEFAULTS } from '../../helpers/route-spec.ts';

/**
 * The compose examples of the recommended label schema, as the engine would list them:
 * labels in, the exact route claims out.
 */


function compose(service: string, index: number, id: string, ip: string, rest: Partial<ContainerSnapshot> & { labels: Record<string, string> }): ContainerSnapshot {
  return {
    id,
    name: `nas-${service}-${index}`,
    imageLabels: {},
    state: 'running',
    health: 'none',
    created: 1_750_000_000 + index,
    networks: { nas_iap: ip },
    networkMode: 'nas_iap',
    exposedPorts: [80],
    ...rest,
    labels: { 'com.docker.compose.project': 'nas', 'com.docker.compose.service': service, ...rest.labels },
  };
}

const source = (c: ContainerSnapshot) => ({ kind: 'container', containerId: c.id, containerName: c.name, group: `compose:nas/${c.labels['com.docker.compose.service']}`, created: c.created });
const upstream = (c: ContainerSnapshot, origin: string, ready = true, state = 'running') => ({ origin, containerId: c.id, ready, state, network: 'nas_iap' });

const httpbin = compose('httpbin', 1, 'a1', '172.30.0.2', {
  labels: { 'iap.from': 'https://httpbin.int.nas.example', 'iap.allow': 'alice@example.com' },
});
const codeServer = compose('code-server', 1, 'b1', '172.30.0.3', {
  exposedPorts: [8443, 8080],
  labels: { 'iap.from': 'https://code.int.nas.example', 'iap.port': '8443', 'iap.allow': 'alice@example.com' },
});
const wiki = compose('wiki', 1, 'c1', '172.30.0.4', {
  exposedPorts: [3000],
  labels: {
    'iap.allow': '@example.com',
    'iap.from': 'https://wiki.int.nas.example',
    'iap.admin.from': 'https://wiki.int.nas.example',
    'iap.admin.path': '/admin',
    'iap.admin.allow': 'group:wiki-admins',
  },
});
const minio = compose('minio', 1, 'd1', '172.30.0.5', {
  exposedPorts: [9000],
  labels: {
    'iap.console.from': 'https://minio.int.nas.example',
    'iap.console.port': '9001',
    'iap.console.allow': 'group:nas-admins',
    'iap.s3.from': 'https://s3.int.nas.example',
    'iap.s3.port': '9000',
    'iap.s3.public': 'true',
  },
});
const apiLabels = {
  'iap.from': 'https://api.int.nas.example',
  'iap.port': '8080',
  'iap.allow': 'group:devs, claim:role=ci',
  'iap.bypass': 'GET /healthz',
  'iap.lb': 'least_request',
};
const api = [
  compose('api', 1, 'e1', '172.30.0.11', { exposedPorts: [8080], health: 'healthy', labels: apiLabels }),
  compose('api', 2, 'e2', '172.30.0.12', { exposedPorts: [8080], health: 'starting', labels: apiLabels }),
  compose('api', 3, 'e3', '172.30.0.13', { exposedPorts: [8080], health: 'unhealthy', labels: apiLabels }),
];

const apiSpec = (c: ContainerSnapshot, ready: boolean, state: string) => ({
  ...SPEC_DEFAULTS,
  source: source(c),
  routeName: 'default',
  hosts: ['api.int.nas.example'],
  upstream: upstream(c, `http://${c.networks.nas_iap}:8080`, ready, state),
  policy: { ...NO_POLICY, allow: [{ kind: 'group', group: 'devs' }, { kind: 'claim', claim: 'role', value: 'ci' }], bypass: [{ method: 'GET', path: '/healthz' }] },
  lb: 'least_request',
  display: { name: 'api', icon: null, description: null, group: null },
});

const EXPECTED: [string, ContainerSnapshot[], unknown[]][] = [
  ['httpbin', [httpbin], [{
    ...SPEC_DEFAULTS,
    source: source(httpbin),
    routeName: 'default',
    hosts: ['httpbin.int.nas.example'],
    upstream: upstream(httpbin, 'http://172.30.0.2:80'),
    policy: { ...NO_POLICY, allow: [{ kind: 'email', email: 'alice@example.com' }] },
    display: { name: 'httpbin', icon: null, description: null, group: null },
  }]],
  ['code-server', [codeServer], [{
    ...SPEC_DEFAULTS,
    source: source(codeServer),
    routeName: 'default',
    hosts: ['code.int.nas.example'],
    upstream: upstream(codeServer, 'http://172.30.0.3:8443'),
    policy: { ...NO_POLICY, allow: [{ kind: 'email', email: 'alice@example.com' }] },
    display: { name: 'code-server', icon: null, description: null, group: null },
  }]],
  ['wiki', [wiki], [
    {
      ...SPEC_DEFAULTS,
      source: source(wiki),
      routeName: 'admin',
      hosts: ['wiki.int.nas.example'],
      path: '/admin',
      upstream: upstream(wiki, 'http://172.30.0.4:3000'),
      policy: { ...NO_POLICY, allow: [{ kind: 'group', group: 'wiki-admins' }] },
      display: { name: 'wiki/admin', icon: null, description: null, group: null },
    },
    {
      ...SPEC_DEFAULTS,
      source: source(wiki),
      routeName: 'default',
      hosts: ['wiki.int.nas.example'],
      upstream: upstream(wiki, 'http://172.30.0.4:3000'),
      policy: { ...NO_POLICY, allow: [{ kind: 'domain', domain: 'example.com' }] },
      display: { name: 'wiki', icon: null, description: null, group: null },
    },
  ]],
  ['minio', [minio], [
    {
      ...SPEC_DEFAULTS,
      source: source(minio),
      routeName: 'console',
      hosts: ['minio.int.nas.example'],
      upstream: upstream(minio, 'http://172.30.0.5:9001'),
      policy: { ...NO_POLICY, allow: [{ kind: 'group', group: 'nas-admins' }] },
      display: { name: 'minio/console', icon: null, description: null, group: null },
    },
    {
      ...SPEC_DEFAULTS,
      source: source(minio),
      routeName: 's3',
      hosts: ['s3.int.nas.example'],
      upstream: upstream(minio, 'http://172.30.0.5:9000'),
      policy: { ...NO_POLICY, public: true },
      display: { name: 'minio/s3', icon: null, description: null, group: null },
    },
  ]],
  ['api (three replicas, one group)', api, [
    apiSpec(api[0] as ContainerSnapshot, true, 'healthy'),
    apiSpec(api[1] as ContainerSnapshot, false, 'starting'),
    apiSpec(api[2] as ContainerSnapshot, false, 'unhealthy'),
  ]],
];

describe('anchors label schema examples', () => {
  it.each(EXPECTED)('%s', (_name, containers, expected) => {
    const result = translateContainers({ containers, selfNetworks: ['nas_iap'] }, { prefix: 'iap', dockerNetwork: undefined });
    expect(result.issues).toEqual([]);
    expect(result.specs).toEqual(expected);
    for (const spec of result.specs) expect(RouteSpec.parse(spec)).toEqual(spec);
  });

  it('all examples together: ordered by creation time then id, nothing rejected', () => {
    const all = [minio, api[2], wiki, httpbin, api[0], codeServer, api[1]] as ContainerSnapshot[];
    const result = translateContainers({ containers: all, selfNetworks: ['nas_iap'] }, { prefix: 'iap', dockerNetwork: undefined });
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => `${s.source.kind === 'container' ? s.source.containerName : ''}/${s.routeName}`)).toEqual([
      'nas-httpbin-1/default',
      'nas-code-server-1/default',
      'nas-wiki-1/admin',
      'nas-wiki-1/default',
      'nas-minio-1/console',
      'nas-minio-1/s3',
      'nas-api-1/default',
      'nas-api-2/default',
      'nas-api-3/default',
    ]);
  });
});
