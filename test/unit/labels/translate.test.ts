import { describe, expect, it } from 'vitest';
import { translateContainers } from '../../../src/labels/index.ts';
import { RouteSpec } from '../../../src/routes/spec.ts';
import { container, listing, OPTIONS } from './containers.ts';

const FROM = { 'iap.from': 'https://app.example.com' };

function translate(labels: Record<string, string>, overrides: Parameters<typeof container>[0] = {}) {
  return translateContainers(listing([container({ ...overrides, labels })]), OPTIONS);
}

function onlySpec(labels: Record<string, string>): RouteSpec {
  const result = translate(labels);
  expect(result.issues).toEqual([]);
  expect(result.specs).toHaveLength(1);
  return RouteSpec.parse(result.specs[0]);
}

// What each key puts into the spec, defaults included, is pinned by the golden files
// (test/golden/labels, run by golden.test.ts); these tests cover behaviour around them.
describe('routes from labels', () => {
  it('leaves secret: references unchecked when no checker is given (the request-time reader still applies the rules)', () => {
    const spec = onlySpec({ ...FROM, 'iap.header.Authorization': 'secret:plex_basic', 'iap.header.X-User': '{email}' });
    expect(spec.setHeaders).toEqual({ Authorization: 'secret:plex_basic', 'X-User': '{email}' });
  });

  it('reads secret: in any case and around spaces, and keeps every other header value as written', () => {
    const spec = onlySpec({ ...FROM, 'iap.header.A': ' Secret:api_key ', 'iap.header.B': ' {email} ', 'iap.header.C': 'a\tb' });
    expect(spec.setHeaders).toEqual({ A: 'secret:api_key', B: ' {email} ', C: 'a\tb' });
  });

  it('asks the checker about each secret: header only, by name', () => {
    const asked: string[] = [];
    const result = translateContainers(listing([container({ labels: { ...FROM, 'iap.header.A': 'secret:one', 'iap.header.B': '{email}', 'iap.header.C': 'plain' } })]), {
      ...OPTIONS,
      checkSecret: (name) => (asked.push(name), null),
    });
    expect(result.issues).toEqual([]);
    expect(asked).toEqual(['one']);
  });

  it('a route with neither allow nor public is published and lets nobody in', () => {
    const spec = onlySpec(FROM);
    expect(spec.policy.public).toBe(false);
    expect(spec.policy.allow).toEqual([]);
  });
});

describe('named routes and inheritance', () => {
  it('a named route inherits every top-level key it does not set, including from', () => {
    const result = translate({
      'iap.from': 'https://app.example.com',
      'iap.allow': '@example.com',
      'iap.timeout': '45s',
      'iap.header.X-Team': 'blue',
      'iap.api.path': '/api',
      'iap.api.allow': 'group:devs',
      'iap.api.header.x-team': 'red',
    });
    expect(result.issues).toEqual([]);
    const [api, main] = result.specs;
    expect(main).toMatchObject({ routeName: 'default', path: '/', timeoutMs: 45_000, setHeaders: { 'X-Team': 'blue' }, display: { name: 'app' } });
    expect(api).toMatchObject({
      routeName: 'api',
      hosts: ['app.example.com'],
      path: '/api',
      timeoutMs: 45_000,
      policy: { allow: [{ kind: 'group', group: 'devs' }] },
      setHeaders: { 'x-team': 'red' },
      display: { name: 'app/api' },
    });
  });

  it('without a top-level from there is no default route, and top-level keys are only defaults', () => {
    const result = translate(
      { 'iap.allow': '*', 'iap.one.from': 'https://one.example.com', 'iap.one.port': '9001', 'iap.two.from': 'https://two.example.com', 'iap.two.port': '9000' },
      { exposedPorts: [9000, 9001] },
    );
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => [s.routeName, s.upstream.origin, s.policy.allow])).toEqual([
      ['one', 'http://172.18.0.5:9001', [{ kind: 'any' }]],
      ['two', 'http://172.18.0.5:9000', [{ kind: 'any' }]],
    ]);
  });

  it('a top-level name prefixes the default display name of named routes', () => {
    const result = translate({ ...FROM, 'iap.name': 'Wiki', 'iap.admin.path': '/admin', 'iap.x.path': '/x', 'iap.x.name': 'Special' });
    expect(result.specs.map((s) => s.display.name)).toEqual(['Wiki/admin', 'Wiki', 'Special']);
  });

  it('a named route without from reports the missing label when nothing can be inherited', () => {
    const result = translate({ 'iap.a.from': 'https://a.example.com', 'iap.b.port': '80' });
    expect(result.specs).toEqual([]);
    expect(result.issues).toEqual([
      {
        source: { kind: 'container', containerId: 'c0ffee000001', containerName: 'app' },
        label: 'iap.b.from',
        value: null,
        code: 'missing',
        message: 'container "app": route "b" has no iap.b.from and there is no iap.from to inherit',
      },
    ]);
  });

  it('enable=false withholds the container, or one route, without an issue', () => {
    expect(translate({ ...FROM, 'iap.enable': 'false', 'iap.alow': 'x' })).toEqual({ specs: [], issues: [] });
    const result = translate({ ...FROM, 'iap.old.path': '/old', 'iap.old.enable': 'no' });
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => s.routeName)).toEqual(['default']);
  });
});

