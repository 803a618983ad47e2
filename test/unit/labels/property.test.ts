import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContainerSnapshot } from '../../../src/docker/snapshot.ts';
import { translateContainers, VALUE_KEYS, type ValueKey } from '../../../src/labels/index.ts';
import { RouteIssue, RouteSpec } from '../../../src/routes/spec.ts';

/** Marks values that must never show up in an issue. */
const MARK = 'S3CRETMARK';

const routeSegment = fc.constantFrom(null, null, null, 'admin', 'api', 's3', 'x-1', 'Bad', 'default', 'path', '', 'a.b');
const key = fc.oneof(
  fc.constantFrom(...VALUE_KEYS),
  fc.constantFrom('from', 'from', 'allow', 'port'),
  fc.constantFrom('header.X-User', 'header.Authorization', 'header.Host', 'header.x_iap_user', 'header.X(Bad)', 'header'),
  fc.constantFrom('alow', 'pubilc', 'form', 'headers.X-A', 'from.x', 'websocket', ''),
  fc.string({ maxLength: 8 }),
);
const validValue = fc.constantFrom(
  'https://a.example.com',
  'http://b.example.com, http://c.example.com',
  '/admin',
  '/api/',
  'true',
  'no',
  '8080',
  '443',
  'http://10.0.0.1:8080',
  'proxy',
  'backend',
  'alice@example.com, group:x, claim:role=admin',
  '@example.com',
  '*',
  'GET /healthz, /share/',
  '30s',
  '0',
  'jwt',
  'headers',
  'preserve',
  'upstream',
  'round_robin',
  'least_request',
  'docker',
  'off',
  'https',
  'Wiki',
);
const junkValue = fc.oneof(
  fc.constantFrom('', ' ', '80a', 'http://127.0.0.1', 'http://[::1]:80', 'http://169.254.169.254', 'bob', 'a@b@c', '/a%2fb', '/../x?y', 'h2c', 'sticky', '1e3', 'ftp://x'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const secretValue = fc.constantFrom(`${MARK}-plain`, `secret:${MARK}`, `secret:${MARK} bad`, `{email}-${MARK}`, `${MARK}\r\nX: y`);

const label = fc.record({ route: routeSegment, key, value: fc.oneof(validValue, validValue, junkValue) });

/** Values each key accepts, so that some generated containers are fully valid. */
const VALID_BY_KEY: Record<ValueKey, string[]> = {
  from: ['https://a.example.com', 'http://B.example.com, http://c.example.com'],
  path: ['/', '/admin/', '/a/./b', '/%7Eu'],
  strip_path: ['true', 'off'],
  port: ['80', '8080'],
  scheme: ['http', 'HTTPS'],
  to: ['http://10.0.0.1:8080', 'https://nas.lan'],
  network: ['proxy'],
  allow: ['alice@example.com, group:x', '@example.com', '*', ''],
  deny: ['claim:role=guest', 'user:42'],
  public: ['yes', 'false'],
  bypass: ['GET /healthz, /share/', ''],
  cors_preflight: ['1'],
  identity: ['headers', 'jwt', 'none'],
  host: ['preserve', 'upstream', 'wiki.internal:8080'],
  websockets: ['false'],
  timeout: ['60s', '0'],
  idle_timeout: ['5m', '0'],
  tls_skip_verify: ['true'],
  basic_auth: ['true', 'no'],
  bearer: ['yes'],
  health: ['docker', 'off'],
  lb: ['round_robin', 'least_request'],
  name: ['Wiki'],
  icon: ['wikijs'],
  description: ['Team wiki'],
  ws_origins: ['https://a.example.com, http://b.example.com:8080', ''],
  enable: ['true', 'false'],
  providers: ['google, local', 'corp'],
  mfa: ['required', 'off'],
  max_age: ['12h', '0'],
  networks: ['192.168.1.0/24, fd00::/8', '10.0.0.5'],
  trusted_networks: ['192.168.1.0/24'],
  mode: ['proxy', 'forward_auth'],
  group: ['Media'],
  'oidc.redirect_uris': ['https://app.example.com/oauth/callback'],
  'oidc.client_id': ['app'],
  'oidc.client_secret': ['secret:app-oidc'],
  response_header: ['DENY'],
  hsts: ['true'],
  redirect: ['https://new.example.com'],
};
const plausibleLabel = fc
  .record({ route: fc.constantFrom(null, 'admin', 'api'), key: fc.constantFrom(...VALUE_KEYS), pick: fc.nat() })
  .map(({ route, key, pick }) => ({ route, key: key as string, value: VALID_BY_KEY[key][pick % VALID_BY_KEY[key].length] as string }));

function labelSet(prefix: string) {
  const plausible = fc.tuple(fc.array(plausibleLabel, { maxLength: 6 }), fc.constant<string[]>([]));
  const noisy = fc.tuple(fc.array(label, { maxLength: 10 }), fc.array(secretValue, { maxLength: 2 }));
  return fc
    .tuple(fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 1, arbitrary: noisy }), fc.boolean(), fc.boolean())
    .map(([[items, secrets], withoutFrom, otherLabels]) => {
      const labels: Record<string, string> = {};
      if (!withoutFrom || items.length % 2 === 0) labels[`${prefix}.from`] = 'https://app.example.com';
      for (const item of items) {
        const name = item.route === null ? `${prefix}.${item.key}` : `${prefix}.${item.route}.${item.key}`;
        labels[name] = item.key.startsWith('header') ? `${MARK}-${item.value}` : item.value;
      }
      secrets.forEach((value, i) => (labels[`${prefix}.header.X-Secret-${i}`] = value));
      if (otherLabels) labels['com.docker.compose.project'] = 'stack';
      return labels;
    });
}

