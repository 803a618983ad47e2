import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { readIdentitySettings } from '../../../src/config/identity.ts';
import { collectPomeriumSettings, mapPomeriumSettings, POMERIUM_SETTINGS } from '../../../src/config/pomerium-settings.ts';
import { isGatehouseError } from '../../../src/errors.ts';

/** Pomerium's global settings → GATEHOUSE_* variables, through the loader as `serve` runs it. */

const SECRET = Buffer.alloc(32, 7).toString('base64');
const AZURE = 'https://login.microsoftonline.com/0b5e0c8e-1111-2222-3333-444455556666/v2.0';

function load(env: Record<string, string>, files: Record<string, string> = {}) {
  return loadConfig(env, (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  });
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (!isGatehouseError(error, 'CONFIG_INVALID')) throw error;
    return error.message.split('\n').slice(1).map((line) => line.trim());
  }
  return [];
}

const CONFIG = `
authenticate_service_url: https://authenticate.example.com
idp_provider: azure
idp_provider_url: ${AZURE}
idp_client_id: the-client
idp_client_secret: do-not-echo-me
idp_scopes: [email, profile]
cookie_secret: ${SECRET}
cookie_expire: 8h
insecure_server: true
address: :8080
log_level: warning
jwt_claims_headers: [email, groups]
pass_identity_headers: true
shared_secret: also-secret
cookie_name: _pomerium
routes:
  - from: https://app.example.com
    to: http://app:80
    allowed_domains: [example.com]
`;