describe('rejections', () => {
  it('reports every problem of a container at once and publishes none of its routes', () => {
    const result = translate({
      ...FROM,
      'iap.alow': 'alice@example.com',
      'iap.port': '80a',
      'iap.timeout': 'soon',
      'iap.admin.path': '/admin',
      'iap.admin.deny': 'bob',
    });
    expect(result.specs).toEqual([]);
    expect(result.issues.map((i) => [i.code, i.label, i.value, i.message])).toEqual([
      ['invalid_value', 'iap.admin.deny', 'bob', 'container "app": iap.admin.deny="bob": "bob" is not a policy entry: expected alice@example.com, @example.com, group:NAME, claim:KEY=VALUE, user:SUB, provider:NAME, ip:192.168.1.0/24 or *'],
      ['unknown_key', 'iap.alow', null, 'container "app": unknown label iap.alow — did you mean iap.allow?'],
      ['invalid_value', 'iap.port', '80a', 'container "app": iap.port="80a": expected a port number 1–65535'],
      ['invalid_value', 'iap.timeout', 'soon', 'container "app": iap.timeout="soon": expected a duration such as 500ms, 30s, 5m or 1h30m'],
    ]);
  });

  it('a misspelt policy label never leaves the route open', () => {
    const result = translate({ ...FROM, 'iap.alow': '*', 'iap.pubilc': 'false' });
    expect(result.specs).toEqual([]);
    expect(result.issues).toHaveLength(2);
  });

  it('one bad container does not affect the others', () => {
    const good = container({ id: 'good', name: 'good', labels: { ...FROM, 'iap.allow': '*' } });
    const bad = container({ id: 'bad', name: 'bad', labels: { 'iap.from': 'https://bad.example.com', 'iap.deny': 'nope' } });
    const result = translateContainers(listing([bad, good]), OPTIONS);
    expect(result.specs.map((s) => s.source)).toEqual([{ kind: 'container', containerId: 'good', containerName: 'good', group: 'container:good', created: 1_700_000_000 }]);
    expect(result.issues.map((i) => i.source)).toEqual([{ kind: 'container', containerId: 'bad', containerName: 'bad' }]);
  });

  /** [header label, what the refusal says]. */
  const HEADERS: [string, string][] = [
    ['iap.header.Host', 'managed by the proxy'],
    ['iap.header.content-length', 'managed by the proxy'],
    ['iap.header.Transfer-Encoding', 'managed by the proxy'],
    ['iap.header.Cookie', 'managed by the proxy'],
    ['iap.header.Connection', 'managed by the proxy'],
    ['iap.header.Upgrade', 'managed by the proxy'],
    ['iap.header.Keep-Alive', 'managed by the proxy'],
    ['iap.header.TE', 'managed by the proxy'],
    ['iap.header.Proxy-Authorization', 'managed by the proxy'],
    ['iap.header.Proxy-Authenticate', 'managed by the proxy'],
    ['iap.header.Proxy_Connection', 'managed by the proxy'],
    ['iap.header.Trailer', 'managed by the proxy'],
    ['iap.header.X-IAP-User', 'set by Gatehouse alone'],
    ['iap.header.x_iap_email', 'set by Gatehouse alone'],
    ['iap.header.X.Iap.Groups', 'set by Gatehouse alone'],
    ['iap.header.X(User)', 'not a valid HTTP header name'],
    ['iap.admin.header.X-Iap-Jwt-Assertion', 'set by Gatehouse alone'],
  ];

  it.each(HEADERS)('%s cannot be set', (label, problem) => {
    const result = translate({ ...FROM, 'iap.admin.path': '/admin', [label]: 'top-secret-value' });
    expect(result.specs).toEqual([]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ label, value: null, code: 'invalid_value' });
    expect(result.issues[0]?.message).toContain(problem);
    expect(result.issues[0]?.message).not.toContain('top-secret-value');
  });

  it('a header template with an unknown placeholder ({emial}) makes the container misconfigured, not a literal value upstream', () => {
    const result = translate({ ...FROM, 'iap.header.X-User': 'user={emial}' });
    expect(result.specs).toEqual([]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ label: 'iap.header.X-User', code: 'invalid_value' });
    expect(result.issues[0]?.message).toContain('unknown placeholder {emial}');
  });

  it('never echoes header values or secret: references', () => {
    const result = translate({
      ...FROM,
      'iap.header.X-Token': 'hunter2\r\nX-Evil: 1',
      'iap.header.Authorization': 'secret:bad name!',
      'iap.header.X-Api-Key': 'secret:',
      'iap.header.X-Twice': 'a',
      'iap.header.x-twice': 'b',
      'iap.allow': 'secret:oops-hunter2',
    });
    expect(result.specs).toEqual([]);
    expect(result.issues.map((i) => [i.label, i.value, i.message])).toEqual([
      ['iap.allow', null, 'container "app": iap.allow: secret: references are only allowed in header labels'],
      ['iap.header.Authorization', null, 'container "app": iap.header.Authorization: expected secret:NAME with NAME a plain file name in the label secrets folder: letters, digits, ".", "_" and "-", not starting with "." and without ".."'],
      ['iap.header.X-Api-Key', null, 'container "app": iap.header.X-Api-Key: expected secret:NAME with NAME a plain file name in the label secrets folder: letters, digits, ".", "_" and "-", not starting with "." and without ".."'],
      ['iap.header.X-Token', null, 'container "app": iap.header.X-Token: the value contains a line break or control character'],
      ['iap.header.x-twice', null, 'container "app": iap.header.x-twice: sets the same header as iap.header.X-Twice; keep one'],
    ]);
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });
});

