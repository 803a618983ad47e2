import { describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../../src/config/routes-file.ts';
import { buildRouteTable, matchClaim, regexSubstitute, type RouteTable } from '../../../src/routes/index.ts';

/** A Pomerium file → the table Gatehouse serves from it. */
function tableOf(yaml: string): RouteTable {
  const parsed = parseRoutesFile(yaml, 'config.yaml');
  if (!parsed.ok) throw new Error(parsed.error);
  expect(parsed.result.issues).toEqual([]);
  return buildRouteTable(parsed.result.specs, parsed.result.issues, { closed: parsed.result.closed ?? [], owners: new Map() });
}

const matched = (table: RouteTable, host: string, path: string, port = 443) => {
  const claim = matchClaim(table, host, path, port);
  return claim?.route?.display.name;
};

describe('Pomerium route matching', () => {
  // The host-wide route comes FIRST in the file: a stricter sub-route must still win.
  const table = tableOf(`routes:
  - from: https://app.example
    to: http://10.0.0.1
    name: all
    allow_any_authenticated_user: true
  - from: https://app.example
    to: http://10.0.0.2
    name: admin
    prefix: /admin
    allowed_users: [admin@example.com]
  - from: https://app.example
    to: http://10.0.0.3
    name: exact
    path: /admin/login
    allow_public_unauthenticated_access: true
  - from: https://app.example
    to: http://10.0.0.4
    name: api
    regex: "^/api/v[0-9]+/.*$"
    allowed_users: [api@example.com]
  - from: https://app.example:8443
    to: http://10.0.0.5
    name: port
    allowed_users: [port@example.com]
`);

  it.each([
    ['/', 'all'],
    ['/admin', 'admin'],
    // Pomerium's prefix is a string prefix: /admin takes /administrator too.
    ['/administrator', 'admin'],
    ['/admin/users', 'admin'],
    // ASCII case folded, so a case-insensitive app never serves /ADMIN under the broader policy.
    ['/ADMIN/users', 'admin'],
    ['/admin/login', 'exact'],
    ['/admin/login/x', 'admin'],
    ['/api/v1/items', 'api'],
    // RE2 matches the whole path, as Envoy's safe_regex does.
    ['/api/v1', 'all'],
    ['/x/api/v1/items', 'all'],
    ['/api/vX/items', 'all'],
    // A case-insensitive app would serve /API/... as /api/...: the pattern's route takes it too.
    ['/API/v1/items', 'api'],
  ])('%s → %s', (path, name) => {
    expect(matched(table, 'app.example', path)).toBe(name);
  });

  it('matches a from with a port on that port only', () => {
    expect(matched(table, 'app.example', '/', 8443)).toBe('port');
    expect(matched(table, 'app.example', '/', 443)).toBe('all');
    expect(matched(table, 'app.example', '/admin', 8443)).toBe('admin');
  });

  it('orders by specificity whatever the file order', () => {
    const reversed = tableOf(`routes:
  - from: https://app.example
    to: http://10.0.0.2
    name: admin
    prefix: /admin
    allowed_users: [admin@example.com]
  - from: https://app.example
    to: http://10.0.0.1
    name: all
    allow_any_authenticated_user: true
`);
    expect(matched(reversed, 'app.example', '/admin/x')).toBe('admin');
    expect(matched(reversed, 'app.example', '/x')).toBe('all');
  });

  it('tries regex routes by regex_priority_order, higher first', () => {
    const t = tableOf(`routes:
  - from: https://app.example
    to: http://10.0.0.1
    name: low
    regex: "^/a.*$"
    allow_any_authenticated_user: true
  - from: https://app.example
    to: http://10.0.0.2
    name: high
    regex: "^/ab.*$"
    regex_priority_order: 5
    allow_any_authenticated_user: true
`);
    expect(matched(t, 'app.example', '/abc')).toBe('high');
    expect(matched(t, 'app.example', '/ac')).toBe('low');
  });

  it('a trailing slash in prefix is kept: /app/ does not take /apple', () => {
    const t = tableOf(`routes:
  - from: https://app.example
    to: http://10.0.0.1
    prefix: /app/
    name: app
    allow_any_authenticated_user: true
`);
    expect(matched(t, 'app.example', '/app/x')).toBe('app');
    expect(matched(t, 'app.example', '/apple')).toBeUndefined();
  });

  it('runs a pathological pattern in linear time (RE2: no catastrophic backtracking)', () => {
    const t = tableOf(`routes:
  - from: https://app.example
    to: http://10.0.0.1
    name: redos
    regex: "^/(a+)+$"
    allow_any_authenticated_user: true
`);
    // With a backtracking engine this input takes longer than the test's whole time limit.
    expect(matched(t, 'app.example', `/${'a'.repeat(50_000)}b`)).toBeUndefined();
    expect(matched(t, 'app.example', `/${'a'.repeat(50_000)}`)).toBe('redos');
  });
});

describe('regexSubstitute (Envoy regex_rewrite)', () => {
  it.each([
    ['^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api', '/v1/api/instance/foo'],
    ['one', 'two', '/xxx/one/yyy/one/zzz', '/xxx/two/yyy/two/zzz'],
    ['^(.*?)one(.*)$', '\\1two\\2', '/xxx/one/yyy/one/zzz', '/xxx/two/yyy/one/zzz'],
    ['(?i)/xxx/', '/yyy/', '/aaa/XxX/bbb', '/aaa/yyy/bbb'],
    ['^/(.+)/.+$', '\\1', '/example.com/path', 'example.com'],
    ['^/a', '\\9', '/a/b', '/b'],
  ])('%s → %s on %s', (pattern, substitution, input, output) => {
    expect(regexSubstitute({ pattern, substitution }, input)).toBe(output);
  });
});
