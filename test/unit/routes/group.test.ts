import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translateContainers } from '../../../src/labels/index.ts';
import { buildRouteTable, type Route, type RouteSpec } from '../../../src/routes/index.ts';
import { mergeGroup } from '../../../src/routes/group.ts';
import { container, listing, OPTIONS } from '../labels/containers.ts';

/**
 * A route takes its spec's parts as they are when the translator made them frozen and canonical
 * (labels/route-spec.ts, routes/copies.ts): a one-member route copies nothing but the route
 * object and its two one-element lists. The table must be exactly the one copies would give.
 */

function translated(labels: Record<string, string>, overrides: Parameters<typeof container>[0] = {}): RouteSpec {
  const result = translateContainers(listing([container({ labels, ...overrides })]), OPTIONS);
  expect(result.issues).toEqual([]);
  return result.specs[0] as RouteSpec;
}

/** The spec as plain unfrozen data in the same key order: what a routes file or a test hands the builder. */
const thawed = (spec: RouteSpec): RouteSpec => JSON.parse(JSON.stringify(spec)) as RouteSpec;

describe('mergeGroup with a translated spec', () => {
  const labels = {
    'iap.from': 'https://app.example.com, https://alias.example.com',
    'iap.allow': 'ann@example.com, @example.org, group:ops',
    'iap.bypass': 'GET /healthz',
    'iap.host': 'wiki.internal',
    'iap.mfa': 'true',
    'iap.response_header.X-Frame-Options': 'DENY',
    'iap.header.X-User': '{email}',
  };

  it('takes every part of a one-member route by identity', () => {
    const spec = translated(labels);
    const route = mergeGroup('container:c0ffee000001/default', [spec]).route;
    expect(route.policy).toBe(spec.policy);
    expect(route.hosts).toBe(spec.hosts);
    expect(route.upstreams[0]).toBe(spec.upstream);
    expect(route.sources[0]).toBe(spec.source);
    expect(route.display).toBe(spec.display);
    expect(route.access).toBe(spec.access);
    expect(route.oidc).toBe(spec.oidc);
    expect(route.hostHeader).toBe(spec.hostHeader);
    expect(route.responseHeaders).toBe(spec.responseHeaders);
    expect(route.setHeaders).toBe(spec.setHeaders);
    expect(route.removeHeaders).toBe(spec.removeHeaders);
  });

  it('copies every part of the same spec thawed, into the same JSON', () => {
    const spec = translated(labels);
    const copy = thawed(spec);
    const shared = mergeGroup('container:c0ffee000001/default', [spec]).route;
    const copied = mergeGroup('container:c0ffee000001/default', [copy]).route;
    for (const part of ['policy', 'hosts', 'display', 'access', 'hostHeader', 'responseHeaders', 'setHeaders'] as const) {
      expect(copied[part], part).not.toBe(copy[part]);
    }
    expect(copied.upstreams[0]).not.toBe(copy.upstream);
    expect(copied.sources[0]).not.toBe(copy.source);
    expect(JSON.stringify(copied)).toBe(JSON.stringify(shared));
  });

  it('copies a part made mutable after translation, whatever is frozen around it', () => {
    const spec = translated(labels);
    const allow = [...spec.policy.allow];
    const opened: RouteSpec = { ...spec, policy: Object.freeze({ ...spec.policy, allow }) };
    const route = mergeGroup('container:c0ffee000001/default', [opened]).route;
    expect(route.policy).not.toBe(opened.policy);
    expect(route.policy.allow).not.toBe(allow);
    expect(Object.isFrozen(route.policy.allow)).toBe(true);
    allow.push({ kind: 'any' });
    expect(route.policy.allow).toHaveLength(3);
  });
});

const GOLDEN = join(import.meta.dirname, '../../golden/labels');

/** Every golden case's containers, translated: labels of every key, hostile values among them. */
function goldenSpecs(): RouteSpec[] {
  const specs: RouteSpec[] = [];
  for (const name of readdirSync(GOLDEN).sort()) {
    const file = join(GOLDEN, name, 'labels.json');
    if (!existsSync(file)) continue;
    const input = JSON.parse(readFileSync(file, 'utf8')) as { labels?: Record<string, string>; containers?: { labels: Record<string, string> }[] };
    const inputs = input.containers ?? [{ labels: input.labels ?? {} }];
    const containers = inputs.map((c, i) => container({ id: `${name}-${i}`, name: `${name}-${i}`, created: 1_700_000_000 + specs.length + i, ...c }));
    specs.push(...translateContainers(listing(containers), { ...OPTIONS, checkSecret: () => null }).specs);
  }
  return specs;
}

describe('a table of translated specs', () => {
  it('is the table of the same specs thawed, byte for byte, frozen all the way down', () => {
    const specs = goldenSpecs();
    expect(specs.length).toBeGreaterThan(40);
    const table = buildRouteTable(specs, []);
    const copied = buildRouteTable(specs.map(thawed), []);
    expect(table.fingerprint).toBe(copied.fingerprint);
    expect(JSON.stringify(table.routes)).toBe(JSON.stringify(copied.routes));
    const shared = table.routes.filter((route: Route) => specs.some((spec) => spec.policy === route.policy));
    expect(shared.length).toBeGreaterThan(0);
    for (const route of table.routes) expect(isDeepFrozen(route)).toBe(true);
  });
});

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}
