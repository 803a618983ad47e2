import { describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../../src/config/routes-file.ts';
import { type RouteIssue, RouteSpec } from '../../../src/routes/spec.ts';
import { POMERIUM_FILE } from './pomerium-fixture.ts';
import { defaultPomeriumRoute } from '../../../src/routes/index.ts';
import { KEYS, VALUE_KEYS } from '../../../src/labels/index.ts';
import { NO_POLICY, SPEC_DEFAULTS } from '../../helpers/route-spec.ts';

const FILE = 'gatehouse.yml';

function parse(text: string) {
  const parsed = parseRoutesFile(text, FILE);
  if (!parsed.ok) throw new Error(`expected the file to parse: ${parsed.error}`);
  for (const spec of parsed.result.specs) expect(RouteSpec.parse(spec)).toEqual(spec);
  return parsed.result;
}

/** One route, written as YAML lines under `routes:`. */
function route(...lines: string[]): string {
  return `routes:\n  - ${lines.join('\n    ')}\n`;
}

const issueLines = (issues: RouteIssue[]) => issues.map((i) => i.message);

const BASE: Omit<RouteSpec, 'hosts' | 'upstream' | 'display'> = {
  ...SPEC_DEFAULTS,
  source: { kind: 'file', file: FILE, index: 0 },
  routeName: 'file:0',
  policy: NO_POLICY,
  health: 'off',
};

describe('routes in Gatehouse keys', () => {
  it('accepts every label key with the same values, lists where labels take comma lists', () => {
    const text = `routes:
  - from: [https://wiki.example.com, https://w.example.com]
    to: http://127.0.0.1:3000
    path: /docs/
    strip_path: yes
    allow:
      - alice@example.com
      - group:wiki-admins, claim:role=editor
    deny: mallory@example.com
    public: false
    bypass: GET /healthz, /static/
    cors_preflight: true
    identity: jwt
    header:
      X-WEBAUTH-USER: "{email}"
      Authorization: secret:wiki_basic
    host: wiki.internal
    websockets: false
    ws_origins: [https://wiki.example.com, https://w.example.com:8443]
    timeout: 2m
    idle_timeout: 0
    tls_skip_verify: on
    lb: least_request
    basic_auth: true
    bearer: yes
    name: Wiki
    icon: wikijs
    description: Team docs
    providers: [google, local]
    mfa: required
    max_age: 12h
    networks: 192.168.1.0/24, fd00::/8
    trusted_networks: [192.168.1.10]
    mode: proxy
    group: Docs
    hsts: true
`;
    // Every key the key table lets the routes file take appears above.
    const written = [...text.matchAll(/^ {2}(?:- | {2})([a-z_]+):/gm)].map((m) => m[1]);
    expect(VALUE_KEYS.filter((key) => KEYS[key].file && !written.includes(key))).toEqual([]);
    const result = parse(text);
    expect(result.issues).toEqual([]);
    expect(result.specs).toEqual([
      {
        ...BASE,
        hosts: ['wiki.example.com', 'w.example.com'],
        path: '/docs',
        stripPath: true,
        upstream: { origin: 'http://127.0.0.1:3000', containerId: null, ready: true, state: 'running' },
        policy: {
          public: false,
          allow: [
            { kind: 'email', email: 'alice@example.com' },
            { kind: 'group', group: 'wiki-admins' },
            { kind: 'claim', claim: 'role', value: 'editor' },
          ],
          deny: [{ kind: 'email', email: 'mallory@example.com' }],
          bypass: [{ method: 'GET', path: '/healthz' }, { method: null, path: '/static/' }],
          corsPreflight: true,
        },
        identity: 'jwt',
        setHeaders: { 'X-WEBAUTH-USER': '{email}', Authorization: 'secret:wiki_basic' },
        hostHeader: { mode: 'literal', host: 'wiki.internal' },
        websockets: false,
        wsOrigins: ['https://wiki.example.com', 'https://w.example.com:8443'],
        timeoutMs: 120_000,
        tlsSkipVerify: true,
        lb: 'least_request',
        basicAuth: true,
        bearer: true,
        display: { name: 'Wiki', icon: 'wikijs', description: 'Team docs', group: 'Docs' },
        hsts: true,
        access: { providers: ['google', 'local'], mfa: true, maxAgeMs: 12 * 3_600_000, networks: ['192.168.1.0/24', 'fd00::/8'], trustedNetworks: ['192.168.1.10'] },
      },
    ]);
  });

  it('a minimal route gets the defaults; the display name is its URL', () => {
    const result = parse(route('from: https://x.example.com', 'to: http://10.0.0.2:80', 'path: /app'));
    expect(result.specs).toEqual([
      { ...BASE, hosts: ['x.example.com'], path: '/app', upstream: { origin: 'http://10.0.0.2', containerId: null, ready: true, state: 'running' }, display: { name: 'x.example.com/app', icon: null, description: null, group: null } },
    ]);
  });

  it('several to URLs give one spec per upstream, sharing source and route name', () => {
    const result = parse(route('from: https://api.example.com', 'to: [http://10.0.0.1:8080, http://10.0.0.2:8080, http://10.0.0.1:8080]', 'allow: "*"'));
    expect(result.specs.map((s) => [s.source, s.routeName, s.upstream.origin])).toEqual([
      [{ kind: 'file', file: FILE, index: 0 }, 'file:0', 'http://10.0.0.1:8080'],
      [{ kind: 'file', file: FILE, index: 0 }, 'file:0', 'http://10.0.0.2:8080'],
    ]);
  });

  it('loopback, link-local and metadata targets are allowed: the operator wrote the file', () => {
    const result = parse(`routes:
  - { from: https://a.example.com, to: http://127.0.0.1:9000 }
  - { from: https://b.example.com, to: "http://[::1]:9000" }
  - { from: https://c.example.com, to: http://localhost:9000 }
  - { from: https://d.example.com, to: http://169.254.10.1 }
`);
    expect(result.issues).toEqual([]);
    expect(result.specs.map((s) => s.upstream.origin)).toEqual(['http://127.0.0.1:9000', 'http://[::1]:9000', 'http://localhost:9000', 'http://169.254.10.1']);
  });

  it('an empty routes list is a valid file with no routes', () => {
    expect(parse('routes: []\n')).toEqual({ specs: [], issues: [] });
    expect(parse('routes:\n')).toEqual({ specs: [], issues: [] });
  });
});

/** What every route written in Pomerium's format starts from: Pomerium's defaults, not Gatehouse's. */
const POM = { websockets: false, hostHeader: { mode: 'upstream' }, identity: 'none', pomerium: defaultPomeriumRoute() } as const;

describe('routes in Pomerium format', () => {
  it('loads an existing Pomerium config unchanged; its global settings are no problem for the routes', () => {
    const parsed = parseRoutesFile(POMERIUM_FILE, FILE);
    if (!parsed.ok) throw new Error(parsed.error);
    // Its global settings are mapped once at startup (pomerium-settings.ts), not by each reload of the routes.
    expect(parsed.settings).toEqual([]);
    expect(JSON.stringify(parsed)).not.toContain('do-not-echo-me');
    const result = parse(POMERIUM_FILE);
    expect(result.issues).toEqual([]);
    const at = (index: number) => ({ ...BASE, source: { kind: 'file', file: FILE, index }, routeName: `file:${index}` });
    const up = (origin: string) => ({ origin, containerId: null, ready: true, state: 'running' });
    const grafana = {
      ...at(1),
      ...POM,
      pomerium: { ...POM.pomerium, weights: { 'http://10.0.0.21:3000': 2, 'http://10.0.0.22:3000': 1 } },
      hosts: ['grafana.nas.example'],
      policy: {
        ...BASE.policy,
        allow: [
          { kind: 'domain', domain: 'example.com' },
          { kind: 'claim', claim: 'groups', value: 'grafana-admins' },
          { kind: 'claim', claim: 'groups', value: 'grafana-editors' },
        ],
      },
      setHeaders: { 'X-WEBAUTH-USER': '{jwt}' },
      removeHeaders: ['x-debug'],
      timeoutMs: 60_000,
      lb: 'least_request',
      display: { name: 'grafana.nas.example', icon: null, description: null, group: null },
    };
    expect(result.specs).toEqual([
      {
        ...at(0),
        ...POM,
        websockets: true,
        hostHeader: { mode: 'preserve' },
        pomerium: { ...POM.pomerium, identityHeaders: true },
        hosts: ['code.nas.example'],
        upstream: up('http://code-server:8443'),
        policy: { ...BASE.policy, allow: [{ kind: 'email', email: 'alice@example.com' }] },
        display: { name: 'Code', icon: 'https://cdn.example/code.svg', description: null, group: null },
      },
      { ...grafana, upstream: up('http://10.0.0.21:3000') },
      { ...grafana, upstream: up('http://10.0.0.22:3000') },
      {
        ...at(2),
        ...POM,
        hosts: ['files.nas.example'],
        path: '/share',
        upstream: up('https://192.168.1.20:5001'),
        policy: { ...BASE.policy, public: true },
        tlsSkipVerify: true,
        display: { name: 'files.nas.example/share', icon: null, description: null, group: null },
      },
      {
        ...at(3),
        ...POM,
        hosts: ['status.nas.example'],
        upstream: up('http://127.0.0.1:3001'),
        policy: { ...BASE.policy, allow: [{ kind: 'any' }], corsPreflight: true },
        idleTimeoutMs: 300_000,
        display: { name: 'status.nas.example', icon: null, description: 'Uptime dashboard', group: null },
      },
      {
        ...at(4),
        ...POM,
        hosts: ['admin.nas.example'],
        upstream: up('http://portainer:9000'),
        policy: {
          ...BASE.policy,
          allow: [
            { kind: 'email', email: 'bob@example.com' },
            { kind: 'user', sub: '00u1a2b3c4' },
            { kind: 'group', group: 'nas-admins' },
            { kind: 'domain', domain: 'ops.example.com' },
            { kind: 'claim', claim: 'role', value: 'admin' },
            { kind: 'group', group: 'ops' },
            { kind: 'user', sub: '1234' },
          ],
          deny: [{ kind: 'email', email: 'mallory@example.com' }],
        },
        display: { name: 'admin.nas.example', icon: null, description: null, group: null },
      },
    ]);
  });

  /** [route lines, the part of the spec they set]. */
  const MAPPINGS: [string[], Partial<RouteSpec>][] = [
    [['prefix: /admin/'], { path: '/admin/', pomerium: { ...POM.pomerium, match: 'prefix' } }],
    [['allowed_users: [Alice@Example.com, 1234]'], { policy: { ...BASE.policy, allow: [{ kind: 'email', email: 'alice@example.com' }, { kind: 'user', sub: '1234' }] } }],
    [['allowed_domains: ["@Example.com", corp.example]'], { policy: { ...BASE.policy, allow: [{ kind: 'domain', domain: 'example.com' }, { kind: 'domain', domain: 'corp.example' }] } }],
    [['allowed_groups: admins'], { policy: { ...BASE.policy, allow: [{ kind: 'group', group: 'admins' }] } }],
    [['allowed_idp_claims: { role: admin, tier: [1, 2] }'], { policy: { ...BASE.policy, allow: [{ kind: 'claim', claim: 'role', value: 'admin' }, { kind: 'claim', claim: 'tier', value: '1' }, { kind: 'claim', claim: 'tier', value: '2' }] } }],
    [['allow_public_unauthenticated_access: true'], { policy: { ...BASE.policy, public: true } }],
    [['allow_any_authenticated_user: true'], { policy: { ...BASE.policy, allow: [{ kind: 'any' }] } }],
    [['allow_any_authenticated_user: false'], { policy: BASE.policy }],
    [['cors_allow_preflight: true'], { policy: { ...BASE.policy, corsPreflight: true } }],
    [['pass_identity_headers: true'], { identity: 'none', pomerium: { ...POM.pomerium, identityHeaders: true } }],
    [['pass_identity_headers: false'], { identity: 'none', pomerium: POM.pomerium }],
    [['allowed_groups: [x]'], POM],
    [['preserve_host_header: true'], { hostHeader: { mode: 'preserve' } }],
    [['preserve_host_header: false'], { hostHeader: { mode: 'upstream' } }],
    [['allow_websockets: false'], { websockets: false }],
    [['allow_websockets: true'], { websockets: true }],
    [['allowed_groups: [x]', 'timeout: 90s', 'idle_timeout: 0s'], { timeoutMs: 90_000, idleTimeoutMs: null }],
    [['allowed_groups: [x]', 'tls_skip_verify: true'], { tlsSkipVerify: true }],
    [['set_request_headers: { Authorization: "Bearer ${pomerium.jwt}", X-Price: "$$5", X-Api-Key: "secret:api_key" }'], { setHeaders: { Authorization: 'Bearer {jwt}', 'X-Price': '$5', 'X-Api-Key': 'secret:api_key' } }],
    [['remove_request_headers: [X-Forwarded-Email, Referer]'], { removeHeaders: ['x-forwarded-email', 'referer'] }],
    [['logo_url: https://cdn.example/logo.png', 'allowed_groups: [x]', 'name: App', 'description: An app'], { display: { name: 'App', icon: 'https://cdn.example/logo.png', description: 'An app', group: null } }],
    [['load_balancing_policy: ROUND_ROBIN'], { lb: 'round_robin' }],
    [['policy: { allow: { or: [{ accept: true }] } }'], { policy: { ...BASE.policy, public: true } }],
    [['policy: { allow: { or: [{ authenticated_user: true }] }, deny: { or: [{ groups: { has: kids } }, { "claim/level": 1 }] } }'], {
      policy: { ...BASE.policy, allow: [{ kind: 'any' }], deny: [{ kind: 'group', group: 'kids' }, { kind: 'claim', claim: 'level', value: '1' }] },
    }],
  ];

  it.each(MAPPINGS)('%j', (lines, expected) => {
    const result = parse(route('from: https://app.example.com', 'to: http://10.0.0.2:80', ...lines));
    expect(result.issues).toEqual([]);
    expect(result.specs).toHaveLength(1);
    expect(result.specs[0]).toMatchObject(expected);
  });

  it('ignores the ,weight suffix of Pomerium upstreams', () => {
    const result = parse(route('from: https://app.example.com', 'to: ["http://10.0.0.1:80,3", "http://10.0.0.2:80, 1"]', 'allowed_groups: [x]'));
    expect(result.specs.map((s) => s.upstream.origin)).toEqual(['http://10.0.0.1', 'http://10.0.0.2']);
  });
});

describe('errors', () => {
  /** [YAML, whole-file error]. */
  const FILE_ERRORS: [string, string][] = [
    ['routes:\n  - from: https://a.example.com\n    to: [http://x\n  - from: b\n', `${FILE}:4:3: Flow sequence in block collection must be sufficiently indented and end with a ]`],
    ['routes:\n  - from: a\n    from: b\n', `${FILE}:3:5: Map keys must be unique`],
    ['routes:\n\t- from: a\n', `${FILE}:2:1:`],
    ['', `${FILE}: the file is empty; expected a routes: list`],
    ['# only a comment\n', `${FILE}: the file is empty; expected a routes: list`],
    ['just text\n', `${FILE}:1:1: expected a mapping with a routes: list at the top, or a list of routes`],
    ['rutes: []\n', `${FILE}: expected a routes: list at the top (or Pomerium's policy: list, or a bare list of routes)`],
    ['routes:\n  from: https://a.example.com\n', `${FILE}:2:3: routes must be a list`],
    ['policy:\n  from: https://a.example.com\n', `${FILE}:2:3: policy must be a list`],
    [
      ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...['b', 'c', 'd', 'e', 'f'].map((n, i) => `${n}: &${n} [${Array(10).fill(`*${'abcde'[i]}`).join(', ')}]`), 'routes: [*f]'].join('\n'),
      `${FILE}: Excessive alias count indicates a resource exhaustion attack`,
    ],
  ];

  it.each(FILE_ERRORS)('rejects the whole file: %j', (text, error) => {
    const parsed = parseRoutesFile(text, FILE);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.startsWith(error)).toBe(true);
  });

  it('a bad route rejects only itself, with file, index, key and position', () => {
    const result = parse(`routes:
  - from: https://good.example.com
    to: http://10.0.0.1:80
    allow: "*"
  - from: https://bad.example.com
    to: http://10.0.0.2:80
    allow: [alice@example.com, bob]
    timeout: soon
    alow: x
`);
    expect(result.specs.map((s) => s.hosts[0])).toEqual(['good.example.com']);
    expect(result.issues).toEqual([
      { source: { kind: 'file', file: FILE, index: 1 }, label: 'allow', value: 'alice@example.com,bob', code: 'invalid_value', message: `${FILE}:7:5: routes[1].allow="alice@example.com,bob": "bob" is not a policy entry: expected alice@example.com, @example.com, group:NAME, claim:KEY=VALUE, user:SUB, provider:NAME, ip:192.168.1.0/24 or *` },
      { source: { kind: 'file', file: FILE, index: 1 }, label: 'timeout', value: 'soon', code: 'invalid_value', message: `${FILE}:8:5: routes[1].timeout="soon": expected a duration such as 500ms, 30s, 5m or 1h30m` },
      { source: { kind: 'file', file: FILE, index: 1 }, label: 'alow', value: null, code: 'unknown_key', message: `${FILE}:9:5: routes[1].alow: unknown key; did you mean allow?` },
    ]);
  });

  /** [route lines, issue messages without the file position]. */
  const ROUTE_ERRORS: [string[], string[]][] = [
    [['to: http://10.0.0.1'], ['routes[0].from: every route needs from, such as https://app.example.com']],
    [['from: https://a.example.com'], ['routes[0].to: every route in the file needs to, such as http://192.168.1.20:8080 (or mode: forward_auth when an outer proxy routes it)']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'mode: forward_auth'], ['routes[0].to: a mode: forward_auth route is forwarded by the outer proxy; remove to']],
    [['from: https://a.example.com', 'mode: forward-auth'], ['routes[0].mode="forward-auth": expected proxy or forward_auth', 'routes[0].to: every route in the file needs to, such as http://192.168.1.20:8080 (or mode: forward_auth when an outer proxy routes it)']],
    [['from: https://a.example.com/x', 'to: http://10.0.0.1'], ['routes[0].from="https://a.example.com/x": from takes no path; set the path key for a path prefix']],
    [['from: https://a.example.com', 'to: http://10.0.0.1/base'], ['routes[0].to="http://10.0.0.1/base": the target is an origin only (scheme, host, port), without a path']],
    [['from: https://a.example.com', 'to: h2c://10.0.0.1'], ['routes[0].to="h2c://10.0.0.1": expected an http(s) URL such as https://app.example.com']],
    [['from: https://a.example.com', 'to: []'], ['routes[0].to: expected a URL such as http://192.168.1.20:8080, or a list of them']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'port: 8080'], ['routes[0].port: port applies to container labels only; in the file, write the upstream in full in to']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'network: proxy'], ['routes[0].network: network applies to container labels only; in the file, write the upstream in full in to']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'enable: false'], ['routes[0].enable: enable applies to container labels only; remove the route from the file instead']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'ws_origins: https://a.example.com/x'], ['routes[0].ws_origins="https://a.example.com/x": "https://a.example.com/x": an origin is scheme, host and port only, without a path']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allow: { a: 1 }'], ['routes[0].allow: expected a string or a list of strings']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'timeout: [1s]'], ['routes[0].timeout: expected a single value']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'deny: secret:x'], ['routes[0].deny: secret: references are only allowed in header values']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'header: { Host: evil, X-Iap-User: admin, X-Token: "top-secret\\r\\nX: y" }'], [
      'routes[0].header.Host: "Host" is managed by the proxy and cannot be set',
      'routes[0].header.X-Iap-User: "X-Iap-User": X-IAP-* headers carry the signed-in identity and are set by Gatehouse alone',
      'routes[0].header.X-Token: the value contains a line break or control character',
    ]],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'header: [a]'], ['routes[0].header: expected a mapping of header name to value']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allow: x@y.com', 'allowed_users: [z@y.com]'], [
      'routes[0]: mixes Gatehouse keys (allow) with Pomerium keys (allowed_users); write the route in one format',
    ]],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allowed_groups: [x]', 'prefix: /a', 'path: /exact'], ['routes[0].path: a route matches by one of prefix, path or regex; keep only one']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'regex: "^/(a)\\\\1"'], [
      'routes[0].regex="^/(a)\\1": not a valid RE2 expression (Gatehouse, like Pomerium, takes RE2 only: no backreferences or lookarounds): error parsing regexp: invalid escape sequence: `\\1`',
    ]],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'regex: ^/a', 'prefix_rewrite: /v2'], ['routes[0].prefix_rewrite: prefix_rewrite needs prefix or path; with regex, use regex_rewrite_pattern']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'set_request_headers: { X-Token: "${pomerium.access_token}" }'], [
      'routes[0].set_request_headers.X-Token: ${pomerium.access_token} cannot be supplied by Gatehouse; only ${pomerium.jwt} is (write $$ for a literal $)',
    ]],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'tls_client_key: aGVsbG8='], ['routes[0].tls_client_key: an inline private key would be shown with the route; put it in a file and use tls_client_key_file']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'regex_rewrite_pattern: ^/a'], ['routes[0].regex_rewrite_substitution: regex_rewrite_pattern needs regex_rewrite_substitution']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allowed_groups: [x]', 'alowed_users: [y]'], ['routes[0].alowed_users: unknown key; did you mean allowed_users?']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allowed_users: ["@example.com", "a@b@c.com"]'], ['routes[0].allowed_users: not an email address: "@example.com", "a@b@c.com"']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allowed_domains: ["not a domain"]'], ['routes[0].allowed_domains: not a domain: "not a domain"']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allowed_idp_claims: [role]'], ['routes[0].allowed_idp_claims: expected a mapping of claim name to a list of values']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'allow_websockets: sometimes'], ['routes[0].allow_websockets="sometimes": expected true or false']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'remove_request_headers: ["bad header"]'], ['routes[0].remove_request_headers: expected a list of header names']],
    [['from: https://a.example.com', 'to: http://10.0.0.1', 'load_balancing_policy: MAGLEV'], ['routes[0].load_balancing_policy="maglev": Gatehouse balances with ROUND_ROBIN or LEAST_REQUEST only']],
  ];

  it.each(ROUTE_ERRORS)('%j', (lines, messages) => {
    const result = parse(route(...lines));
    expect(result.specs).toEqual([]);
    expect(result.issues.map((i) => i.message.replace(/^gatehouse\.yml:\d+:\d+: /, ''))).toEqual(messages);
    expect(result.issues.every((i) => /^gatehouse\.yml:\d+:\d+: /.test(i.message) && i.source.kind === 'file' && i.source.index === 0)).toBe(true);
    expect(JSON.stringify(result.issues)).not.toContain('top-secret');
  });

  /** [policy YAML, problem]. */
  const PPL_ERRORS: [string, string][] = [
    ['{ allow: { xor: [{ email: { is: a@b.com } }] } }', 'allow: "xor" is not an operator (and, or, not, nor)'],
    ['{ allow: { or: [{ email: { matches: a } }] } }', 'allow.or: email: "matches" is not a string matcher operator'],
    ['{ allow: { or: [{ email: { is: a@b.com }, domain: { is: b.com } }] } }', 'allow.or: each item is a mapping with one criterion'],
    ['{ allow: { or: [{ device: { type: any } }] } }', 'allow.or: device: not supported: Gatehouse has no device identity'],
    ['{ deny: { or: [{ invalid_client_certificate: true }] } }', 'deny.or: invalid_client_certificate: not supported: Gatehouse does not ask browsers for client certificates'],
    ['{ allow: { or: [{ groups: { is: x } }] } }', 'allow.or: groups: expected a group name, or {has: NAME}'],
    ['{ allow: { or: [{ authenticated_user: false }] } }', 'allow.or: authenticated_user: write true (Pomerium ignores the value, so false would still match)'],
    ['{ allow: { and: [] } }', 'allow.and: expected a list of criteria'],
    ['{ allow: { or: [{ time_of_day: { after: "9:00" } }] } }', 'allow.or: time_of_day: timezone is required'],
    ['{ allow: { or: [{ time_of_day: { timezone: Mars/Olympus, after: "9:00" } }] } }', 'allow.or: time_of_day: "Mars/Olympus" is not a time zone'],
    ['{ allow: { or: [{ time_of_day: { timezone: UTC, after: "22:00", before: "6:00" } }] } }', 'allow.or: time_of_day: after must be earlier than before'],
    ['{ allow: { or: [{ date: { after: yesterday } }] } }', 'allow.or: date: expected {after: DATE, before: DATE}'],
    ['{ allow: { or: [{ day_of_week: mon-fun }] } }', 'allow.or: day_of_week: expected *'],
    ['{ allow: { or: [{ frobnicate: true }] } }', 'allow.or: frobnicate: unknown criterion; Gatehouse evaluates accept'],
    ['{ permit: { or: [] } }', '"permit" is not a policy action (allow or deny)'],
    ['{ allow: { or: [{ "claim/role": [a, b] }] } }', 'allow.or: claim/role: expected the value the claim must equal'],
    ['allow', 'expected a rule with allow: and/or deny:'],
    ['[{ allow: { or: [{ accept: true }] } }, { deny: { not: [{ device: { is: x } }] } }]', 'rule 2: deny.not: device: not supported'],
    ['{ allow: { or: [{ source_ip: 10.0.0.1/8 }] } }', 'allow.or: source_ip: expected an IP address or a network'],
  ];

  it.each(PPL_ERRORS)('policy %s is refused', (policy, problem) => {
    const result = parse(route('from: https://a.example.com', 'to: http://10.0.0.1', `policy: ${policy}`));
    expect(result.specs).toEqual([]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.label).toBe('policy');
    expect(result.issues[0]?.message).toContain(`routes[0].policy: ${problem}`);
  });

  it('a route that is not a mapping is reported with its position', () => {
    const result = parse('routes:\n  - https://a.example.com\n  - { from: https://b.example.com, to: http://10.0.0.1 }\n');
    expect(result.specs.map((s) => s.hosts[0])).toEqual(['b.example.com']);
    expect(issueLines(result.issues)).toEqual([`${FILE}:2:5: routes[0]: expected a mapping with at least from and to`]);
  });

  it('unknown top-level keys are reported without rejecting the routes', () => {
    const result = parse('route: x\nextra: 1\nroutes:\n  - { from: https://b.example.com, to: http://10.0.0.1 }\n');
    expect(result.specs).toHaveLength(1);
    expect(issueLines(result.issues)).toEqual([`${FILE}:1:1: unknown top-level key route; did you mean routes?`, `${FILE}:2:1: unknown top-level key extra; only routes: and policy: are read`]);
    expect(result.issues.every((i) => i.source.kind === 'file' && i.source.index === null)).toBe(true);
  });
});

