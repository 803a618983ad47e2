import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { parseRoutesFile } from '../../../src/config/routes-file.ts';
import { decodePolicyEnv } from '../../../src/config/routes-file-policy-env.ts';
import { combineRouteSources, parsePolicyEnv } from '../../../src/config/routes-file-sources.ts';
import { RouteSpec, type TranslationResult } from '../../../src/routes/spec.ts';

/** Every shape in which Pomerium reads its routes, read the same way. */
const FILE = 'policy.yaml';

function parse(text: string, file = FILE): TranslationResult {
  const parsed = parseRoutesFile(text, file);
  if (!parsed.ok) throw new Error(`expected the file to parse: ${parsed.error}`);
  for (const spec of parsed.result.specs) expect(RouteSpec.parse(spec)).toEqual(spec);
  return parsed.result;
}

const summary = (result: TranslationResult) => result.specs.map((s) => [s.source, s.routeName, s.hosts[0], s.upstream.origin]);

/** Pomerium's policy.example.yaml shape: a bare list, Pomerium options, one entry broken. */
const BARE_LIST = `# policy.yaml
- from: https://httpbin.corp.example.com
  to: http://httpbin:8000
  allowed_domains:
    - pomerium.io
- from: https://external-httpbin.corp.example.com
  to: https://httpbin.org
  allow_public_unauthenticated_access: true
- from: https://weirdlyssl.corp.example.com
  to: http://neverssl.com
  allowed_users:
    - bdd@pomerium.io
  unknown_thing: 1
`;

describe('the shapes of a Pomerium policy', () => {
  it('reads a bare list of routes (a Pomerium policy file)', () => {
    const result = parse(BARE_LIST);
    expect(summary(result)).toEqual([
      [{ kind: 'file', file: FILE, index: 0 }, 'file:0', 'httpbin.corp.example.com', 'http://httpbin:8000'],
      [{ kind: 'file', file: FILE, index: 1 }, 'file:1', 'external-httpbin.corp.example.com', 'https://httpbin.org'],
    ]);
    expect(result.specs[0]?.policy.allow).toEqual([{ kind: 'domain', domain: 'pomerium.io' }]);
    expect(result.specs[1]?.policy.public).toBe(true);
    // A bad entry rejects only itself and is named as Pomerium names it.
    expect(result.issues.map((i) => [i.source, i.message])).toEqual([[{ kind: 'file', file: FILE, index: 2 }, expect.stringMatching(/^policy\.yaml:13:3: policy\[2\]\.unknown_thing/)]]);
  });

  it('reads the policy: key, and both policy: and routes: in one file, each route with its own identity', () => {
    const text = `authenticate_service_url: https://authenticate.corp.example.com
policy:
  - from: https://a.corp.example.com
    to: http://a:80
    allow_any_authenticated_user: true
routes:
  - from: https://b.corp.example.com
    to: http://b:80
    allow_any_authenticated_user: true
  - from: https://c.corp.example.com
    to: http://c:80
    allowed_users: [not-an-email@]
`;
    const parsed = parseRoutesFile(text, FILE);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(summary(parsed.result)).toEqual([
      [{ kind: 'file', file: FILE, index: 0 }, 'file:0', 'a.corp.example.com', 'http://a'],
      [{ kind: 'file', file: FILE, index: 1 }, 'file:1', 'b.corp.example.com', 'http://b'],
    ]);
    expect(parsed.result.issues.map((i) => [i.source, i.message.split(':').slice(0, 4).join(':')])).toEqual([[{ kind: 'file', file: FILE, index: 2 }, `${FILE}:12:5: routes[1].allowed_users`]]);
    // Global settings are mapped at startup (pomerium-settings.ts), not noted per reload.
    expect(parsed.settings).toEqual([]);
  });

  it('takes an empty policy: like an empty routes:', () => {
    expect(parse('policy:\n')).toEqual({ specs: [], issues: [] });
    expect(parse('[]\n')).toEqual({ specs: [], issues: [] });
  });

  it('reports only non-Pomerium top-level keys as problems; Pomerium settings are read at startup', () => {
    const parsed = parseRoutesFile('idp_client_secret: s3cret\ncookie_secret: x\npolicy: []\nroutse: []\n', FILE);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.issues.map((i) => i.message)).toEqual([`${FILE}:4:1: unknown top-level key routse; did you mean routes?`]);
    expect(parsed.settings).toEqual([]);
    expect(JSON.stringify(parsed)).not.toContain('s3cret');
  });
});

