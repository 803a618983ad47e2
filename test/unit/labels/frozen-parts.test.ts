import { describe, expect, it } from 'vitest';
import { translateContainers } from '../../../src/labels/index.ts';
import { copyHosts, copySource, copyUpstream, frozenCanonical, isFrozenCanonical, type RouteSpec } from '../../../src/routes/index.ts';
import { container, listing, OPTIONS } from './containers.ts';

/**
 * The translator builds each part of a spec frozen and in the canonical form the route table
 * holds, so the table takes it as it is (routes/copies.ts). Labels are the trust boundary: a
 * hostile value must not make a part that is mutable or out of canonical order.
 */

/** The record and list parts, held in sorted key order; source, hosts and upstream are checked by the table's own copies. */
const PARTS = ['source', 'policy', 'display', 'access', 'oidc', 'hostHeader', 'wsOrigins', 'responseHeaders', 'setHeaders', 'removeHeaders'] as const;

/** The route table's copies of these give them back as they are (the upstream keeps the table's key order, which is not sorted). */
function expectTakenAsIs(spec: RouteSpec): void {
  expect(copySource(spec.source)).toBe(spec.source);
  expect(copyHosts(spec.hosts)).toBe(spec.hosts);
  expect(copyUpstream(spec.upstream)).toBe(spec.upstream);
}

function specsOf(labelSets: Record<string, string>[]): RouteSpec[] {
  const containers = labelSets.map((labels, i) => container({ id: `c${i}`, name: `app${i}`, created: 1_700_000_000 + i, labels }));
  const result = translateContainers(listing(containers), OPTIONS);
  expect(result.issues).toEqual([]);
  return result.specs;
}

describe('translated parts', () => {
  it('are frozen all the way down and canonical, every one of them', () => {
    const [spec] = specsOf([
      {
        'iap.from': 'https://app.example.com, https://Alias.Example.com',
        'iap.allow': 'Ann@Example.com, @example.org, group:ops, claim:role=admin, user:sub-1, provider:google, ip:10.0.0.0/8, *',
        'iap.deny': 'bob@example.com',
        'iap.bypass': '/share/, GET /healthz',
        'iap.host': 'wiki.internal:8080',
        'iap.ws_origins': 'https://b.example.com, https://a.example.com',
        'iap.providers': 'google',
        'iap.networks': '10.0.0.0/8',
        'iap.max_age': '1h',
        'iap.response_header.X-Frame-Options': 'DENY',
        'iap.response_header.Content-Security-Policy': "default-src 'self'",
        'iap.header.X-User': '{email}',
        'iap.header.A-First': '{user}',
        'iap.oidc.redirect_uris': 'https://app.example.com/cb',
      },
    ]) as [RouteSpec];
    for (const part of PARTS) expect(isFrozenCanonical(spec[part]), part).toBe(true);
    expectTakenAsIs(spec);
    // The keys are the ones a copy would spell, in its order.
    expect(Object.keys(spec.source)).toEqual(['containerId', 'containerName', 'created', 'group', 'kind']);
    expect(Object.keys(spec.upstream)).toEqual(['origin', 'containerId', 'ready', 'state', 'network']);
    expect(spec.upstream.origin).toBe('http://172.18.0.5:80');
    expect(spec.policy.allow.map((entry) => Object.keys(entry))).toEqual([['email', 'kind'], ['domain', 'kind'], ['group', 'kind'], ['claim', 'kind', 'value'], ['kind', 'sub'], ['kind', 'provider'], ['kind', 'network'], ['kind']]);
    expect(Object.keys(spec.setHeaders)).toEqual(['A-First', 'X-User']);
    expect(spec.hosts).toEqual(['app.example.com', 'alias.example.com']);
  });

  it('share equal policy entries and bypass rules among the containers of one translation', () => {
    const specs = specsOf(
      Array.from({ length: 3 }, (_, i) => ({ 'iap.from': `https://app${i}.example.com`, 'iap.allow': `user${i}@example.com, @example.org, group:team`, 'iap.bypass': 'GET /healthz' })),
    );
    const [a, b, c] = specs as [RouteSpec, RouteSpec, RouteSpec];
    expect(b.policy.allow[1]).toBe(a.policy.allow[1]);
    expect(c.policy.allow[2]).toBe(a.policy.allow[2]);
    expect(c.policy.bypass[0]).toBe(a.policy.bypass[0]);
    expect(b.policy.allow[0]).not.toBe(a.policy.allow[0]);
    expect(b.policy.allow[0]).toEqual({ email: 'user1@example.com', kind: 'email' });
  });

  it('give the same spec JSON as a canonical copy of them, whatever the label values', () => {
    const hostile: Record<string, string>[] = [
      { 'iap.from': 'https://a.example.com', 'iap.allow': 'claim:__proto__=x, claim:constructor=y, group:__proto__', 'iap.response_header.__proto__': 'x' },
      { 'iap.from': 'https://b.example.com', 'iap.allow': 'group:\u{1f600}, group:\uff01, user:\u00e9', 'iap.name': '\u212a\u0130 \u{1f600}' },
      { 'iap.from': 'https://xn--bcher-kva.example, https://b\u00fccher.example', 'iap.response_header.Constructor': 'y', 'iap.response_header.toString': 'z' },
    ];
    for (const spec of specsOf(hostile)) {
      for (const part of PARTS) {
        const value = spec[part];
        expect(isFrozenCanonical(value), part).toBe(true);
        expect(JSON.stringify(value), part).toBe(JSON.stringify(frozenCanonical(JSON.parse(JSON.stringify(value)))));
      }
      expectTakenAsIs(spec);
      expect(Object.getPrototypeOf(spec.responseHeaders)).toBe(Object.prototype);
    }
  });

  it('keep a response header named __proto__ as data, not as the record\'s prototype', () => {
    const [spec] = specsOf([{ 'iap.from': 'https://a.example.com', 'iap.response_header.__proto__': 'x' }]) as [RouteSpec];
    expect(Object.keys(spec.responseHeaders)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(spec.responseHeaders)).toBe(Object.prototype);
  });
});