describe('a whole Pomerium config.yaml', () => {
  it('maps every setting with a Gatehouse meaning, and notes each once', () => {
    const config = load({ GATEHOUSE_CONFIG: '/etc/pomerium/config.yaml' }, { '/etc/pomerium/config.yaml': CONFIG });
    expect(config.GATEHOUSE_OIDC_ISSUER).toBe(AZURE);
    expect(config.GATEHOUSE_OIDC_CLIENT_ID).toBe('the-client');
    expect(config.GATEHOUSE_OIDC_CLIENT_SECRET).toBe('do-not-echo-me');
    expect(config.GATEHOUSE_OIDC_SCOPES).toBe('openid email profile');
    expect(config.GATEHOUSE_AUTH_URL).toBe('https://authenticate.example.com');
    expect(config.GATEHOUSE_SECRET).toBe(SECRET);
    expect(config.GATEHOUSE_SESSION_TTL).toBe(8 * 3_600_000);
    expect(config.GATEHOUSE_LISTEN).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.GATEHOUSE_LOG_LEVEL).toBe('warn');
    expect(config.pomerium?.jwtClaimsHeaders).toEqual({ 'X-Pomerium-Claim-Email': 'email', 'X-Pomerium-Claim-Groups': 'groups' });
    expect(config.pomerium?.passIdentityHeaders).toBe(true);
    const outcomes = Object.fromEntries((config.pomerium?.notes ?? []).map((n) => [n.key, n.outcome]));
    expect(outcomes).toEqual({
      authenticate_service_url: 'mapped',
      idp_provider: 'mapped',
      idp_provider_url: 'mapped',
      idp_client_id: 'mapped',
      idp_client_secret: 'mapped',
      idp_scopes: 'mapped',
      cookie_secret: 'mapped',
      cookie_expire: 'mapped',
      insecure_server: 'mapped',
      address: 'mapped',
      log_level: 'mapped',
      jwt_claims_headers: 'mapped',
      pass_identity_headers: 'mapped',
      shared_secret: 'ignored',
      cookie_name: 'ignored',
    });
    // Secrets are read, never repeated in a note.
    expect(JSON.stringify(config.pomerium)).not.toMatch(/do-not-echo-me|also-secret|AAAA/);
    // The Azure-style settings make an outside-provider sign-in.
    const identity = readIdentitySettings(config);
    expect(identity).toMatchObject({ authUrl: 'https://authenticate.example.com', methods: [{ kind: 'oidc', issuer: AZURE, clientId: 'the-client' }] });
  });

  it("reads Pomerium's environment names, which win over the file; a GATEHOUSE_* variable wins over both", () => {
    const config = load(
      { GATEHOUSE_CONFIG: '/c.yaml', IDP_CLIENT_ID: 'from-env', GATEHOUSE_OIDC_SCOPES: 'openid email', IDP_CLIENT_SECRET_FILE: '/run/secrets/idp' },
      { '/c.yaml': CONFIG.replace('idp_client_secret: do-not-echo-me\n', ''), '/run/secrets/idp': 'file-secret\n' },
    );
    expect(config.GATEHOUSE_OIDC_CLIENT_ID).toBe('from-env');
    expect(config.GATEHOUSE_OIDC_SCOPES).toBe('openid email');
    expect(config.GATEHOUSE_OIDC_CLIENT_SECRET).toBe('file-secret');
    const notes = config.pomerium?.notes ?? [];
    expect(notes.find((n) => n.key === 'idp_client_id')?.message).toBe('Pomerium setting IDP_CLIENT_ID read as GATEHOUSE_OIDC_CLIENT_ID');
    expect(notes.find((n) => n.key === 'idp_scopes')).toEqual({ key: 'idp_scopes', outcome: 'overridden', message: 'Pomerium setting /c.yaml: idp_scopes not used: GATEHOUSE_OIDC_SCOPES is set and wins' });
  });

  it("POLICY alone turns on Pomerium's environment names (seed 002's setup)", () => {
    const policy = Buffer.from('- from: https://code.example.com\n  to: http://code:8080\n  allow_websockets: true\n  allowed_users: [alice@example.com]\n').toString('base64');
    const env = {
      POLICY: policy,
      IDP_PROVIDER: 'azure',
      IDP_PROVIDER_URL: AZURE,
      IDP_CLIENT_ID: 'cid',
      IDP_CLIENT_SECRET: 'csecret',
      AUTHENTICATE_SERVICE_URL: 'https://auth.example.com',
      COOKIE_SECRET: SECRET,
      INSECURE_SERVER: 'true',
      ADDRESS: ':80',
    };
    const config = load(env);
    expect(config).toMatchObject({ GATEHOUSE_OIDC_ISSUER: AZURE, GATEHOUSE_OIDC_CLIENT_ID: 'cid', GATEHOUSE_AUTH_URL: 'https://auth.example.com', GATEHOUSE_LISTEN: { host: '0.0.0.0', port: 80 } });
    // Without POLICY or a Pomerium file, those names mean nothing to Gatehouse.
    const { POLICY: _, ...withoutPolicy } = env;
    const plain = load(withoutPolicy);
    expect(plain.GATEHOUSE_OIDC_ISSUER).toBeUndefined();
    expect(plain.pomerium).toBeNull();
  });

  it("ROUTES, Pomerium's current name for POLICY, turns the same mode on and is read as routes", async () => {
    const routes = Buffer.from('- from: https://r.example.com\n  to: http://r:80\n  allowed_domains: [example.com]\n').toString('base64');
    const config = load({ ROUTES: routes, IDP_CLIENT_ID: 'cid' });
    expect(config.GATEHOUSE_OIDC_CLIENT_ID).toBe('cid');
    expect(config.ROUTES).toContain('https://r.example.com');
    const { parsePolicyEnv } = await import('../../../src/config/index.ts');
    const parsed = parsePolicyEnv(config.ROUTES as string, {}, 'ROUTES');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.result.specs.map((s) => [s.source, s.hosts[0]])).toEqual([[{ kind: 'file', file: 'ROUTES', index: 0 }, 'r.example.com']]);
  });

  it('a Gatehouse-format routes file is not a Pomerium configuration', () => {
    const config = load({ GATEHOUSE_CONFIG: '/g.yaml', IDP_CLIENT_ID: 'x' }, { '/g.yaml': 'routes:\n  - from: https://a.example.com\n    to: http://a\n    allow: "*"\n' });
    expect(config.pomerium).toBeNull();
    expect(config.GATEHOUSE_OIDC_CLIENT_ID).toBeUndefined();
  });
});