const containerArb = (prefix: string, index: number) =>
  fc.record({
    labels: labelSet(prefix),
    state: fc.constantFrom('running', 'running', 'running', 'running', 'paused', 'exited', 'restarting'),
    health: fc.constantFrom<ContainerSnapshot['health'][]>('none', 'starting', 'healthy', 'unhealthy'),
    created: fc.integer({ min: 0, max: 5 }),
    networks: fc.oneof(
      fc.constant<Record<string, string>>({ proxy: '172.18.0.5' }),
      fc.dictionary(fc.constantFrom('proxy', 'backend', 'other'), fc.constantFrom('172.18.0.5', '172.19.0.6', ''), { maxKeys: 3 }),
    ),
    networkMode: fc.constantFrom('proxy', 'proxy', 'host', 'none', 'bridge'),
    exposedPorts: fc.oneof(fc.constant<number[]>([80]), fc.uniqueArray(fc.constantFrom(80, 443, 8080), { maxLength: 3 }).map((p) => p.sort((a, b) => a - b))),
  }).map((c): ContainerSnapshot => ({ ...c, imageLabels: {}, id: `id${index}`, name: `box${index}` }));

const scenario = fc.constantFrom('iap', 'com.example.iap').chain((prefix) =>
  fc.record({
    prefix: fc.constant(prefix),
    containers: fc.tuple(containerArb(prefix, 0), containerArb(prefix, 1), containerArb(prefix, 2)),
    selfNetworks: fc.constantFrom(null, ['proxy'], ['proxy'], ['proxy', 'backend'], []),
    dockerNetwork: fc.constantFrom(undefined, 'backend', 'missing'),
  }),
);

describe('translateContainers, for any labels', () => {
  it('never throws; yields valid specs or issues naming the container and label; fails closed', () => {
    let runsWithSpecs = 0;
    fc.assert(
      fc.property(scenario, ({ prefix, containers, selfNetworks, dockerNetwork }) => {
        const result = translateContainers({ containers, selfNetworks }, { prefix, dockerNetwork });
        if (result.specs.length > 0) runsWithSpecs++;
        for (const spec of result.specs) expect(RouteSpec.parse(spec)).toEqual(spec);
        const rejected = new Set<string>();
        for (const issue of result.issues) {
          RouteIssue.parse(issue);
          const source = issue.source;
          if (source.kind !== 'container') throw new Error('container issue expected');
          const c = containers.find((x) => x.id === source.containerId);
          expect(c).toBeDefined();
          expect(issue.message.startsWith(`container "${c?.name}": `)).toBe(true);
          expect(issue.label === prefix || issue.label?.startsWith(`${prefix}.`)).toBe(true);
          expect(issue.message).not.toContain('could not be read');
          rejected.add(source.containerId);
        }
        expect(JSON.stringify(result.issues)).not.toContain(MARK);
        for (const spec of result.specs) {
          const source = spec.source;
          if (source.kind !== 'container') throw new Error('container spec expected');
          expect(rejected.has(source.containerId)).toBe(false);
          const c = containers.find((x) => x.id === source.containerId);
          expect(c?.state).toBe('running');
          expect(spec.hosts.every((h) => h === h.toLowerCase())).toBe(true);
          expect(spec.path.startsWith('/')).toBe(true);
        }
        for (const c of containers) {
          const asksForRoutes = Object.keys(c.labels).some((l) => l.startsWith(`${prefix}.`) && /^[^.]*(\.[^.]*)?$/.test(l.slice(prefix.length + 1)) && l.endsWith('.from'));
          if (c.state === 'running' && asksForRoutes) continue;
          expect(result.issues.filter((i) => i.source.kind === 'container' && i.source.containerId === c.id)).toEqual([]);
          expect(result.specs.filter((s) => s.source.kind === 'container' && s.source.containerId === c.id)).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
    // The generators must reach the success path often enough for the checks above to mean something.
    expect(runsWithSpecs).toBeGreaterThan(40);
  });

  it('the output does not depend on the order the engine listed the containers in', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 5 }), ({ prefix, containers, selfNetworks, dockerNetwork }, rotation) => {
        const options = { prefix, dockerNetwork };
        const rotated = [...containers.slice(rotation % 3), ...containers.slice(0, rotation % 3)].reverse();
        expect(translateContainers({ containers: rotated, selfNetworks }, options)).toEqual(translateContainers({ containers, selfNetworks }, options));
      }),
      { numRuns: 200 },
    );
  });

  // The control loop relies on this to translate only the containers that changed.
  it('translates each container on its own, naming it as the source of everything it yields', () => {
    fc.assert(
      fc.property(scenario, ({ prefix, containers, selfNetworks, dockerNetwork }) => {
        const options = { prefix, dockerNetwork };
        const whole = translateContainers({ containers, selfNetworks }, options);
        const byContainer = containers.map((c) => ({ c, result: translateContainers({ containers: [c], selfNetworks }, options) }));
        for (const { c, result } of byContainer) {
          for (const item of [...result.specs, ...result.issues]) expect(item.source).toMatchObject({ kind: 'container', containerId: c.id });
        }
        const sorted = [...byContainer].sort((x, y) => x.c.created - y.c.created || (x.c.id < y.c.id ? -1 : 1));
        expect(whole).toEqual({ specs: sorted.flatMap((x) => x.result.specs), issues: sorted.flatMap((x) => x.result.issues) });
      }),
      { numRuns: 300 },
    );
  });
});
