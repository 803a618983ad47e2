import { describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../../src/config/routes-file.ts';
import { buildRouteTable, type Route } from '../../../src/routes/index.ts';
import { buildUpstreamHeaders, routeStripNames, type ForwardingFacts } from '../../../src/proxy/headers.ts';
import { upstreamHost, upstreamPath } from '../../../src/proxy/upstream-target.ts';
import { compiledHeaders, renderHeaders, type IdentityValues } from '../../../src/proxy/identity-headers.ts';
import { createBalancer } from '../../../src/proxy/balance.ts';

/** The one route a Pomerium route entry becomes. */
function routeOf(lines: string): Route {
  const parsed = parseRoutesFile(`routes:\n  - from: https://app.example\n    allow_any_authenticated_user: true\n${lines}`, 'config.yaml');
  if (!parsed.ok) throw new Error(parsed.error);
  expect(parsed.result.issues).toEqual([]);
  const table = buildRouteTable(parsed.result.specs, []);
  expect(table.routes).toHaveLength(1);
  return table.routes[0] as Route;
}

const direct: ForwardingFacts = { peerTrusted: false, peerIp: '203.0.113.7', clientIp: '203.0.113.7', scheme: 'https', hostHeader: 'app.example' };
const alice: IdentityValues = { user: 'u-1', email: 'alice@example.com', name: 'Alice', groups: 'admins,staff', jwt: 'pomerium.jwt.here', claims: { given_name: 'Alice', tier: [1, 2] } };
const noSecret = () => null;

describe('client-sent X-Pomerium-* headers', () => {
  it.each([['x-pomerium-jwt-assertion'], ['x-pomerium-claim-email'], ['X_Pomerium_Claim_Email'], ['x.pomerium.claim.groups']])(
    'drops %s on every route, label routes included',
    (name) => {
      const out = buildUpstreamHeaders({ [name]: 'forged', accept: 'text/html' }, { forwarding: direct, host: 'app.example', strip: new Set(), setHeaders: {}, upgrade: false });
      expect(out).toEqual(expect.objectContaining({ accept: 'text/html' }));
      expect(Object.keys(out).filter((n) => n.replace(/[_.]/g, '-').toLowerCase().startsWith('x-pomerium'))).toEqual([]);
    },
  );
});

describe("a Pomerium route's upstream request", () => {
  it('sends the to host as Host by default, the client host with preserve_host_header, a fixed one with host_rewrite', () => {
    const request = { path: '/', headers: {} };
    expect(upstreamHost(routeOf('    to: http://backend.internal:8080\n'), 'http://backend.internal:8080', 'app.example', request)).toBe('backend.internal:8080');
    expect(upstreamHost(routeOf('    to: http://backend:8080\n    preserve_host_header: true\n'), 'http://backend:8080', 'app.example', request)).toBe('app.example');
    expect(upstreamHost(routeOf('    to: http://backend:8080\n    host_rewrite: fixed.example\n'), 'http://backend:8080', 'app.example', request)).toBe('fixed.example');
  });

  it('takes Host from a request header (host_rewrite_header), or from the path (host_path_regex_rewrite_*)', () => {
    const byHeader = routeOf('    to: http://backend:8080\n    host_rewrite_header: X-My-Host\n');
    expect(upstreamHost(byHeader, 'http://backend:8080', 'app.example', { path: '/', headers: { 'x-my-host': 'foo.example.com' } })).toBe('foo.example.com');
    // Absent (or unusable) header: the to host, as without the option.
    expect(upstreamHost(byHeader, 'http://backend:8080', 'app.example', { path: '/', headers: {} })).toBe('backend:8080');
    expect(upstreamHost(byHeader, 'http://backend:8080', 'app.example', { path: '/', headers: { 'x-my-host': 'a\r\nX-Evil: 1' } })).toBe('backend:8080');
    const byPath = routeOf("    to: http://backend:8080\n    host_path_regex_rewrite_pattern: '^/([^/]+)/.+$'\n    host_path_regex_rewrite_substitution: '\\1'\n");
    expect(upstreamHost(byPath, 'http://backend:8080', 'app.example', { path: '/example.com/some/path', headers: {} })).toBe('example.com');
  });

  it.each([
    ['    prefix: /api\n    prefix_rewrite: /v2\n', '/api/items', '/v2/items'],
    ['    prefix: /api/\n    prefix_rewrite: /\n', '/api/items', '/items'],
    ['    path: /old\n    prefix_rewrite: /new\n', '/old', '/new'],
    ["    regex_rewrite_pattern: '^/service/([^/]+)(/.*)$'\n    regex_rewrite_substitution: '\\2/instance/\\1'\n", '/service/foo/v1/api', '/v1/api/instance/foo'],
    ['    prefix: /app\n', '/apple', '/apple'],
  ])('rewrites the path: %j, %s → %s', (lines, path, expected) => {
    expect(upstreamPath(routeOf(`    to: http://backend:8080\n${lines}`), path)).toBe(expected);
  });

  it('refuses websockets unless allow_websockets, and sends no X-Iap-* headers', () => {
    const route = routeOf('    to: http://backend:8080\n');
    expect(route.websockets).toBe(false);
    expect(route.identity).toBe('none');
    expect(routeOf('    to: http://backend:8080\n    allow_websockets: true\n').websockets).toBe(true);
  });
});

describe("a Pomerium route's identity headers", () => {
  it('sends none without pass_identity_headers', () => {
    const route = routeOf('    to: http://backend:8080\n');
    const rendered = renderHeaders(route, alice, undefined, noSecret);
    expect(rendered.ok && rendered.setHeaders).toEqual({});
  });

  it('sends X-Pomerium-Jwt-Assertion and the claim headers with pass_identity_headers', () => {
    const route = routeOf('    to: http://backend:8080\n    pass_identity_headers: true\n    jwt_claims_headers: email,groups,user,given_name,tier,missing\n');
    expect(compiledHeaders(route)).toMatchObject({ ok: true, needsAssertion: true });
    const rendered = renderHeaders(route, alice, undefined, noSecret);
    expect(rendered.ok && rendered.setHeaders).toEqual({
      'x-pomerium-jwt-assertion': 'pomerium.jwt.here',
      'x-pomerium-claim-email': 'alice@example.com',
      'x-pomerium-claim-groups': 'admins,staff',
      'x-pomerium-claim-user': 'u-1',
      'x-pomerium-claim-given-name': 'Alice',
      'x-pomerium-claim-tier': '1,2',
      'x-pomerium-claim-missing': '',
    });
  });

  it('strips a claim header named by a mapping from client input, so a request without a user cannot supply it', () => {
    const route = routeOf('    to: http://backend:8080\n    pass_identity_headers: true\n    jwt_claims_headers: { X-Email: email }\n');
    const out = buildUpstreamHeaders({ 'x-email': 'ceo@example.com', x_email: 'ceo@example.com' }, { forwarding: direct, host: 'backend', strip: routeStripNames(route), setHeaders: {}, upgrade: false });
    expect(out['x-email']).toBeUndefined();
    expect(out.x_email).toBeUndefined();
  });

  it('names the claim headers as a jwt_claims_headers mapping says', () => {
    const route = routeOf('    to: http://backend:8080\n    pass_identity_headers: true\n    jwt_claims_headers: { X-Email: email }\n');
    const rendered = renderHeaders(route, alice, undefined, noSecret);
    expect(rendered.ok && rendered.setHeaders).toEqual({ 'x-pomerium-jwt-assertion': 'pomerium.jwt.here', 'x-email': 'alice@example.com' });
  });

  it('substitutes ${pomerium.jwt} in set_request_headers, and leaves user values out for requests without a user', () => {
    const route = routeOf('    to: http://backend:8080\n    set_request_headers: { Authorization: "Bearer ${pomerium.jwt}", X-Static: "$$1" }\n');
    expect(compiledHeaders(route)).toMatchObject({ ok: true, needsAssertion: true });
    const signedIn = renderHeaders(route, alice, undefined, noSecret);
    expect(signedIn.ok && signedIn.setHeaders).toEqual({ Authorization: 'Bearer pomerium.jwt.here', 'X-Static': '$1' });
    const anonymous = renderHeaders(route, null, undefined, noSecret);
    expect(anonymous.ok && anonymous.setHeaders).toEqual({ 'X-Static': '$1' });
  });
});

describe('weighted to lists', () => {
  it('picks each member as often as its weight', () => {
    const route = routeOf('    to: ["http://10.0.0.1:80,3", "http://10.0.0.2:80,1"]\n');
    const balancer = createBalancer();
    const counts: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const target = balancer.pick(route);
      counts[target.origin] = (counts[target.origin] ?? 0) + 1;
      balancer.release(target);
    }
    expect(counts).toEqual({ 'http://10.0.0.1': 300, 'http://10.0.0.2': 100 });
  });
});