describe('which containers are read', () => {
  it('only running containers with a from label; others are skipped silently', () => {
    const make = (id: string, state: string, labels: Record<string, string>) => container({ id, name: id, state, labels });
    const result = translateContainers(
      listing([
        make('running', 'running', FROM),
        make('paused', 'paused', { ...FROM, 'iap.alow': 'x' }),
        make('restarting', 'restarting', { ...FROM, 'iap.port': 'x' }),
        make('exited', 'exited', FROM),
        make('no-from', 'running', { 'iap.allow': '*', 'iap.alow': 'x' }),
        make('no-labels', 'running', { 'com.docker.compose.project': 'x' }),
      ]),
      OPTIONS,
    );
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => (s.source.kind === 'container' ? s.source.containerId : ''))).toEqual(['running']);
  });

  it('orders output by creation time, then id, then route name', () => {
    const labels = { ...FROM, 'iap.b.path': '/b', 'iap.a.path': '/a' };
    const result = translateContainers(
      listing([
        container({ id: 'z', name: 'z', created: 10, labels }),
        container({ id: 'y', name: 'y', created: 20, labels }),
        container({ id: 'x', name: 'x', created: 10, labels }),
      ]),
      OPTIONS,
    );
    expect(result.specs.map((s) => `${s.source.kind === 'container' ? s.source.containerId : ''}/${s.routeName}`)).toEqual([
      'x/a', 'x/b', 'x/default', 'z/a', 'z/b', 'z/default', 'y/a', 'y/b', 'y/default',
    ]);
  });
});

// The translator walks labels without copying them; it must still read a snapshot's own labels only.
describe('hostile snapshot shapes', () => {
  it('reads no label from the prototype of a labels object', () => {
    const labels = Object.assign(Object.create({ 'iap.allow': 'mallory@example.com', 'iap.admin.from': 'https://admin.example.com' }) as Record<string, string>, FROM);
    const result = translate(labels);
    expect(result.issues).toEqual([]);
    expect(result.specs.map((spec) => spec.routeName)).toEqual(['default']);
    expect(result.specs[0]?.policy.allow).toEqual([]);
  });

  it('withholds a container whose label value is not text, rather than throwing', () => {
    const result = translate({ ...FROM, 'iap.allow': 42 as unknown as string });
    expect(result.specs).toEqual([]);
    expect(result.issues.map((issue) => issue.message)).toEqual(['container "app": its labels could not be read']);
  });

  it('a listing out of creation order comes out in order, as an ordered one does', () => {
    const a = container({ id: 'a', name: 'a', created: 2, labels: { 'iap.from': 'https://a.example.com' } });
    const b = container({ id: 'b', name: 'b', created: 1, labels: { 'iap.from': 'https://b.example.com' } });
    const c = container({ id: 'c', name: 'c', created: 1, labels: { 'iap.from': 'https://c.example.com' } });
    const ids = (containers: ReturnType<typeof container>[]) =>
      translateContainers(listing(containers), OPTIONS).specs.map((spec) => (spec.source.kind === 'container' ? spec.source.containerId : ''));
    expect(ids([a, c, b])).toEqual(['b', 'c', 'a']);
    expect(ids([b, c, a])).toEqual(['b', 'c', 'a']);
  });
});
