import { describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../../src/config/routes-file.ts';
import { toTemplate } from '../../../src/config/pomerium-route-options.ts';
import { defaultPomeriumRoute, type RouteSpec } from '../../../src/routes/index.ts';

function parse(lines: string[]): { specs: RouteSpec[]; messages: string[]; closed: number } {
  const text = ['routes:', '  - from: https://app.example.com', '    to: http://10.0.0.2:80', '    allowed_groups: [x]', ...lines.map((l) => `    ${l}`), ''].join('\n');
  const parsed = parseRoutesFile(text, 'config.yaml');
  if (!parsed.ok) throw new Error(parsed.error);
  return { specs: parsed.result.specs, messages: parsed.result.issues.map((i) => i.message.replace(/^config\.yaml:\d+:\d+: routes\[0\]\./, '')), closed: parsed.result.closed?.length ?? 0 };
}

const D = defaultPomeriumRoute();

describe('Pomerium route options → route settings', () => {
  /** [option lines, the spec fields they give]. */
  const TABLE: [string[], Partial<RouteSpec>][] = [
    [[], { websockets: false, hostHeader: { mode: 'upstream' }, identity: 'none', path: '/', pomerium: D }],
    [['prefix: /app'], { path: '/app', pomerium: D }],
    [['path: /app/login'], { path: '/app/login', pomerium: { ...D, match: 'path' } }],
    [['regex: "^/api/.*$"', 'regex_priority_order: 3'], { path: '/', pomerium: { ...D, match: 'regex', regex: '^/api/.*$', regexPriority: 3 } }],
    [['prefix: /api', 'prefix_rewrite: /v2'], { pomerium: { ...D, prefixRewrite: '/v2' } }],
    [['regex_rewrite_pattern: "^/a/(.*)$"', 'regex_rewrite_substitution: "/b/\\\\1"'], { pomerium: { ...D, regexRewrite: { pattern: '^/a/(.*)$', substitution: '/b/\\1' } } }],
    [['host_rewrite: internal.example'], { hostHeader: { mode: 'literal', host: 'internal.example' }, pomerium: D }],
    [['host_rewrite_header: X-My-Host'], { pomerium: { ...D, hostRewriteHeader: 'x-my-host' } }],
    [['host_path_regex_rewrite_pattern: "^/(.+)/.+$"', 'host_path_regex_rewrite_substitution: "\\\\1"'], { pomerium: { ...D, hostPathRewrite: { pattern: '^/(.+)/.+$', substitution: '\\1' } } }],
    [['preserve_host_header: true'], { hostHeader: { mode: 'preserve' } }],
    [['allow_websockets: true'], { websockets: true }],
    [['pass_identity_headers: true', 'jwt_claims_headers: [email, given_name]'], { identity: 'none', pomerium: { ...D, identityHeaders: true, claimHeaders: { 'x-pomerium-claim-email': 'email', 'x-pomerium-claim-given-name': 'given_name' } } }],
    [['set_response_headers: { X-Frame-Options: DENY }'], { pomerium: { ...D, responseHeaders: { 'x-frame-options': 'DENY' } } }],
    [['timeout: 10s', 'idle_timeout: 1m'], { timeoutMs: 10_000, idleTimeoutMs: 60_000 }],
    [['tls_server_name: backend.internal', 'tls_custom_ca_file: /ca.pem', 'tls_client_cert_file: /c.pem', 'tls_client_key_file: /k.pem'], {
      pomerium: { ...D, tls: { serverName: 'backend.internal', ca: null, caFile: '/ca.pem', clientCert: null, clientCertFile: '/c.pem', clientKeyFile: '/k.pem' } },
    }],
  ];

  it.each(TABLE)('%j', (lines, expected) => {
    const { specs, messages } = parse(lines);
    expect(messages).toEqual([]);
    expect(specs[0]).toMatchObject(expected);
  });

  it('keeps the port of from, and the weights of to', () => {
    const parsed = parseRoutesFile(['routes:', '  - from: https://a.example:8443', '    to: ["http://10.0.0.1:81,3", "http://10.0.0.2:81"]', '    allowed_groups: [x]', ''].join('\n'), 'c.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.specs.map((s) => s.pomerium)).toEqual([
      { ...D, port: 8443, weights: { 'http://10.0.0.1:81': 3 } },
      { ...D, port: 8443, weights: { 'http://10.0.0.1:81': 3 } },
    ]);
  });

  /** [option lines, the problem reported]; every such route is refused and its address kept closed. */
  const REFUSED: [string[], string][] = [
    [['prefix: /app/../x'], 'prefix="/app/../x": requests are matched in normalised form; write /x'],
    [['regex: "(?=x)"'], 'regex="(?=x)": not a valid RE2 expression (Gatehouse, like Pomerium, takes RE2 only: no backreferences or lookarounds): error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    [['prefix: /a', 'regex: "^/b"'], 'regex: a route matches by one of prefix, path or regex; keep only one'],
    [['prefix_rewrite: v2'], 'prefix_rewrite="v2": expected a path starting with /, such as /api/'],
    [['regex_rewrite_substitution: /x'], 'regex_rewrite_pattern: regex_rewrite_substitution needs regex_rewrite_pattern'],
    [['host_rewrite: "bad host"'], 'host_rewrite="bad host": expected a host name, such as internal.example.com'],
    [['host_rewrite_header: X-A', 'host_path_regex_rewrite_pattern: "^/(.*)$"', 'host_path_regex_rewrite_substitution: "\\\\1"'], 'host_rewrite_header: use one Host rewrite: host_rewrite_header or host_path_regex_rewrite_pattern'],
    [['set_request_headers: { X-Id: "${pomerium.id_token}" }'], 'set_request_headers.X-Id: ${pomerium.id_token} cannot be supplied by Gatehouse; only ${pomerium.jwt} is (write $$ for a literal $)'],
    [['set_request_headers: { X-Fp: "${pomerium.client_cert_fingerprint}" }'], 'set_request_headers.X-Fp: ${pomerium.client_cert_fingerprint} cannot be supplied by Gatehouse; only ${pomerium.jwt} is (write $$ for a literal $)'],
    [['set_request_headers: { X-A: "{literal}" }'], 'set_request_headers.X-A: a value with {word} in it cannot be sent as written (Gatehouse reads {word} as a placeholder)'],
    [['set_response_headers: { Set-Cookie: "a=b" }'], 'set_response_headers.Set-Cookie: this header cannot be set on responses'],
    [['tls_custom_ca: bm90IGEgY2VydA=='], 'tls_custom_ca: expected a base64-encoded PEM certificate, as Pomerium takes it'],
    [['tls_client_cert_file: /c.pem'], 'tls_client_cert: a client certificate needs both tls_client_cert (or tls_client_cert_file) and tls_client_key_file'],
    [['tls_client_key: aGVsbG8='], 'tls_client_key: an inline private key would be shown with the route; put it in a file and use tls_client_key_file'],
    [['rewrite_response_headers: []'], 'rewrite_response_headers: the Pomerium option rewrite_response_headers has no Gatehouse equivalent; remove it, or serve this route another way'],
  ];

  it.each(REFUSED)('%j is refused', (lines, message) => {
    const { specs, messages, closed } = parse(lines);
    expect(specs).toEqual([]);
    expect(messages).toEqual([message]);
    expect(closed).toBe(1);
  });
});

describe('a refused Pomerium route keeps its address closed, never widened', () => {
  it.each([
    ['prefix: /admin', '/admin', true],
    ['prefix: /admin/', '/admin', true],
    ['path: /admin/login', '/admin/login', undefined],
    ['regex: "^/admin"', '/', undefined],
  ])('%s closes %s (as a string prefix: %s)', (line, closedPath, stringPrefix) => {
    const text = ['routes:', '  - from: https://app.example.com', '    to: http://10.0.0.2:80', '    allowed_groups: [x]', `    ${line}`, '    host_rewrite: "bad host"', ''].join('\n');
    const parsed = parseRoutesFile(text, 'config.yaml');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.specs).toEqual([]);
    expect(parsed.result.closed?.map((claim) => [claim.path, claim.stringPrefix])).toEqual([[closedPath, stringPrefix]]);
  });
});

describe('toTemplate', () => {
  it.each([
    ['Bearer ${pomerium.jwt}', 'Bearer {jwt}'],
    ['$$world', '$world'],
    ['cost $5', 'cost $5'],
    ['${pomerium.jwt}${pomerium.jwt}', '{jwt}{jwt}'],
  ])('%s → %s', (text, template) => {
    expect(toTemplate(text)).toEqual({ ok: true, value: template });
  });
});