describe('parseRoutesFile: rejected routes keep their address closed', () => {
  it('holds the host and path of a rejected entry, in either format, as misconfigured', () => {
    const text = [
      'routes:',
      '  - from: https://app.example',
      '    to: http://10.0.0.1:8080',
      '    public: true',
      '  - from: https://app.example',
      '    to: http://10.0.0.2:8080',
      '    path: /admin',
      '    allow: group admins!',
      '  - from: https://app.example',
      '    to: http://10.0.0.3:8080',
      '    prefix: /api/',
      '    allowed_groups: [admins]',
      '    prefix_rewrite: no-slash',
      '  - from: https://app.example',
      '    to: http://10.0.0.3:8080',
      '    regex: ^/re(?=x)',
      '  - from: not a url',
      '    to: http://10.0.0.3:8080',
      '',
    ].join('\n');
    const parsed = parseRoutesFile(text, FILE);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.specs).toHaveLength(1);
    expect(parsed.result.closed?.map((claim) => [claim.source, claim.hosts, claim.path, claim.state])).toEqual([
      [{ kind: 'file', file: FILE, index: 1 }, ['app.example'], '/admin', 'misconfigured'],
      [{ kind: 'file', file: FILE, index: 2 }, ['app.example'], '/api', 'misconfigured'],
      [{ kind: 'file', file: FILE, index: 3 }, ['app.example'], '/', 'misconfigured'],
    ]);
  });
});