describe('Pomerium-looking settings Gatehouse does not know', () => {
  it('are noted as ignored, never silently dropped', () => {
    const parsed = parseRoutesFile('cookie_partitioned: true\nroutes: []\n', FILE);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.issues).toEqual([]);
    expect(parsed.settings).toEqual([{ key: 'cookie_partitioned', outcome: 'ignored', message: `${FILE}:1:1: Pomerium setting cookie_partitioned ignored: Gatehouse has no equivalent (see README, Coming from Pomerium)` }]);
  });
});

describe('Pomerium settings a routes file may not carry', () => {
  it('a setting Gatehouse refuses rejects the whole file, also on a reload', () => {
    const parsed = parseRoutesFile('client_ca_file: /ca.pem\nroutes:\n  - from: https://a.example.com\n    to: http://a\n', FILE);
    expect(parsed).toEqual({ ok: false, error: expect.stringContaining(`${FILE}: client_ca_file: Gatehouse does not ask browsers for client certificates`) });
  });
});

describe("Pomerium's POLICY variable", () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const json = JSON.stringify([{ from: 'https://code.corp.example.com', to: 'http://code-server:8443', allow_websockets: true, allowed_users: ['alice@corp.example.com'] }]);

  it('is read through the environment as base64 of YAML or JSON, and gives its routes under the name POLICY', () => {
    for (const text of [BARE_LIST, json]) {
      const config = loadConfig({ POLICY: b64(text) });
      expect(config.POLICY).toBe(text);
    }
    const fromJson = parsePolicyEnv(loadConfig({ POLICY: b64(json) }).POLICY as string);
    if (!fromJson.ok) throw new Error(fromJson.error);
    expect(summary(fromJson.result)).toEqual([[{ kind: 'file', file: 'POLICY', index: 0 }, 'file:0', 'code.corp.example.com', 'http://code-server:8443']]);
    expect(fromJson.result.specs[0]?.policy.allow).toEqual([{ kind: 'email', email: 'alice@corp.example.com' }]);
    const fromYaml = parsePolicyEnv(decodePolicyEnv(b64(BARE_LIST)) as string);
    expect(fromYaml.ok && fromYaml.result.issues[0]?.message).toMatch(/^POLICY:13:3: policy\[2\]\.unknown_thing/);
  });

  it('accepts base64 wrapped over lines (base64 without -w0), as Go decodes it', () => {
    const wrapped = (b64(BARE_LIST).match(/.{1,76}/g) as string[]).join('\n');
    expect(decodePolicyEnv(wrapped)).toBe(BARE_LIST);
  });

  it('refuses a value that is not base64, saying how to make it', () => {
    for (const value of ['- from: https://a.example.com', 'abc', 'YWJj!', 'YW Jj']) {
      expect(decodePolicyEnv(value)).toBeNull();
      expect(() => loadConfig({ POLICY: value })).toThrow(/POLICY=.*expected base64 of the policy YAML or JSON, as Pomerium reads it \(e\.g\. POLICY=\$\(base64 -w0 policy\.yaml\)\)/);
    }
  });

  it('is combined with the routes file, each keeping its own source', () => {
    const file = parse('routes:\n  - { from: https://a.example.com, to: http://a }\n', 'gatehouse.yml');
    const policy = parse(json, 'POLICY');
    const both = combineRouteSources(file, policy);
    expect(both?.specs.map((s) => [s.source, s.hosts[0]])).toEqual([
      [{ kind: 'file', file: 'gatehouse.yml', index: 0 }, 'a.example.com'],
      [{ kind: 'file', file: 'POLICY', index: 0 }, 'code.corp.example.com'],
    ]);
    expect(combineRouteSources(null, policy)).toBe(policy);
    expect(combineRouteSources(file, null)).toBe(file);
    expect(combineRouteSources(null, null)).toBeNull();
  });
});