describe('settings that would change who gets in are refused, never ignored', () => {
  it.each([
    ['client_ca_file: /ca.pem', 'client_ca_file: Gatehouse does not ask browsers for client certificates'],
    ['downstream_mtls: { ca_file: /ca.pem }', 'downstream_mtls: Gatehouse does not ask browsers for client certificates'],
    ['autocert: true', 'autocert: Gatehouse does not obtain certificates itself'],
    ['idp_provider: github', 'idp_provider: GitHub sign-in is OAuth 2 without OpenID Connect'],
    ['idp_provider: myspace', 'idp_provider: expected one of oidc, azure'],
    ['services: authorize', 'services: Gatehouse runs every service in one process'],
    ['certificate: LS0tLS1CRUdJTi...', 'certificate: inline certificates are not read'],
    ['certificate_file: /a/cert.pem', 'certificate_file: certificate_file and certificate_key_file go together'],
    ['certificate_file: /a/x.crt\ncertificate_key_file: /b/x.key', 'certificate_file: Gatehouse reads certificates from one folder'],
    ['address: :443', 'address: Pomerium serves HTTPS on address, but no certificate is given'],
    ['cookie_expire: 3 weeks', 'cookie_expire: expected a duration such as 14h'],
    ['idp_access_token_allowed_audiences: [api]', 'idp_access_token_allowed_audiences: Gatehouse does not accept IdP access tokens'],
  ])('%s', (setting, problem) => {
    const lines = problemsOf(() => load({ GATEHOUSE_CONFIG: '/c.yaml' }, { '/c.yaml': `${setting}\nroutes: []\n` }));
    expect(lines.some((line) => line.startsWith(`/c.yaml: ${problem}`)), lines.join('\n')).toBe(true);
  });

  it('a value that maps but is wrong names the Pomerium setting it came from', () => {
    const lines = problemsOf(() => load({ GATEHOUSE_CONFIG: '/c.yaml' }, { '/c.yaml': 'authenticate_service_url: ftp://x\nroutes: []\n' }));
    expect(lines).toContain(`GATEHOUSE_AUTH_URL="ftp://x" (from Pomerium's /c.yaml: authenticate_service_url): expected an http or https URL`);
  });
});

describe('certificates', () => {
  it.each([
    [['/certs/example.com.crt', '/certs/example.com.key'], '/certs'],
    [['/etc/letsencrypt/live/a/fullchain.pem', '/etc/letsencrypt/live/a/privkey.pem'], '/etc/letsencrypt/live/a'],
    [['/pomerium/cert.pem', '/pomerium/privkey.pem'], '/pomerium'],
  ])('%j → GATEHOUSE_TLS_DIR=%s', ([cert, key], dir) => {
    const mapped = mapPomeriumSettings(collectPomeriumSettings({ certificate_file: cert, certificate_key_file: key }, 'c.yaml', {}, false), {});
    expect(mapped.problems).toEqual([]);
    expect(mapped.env).toEqual({ GATEHOUSE_TLS_DIR: dir });
  });

  it('a certificates: list in one folder maps too, and address becomes the HTTPS listener', () => {
    const settings = { certificates: [{ cert: '/c/a.crt', key: '/c/a.key' }, { cert: '/c/b.crt', key: '/c/b.key' }], address: ':8443' };
    const mapped = mapPomeriumSettings(collectPomeriumSettings(settings, 'c.yaml', {}, false), {});
    expect(mapped.problems).toEqual([]);
    expect(mapped.env).toEqual({ GATEHOUSE_TLS_DIR: '/c', GATEHOUSE_HTTPS_LISTEN: '0.0.0.0:8443' });
  });
});

describe('every setting is classified', () => {
  it('each known setting is mapped, ignored or refused: none slips through without a word', () => {
    for (const key of POMERIUM_SETTINGS) {
      const mapped = mapPomeriumSettings(collectPomeriumSettings({ [key]: 'x' }, 'c.yaml', {}, false), {});
      const said = mapped.notes.some((n) => n.key === key) || mapped.problems.some((p) => p.startsWith(`c.yaml: ${key}:`)) || Object.keys(mapped.env).length > 0;
      expect(said, key).toBe(true);
    }
  });
});
