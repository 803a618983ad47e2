import { parseDuration } from '../util/duration.ts';

/**
 * Pomerium's global settings (the keys of its config.yaml beside `routes:`, and the same names
 * in upper case as environment variables) → the GATEHOUSE_* variables that mean the same. Pure:
 * settings in, an environment overlay and one note per setting out. The loader (load.ts) lays
 * the overlay under the real environment, so a GATEHOUSE_* variable that is set always wins.
 *
 * Every setting Pomerium documents is classified: mapped, ignored (no effect on who gets in,
 * e.g. log fields or cookie names), or refused. A setting Gatehouse cannot honour and whose
 * absence would let more people in, or serve differently than the operator asked (client
 * certificates, split-service mode, automatic certificates), is refused with what to do.
 */

/** A Pomerium setting and what Gatehouse did with it, logged once at startup. */
export interface SettingNote {
  readonly key: string;
  readonly outcome: 'mapped' | 'ignored' | 'overridden';
  readonly message: string;
}

export interface PomeriumSettingsResult {
  /** GATEHOUSE_* → value, for the variables not set in the environment. */
  readonly env: Readonly<Record<string, string>>;
  /** GATEHOUSE_* → the Pomerium setting its value came from, for error messages. */
  readonly origins: Readonly<Record<string, string>>;
  readonly notes: readonly SettingNote[];
  /** Refused settings, one line each, naming the setting and what to do. */
  readonly problems: readonly string[];
  /** `jwt_claims_headers`: header name → claim, for routes that pass identity headers. */
  readonly jwtClaimsHeaders: Readonly<Record<string, string>>;
  /** The global `pass_identity_headers`, the default for Pomerium routes that do not say. */
  readonly passIdentityHeaders: boolean | null;
}

/** Where a setting was read: the file's key or Pomerium's environment variable. */
export interface SettingValue {
  readonly value: unknown;
  /** `config.yaml: idp_client_id` or `IDP_CLIENT_ID`, as the notes name it. */
  readonly from: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Settings with no effect on who gets in, and why Gatehouse leaves them alone. */
const IGNORED: Record<string, string> = {
  cookie_name: 'Gatehouse names its own cookies',
  cookie_domain: 'Gatehouse sets host-only cookies and signs in across domains by itself',
  cookie_same_site: 'Gatehouse sets its own cookie attributes',
  cookie_http_only: 'Gatehouse cookies are always HttpOnly',
  cookie_secure: 'Gatehouse cookies are Secure whenever the sign-in address is https',
  idp_request_params: 'Gatehouse sends no extra authorization parameters (hints such as hd are not an access check)',
  idp_service_account: 'Gatehouse reads groups from the token, not from a directory sync',
  idp_refresh_directory_timeout: 'Gatehouse reads groups from the token, not from a directory sync',
  idp_refresh_directory_interval: 'Gatehouse reads groups from the token, not from a directory sync',
  shared_secret: 'Gatehouse runs as one process; there are no services to authenticate to each other',
  shared_secret_file: 'Gatehouse runs as one process; there are no services to authenticate to each other',
  signing_key: 'Gatehouse signs identity assertions with its own key, published at /.well-known/jwks.json',
  signing_key_file: 'Gatehouse signs identity assertions with its own key, published at /.well-known/jwks.json',
  signing_key_algorithm: 'Gatehouse signs identity assertions with its own key',
  jwt_issuer_format: 'Gatehouse sets its own issuer',
  jwt_groups_filter: 'Gatehouse passes the groups the provider sends',
  proxy_log_level: 'use GATEHOUSE_LOG_LEVEL',
  access_log_fields: 'Gatehouse logs its own access fields (GATEHOUSE_ACCESS_LOG)',
  authorize_log_fields: 'Gatehouse logs each refusal with the deciding rule',
  metrics_address: 'Gatehouse serves /metrics on GATEHOUSE_ADMIN_LISTEN',
  metrics_basic_auth: 'Gatehouse serves /metrics on GATEHOUSE_ADMIN_LISTEN',
  health_check_addr: 'Gatehouse serves /healthz and /readyz on GATEHOUSE_ADMIN_LISTEN',
  tracing_provider: 'Gatehouse does not export traces',
  tracing_sample_rate: 'Gatehouse does not export traces',
  default_upstream_timeout: 'Gatehouse routes default to 30s; set timeout on a route',
  timeout_read: 'see GATEHOUSE_REQUEST_TIMEOUT',
  timeout_write: 'see GATEHOUSE_REQUEST_TIMEOUT',
  timeout_idle: 'see GATEHOUSE_KEEPALIVE_TIMEOUT',
  signout_redirect_url: 'Gatehouse shows its own signed-out page',
  routes_portal: "Gatehouse's app list is at the sign-in address",
  forward_auth_url: 'Gatehouse is the proxy itself (Pomerium removed forward auth in v0.21)',
  databroker_storage_type: 'Gatehouse keeps its state in its data folder',
  databroker_storage_connection_string: 'Gatehouse keeps its state in its data folder',
  grpc_address: 'Gatehouse runs as one process',
  grpc_insecure: 'Gatehouse runs as one process',
  authorize_service_url: 'Gatehouse runs as one process',
  databroker_service_url: 'Gatehouse runs as one process',
  databroker_service_urls: 'Gatehouse runs as one process',
  authenticate_internal_service_url: 'Gatehouse runs as one process',
  autocert_dir: 'Gatehouse does not obtain certificates',
  autocert_must_staple: 'Gatehouse does not obtain certificates',
  autocert_use_staging: 'Gatehouse does not obtain certificates',
};

/** Settings whose absence would change who gets in or how Gatehouse is reached: refused, with what to do. */
const REFUSED: Record<string, string> = {
  client_ca: 'Gatehouse does not ask browsers for client certificates, so it would let in clients without one; terminate mTLS in front of Gatehouse, or remove it',
  client_ca_file: 'Gatehouse does not ask browsers for client certificates, so it would let in clients without one; terminate mTLS in front of Gatehouse, or remove it',
  downstream_mtls: 'Gatehouse does not ask browsers for client certificates, so it would let in clients without one; terminate mTLS in front of Gatehouse, or remove it',
  autocert: 'Gatehouse does not obtain certificates itself; give it certificate_file/certificate_key_file, or GATEHOUSE_TLS_ACME_JSON / GATEHOUSE_TLS_DIR',
  certificate: 'inline certificates are not read; write the PEM to files and give certificate_file and certificate_key_file',
  certificate_key: 'inline certificates are not read; write the PEM to files and give certificate_file and certificate_key_file',
  idp_access_token_allowed_audiences: 'Gatehouse does not accept IdP access tokens as sign-in; remove it',
};

/** The Pomerium settings with a Gatehouse meaning, handled one by one below. */
const MAPPED = [
  'idp_provider',
  'idp_provider_url',
  'idp_client_id',
  'idp_client_secret',
  'idp_client_secret_file',
  'idp_scopes',
  'authenticate_service_url',
  'cookie_secret',
  'cookie_secret_file',
  'cookie_expire',
  'insecure_server',
  'address',
  'http_redirect_addr',
  'certificate_file',
  'certificate_key_file',
  'certificates',
  'log_level',
  'jwt_claims_headers',
  'pass_identity_headers',
  'services',
] as const;

/** Every global setting this module knows, in the order notes are written. */
export const POMERIUM_SETTINGS: readonly string[] = [...MAPPED, ...Object.keys(REFUSED), ...Object.keys(IGNORED)];

/** Pomerium's providers that speak OpenID Connect, with their issuer when Pomerium has a default. */
const OIDC_PROVIDERS: Record<string, string | null> = {
  oidc: null,
  azure: null,
  okta: null,
  auth0: null,
  cognito: null,
  onelogin: null,
  ping: null,
  keycloak: null,
  google: 'https://accounts.google.com',
  gitlab: 'https://gitlab.com',
};
const NOT_OIDC: Record<string, string> = {
  github: 'GitHub sign-in is OAuth 2 without OpenID Connect',
  apple: "Sign in with Apple needs a signed client secret Gatehouse does not make",
};

/**
 * The settings Pomerium would read: the file's keys, then its environment variables (upper-case
 * names), which win over the file as they do in Pomerium. Environment variables are read only
 * when `fromEnv` (Gatehouse runs a Pomerium configuration: POLICY or a Pomerium config file).
 */
export function collectPomeriumSettings(fileSettings: Readonly<Record<string, unknown>>, fileName: string, env: Env, fromEnv: boolean): Map<string, SettingValue> {
  const settings = new Map<string, SettingValue>();
  for (const [key, value] of Object.entries(fileSettings)) {
    if (POMERIUM_SETTINGS.includes(key)) settings.set(key, { value, from: `${fileName}: ${key}` });
  }
  if (fromEnv) {
    for (const key of POMERIUM_SETTINGS) {
      const value = env[key.toUpperCase()];
      if (value !== undefined && value !== '') settings.set(key, { value, from: key.toUpperCase() });
    }
  }
  return settings;
}

/** Whether a top-level key of a config file is one of Pomerium's global settings. */
export function isPomeriumSetting(key: string): boolean {
  return POMERIUM_SETTINGS.includes(key);
}

export function mapPomeriumSettings(settings: ReadonlyMap<string, SettingValue>, env: Env): PomeriumSettingsResult {
  const overlay: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const notes: SettingNote[] = [];
  const problems: string[] = [];
  const text = (key: string): string | null => scalar(settings.get(key)?.value);
  const refuse = (key: string, why: string) => problems.push(`${settings.get(key)?.from ?? key}: ${why}`);

  /** GATEHOUSE_* variable `name` gets `value` from `key`, unless the environment already sets it. */
  const map = (key: string, name: string, value: string) => {
    const from = settings.get(key)?.from ?? key;
    // `X` and `X_FILE` are one setting: either one set in the environment wins over both.
    const base = name.replace(/_FILE$/, '');
    const set = [base, `${base}_FILE`].find((variable) => env[variable] !== undefined);
    if (set !== undefined) {
      notes.push({ key, outcome: 'overridden', message: `Pomerium setting ${from} not used: ${set} is set and wins` });
      return;
    }
    if (name in overlay) return;
    overlay[name] = value;
    origins[name] = from;
    notes.push({ key, outcome: 'mapped', message: `Pomerium setting ${from} read as ${name}` });
  };
  const handled = new Set<string>();
  const mapOne = (key: string, name: string, convert: (value: string) => string | null, shape: string) => {
    handled.add(key);
    if (!settings.has(key)) return;
    const value = text(key);
    const converted = value === null ? null : convert(value);
    if (converted === null) refuse(key, `expected ${shape}`);
    else map(key, name, converted);
  };

  // Sign-in.
  handled.add('idp_provider');
  const provider = text('idp_provider')?.toLowerCase() ?? null;
  if (settings.has('idp_provider')) {
    if (provider !== null && NOT_OIDC[provider] !== undefined) refuse('idp_provider', `${NOT_OIDC[provider]}; Gatehouse signs in with OpenID Connect providers only`);
    else if (provider === null || !(provider in OIDC_PROVIDERS)) refuse('idp_provider', `expected one of ${Object.keys(OIDC_PROVIDERS).join(', ')} (Gatehouse speaks OpenID Connect to any of them)`);
    else notes.push({ key: 'idp_provider', outcome: 'mapped', message: `Pomerium setting ${settings.get('idp_provider')?.from}: ${provider} is signed in with OpenID Connect at idp_provider_url` });
  }
  handled.add('idp_provider_url');
  const issuer = text('idp_provider_url') ?? (provider === null ? null : (OIDC_PROVIDERS[provider] ?? null));
  if (issuer !== null) {
    if (!/^https?:\/\/\S+$/i.test(issuer)) refuse('idp_provider_url', 'expected the issuer URL, such as https://login.microsoftonline.com/TENANT/v2.0');
    else map(settings.has('idp_provider_url') ? 'idp_provider_url' : 'idp_provider', 'GATEHOUSE_OIDC_ISSUER', issuer);
  }
  mapOne('idp_client_id', 'GATEHOUSE_OIDC_CLIENT_ID', (v) => v, 'the client id');
  mapOne('idp_client_secret', 'GATEHOUSE_OIDC_CLIENT_SECRET', (v) => v, 'the client secret');
  mapOne('idp_client_secret_file', 'GATEHOUSE_OIDC_CLIENT_SECRET_FILE', (v) => v, 'a file path');
  handled.add('idp_scopes');
  if (settings.has('idp_scopes')) {
    const scopes = list(settings.get('idp_scopes')?.value);
    if (scopes === null || scopes.length === 0) refuse('idp_scopes', 'expected a list of scopes, such as [openid, email, profile]');
    else map('idp_scopes', 'GATEHOUSE_OIDC_SCOPES', (scopes.includes('openid') ? scopes : ['openid', ...scopes]).join(' '));
  }
  mapOne('authenticate_service_url', 'GATEHOUSE_AUTH_URL', (v) => v, 'a URL such as https://authenticate.example.com');
  mapOne('cookie_secret', 'GATEHOUSE_SECRET', (v) => v, '32 random bytes in base64 (head -c32 /dev/urandom | base64)');
  mapOne('cookie_secret_file', 'GATEHOUSE_SECRET_FILE', (v) => v, 'a file path');
  mapOne('cookie_expire', 'GATEHOUSE_SESSION_TTL', (v) => (parseDuration(v) === null ? null : v), 'a duration such as 14h');
  mapOne('log_level', 'GATEHOUSE_LOG_LEVEL', (v) => logLevel(v), 'one of debug, info, warn, error');

  // Listeners and certificates.
  handled.add('insecure_server');
  const insecure = settings.has('insecure_server') ? bool(settings.get('insecure_server')?.value) : false;
  if (insecure === null) refuse('insecure_server', 'expected true or false');
  else if (settings.has('insecure_server')) notes.push({ key: 'insecure_server', outcome: 'mapped', message: `Pomerium setting ${settings.get('insecure_server')?.from}: ${insecure ? 'address is the plain-HTTP listener (GATEHOUSE_LISTEN)' : 'address is the HTTPS listener'}` });
  mapOne('address', insecure === true ? 'GATEHOUSE_LISTEN' : 'GATEHOUSE_HTTPS_LISTEN', listenAddress, 'an address such as :443 or 0.0.0.0:8443');
  mapOne('http_redirect_addr', 'GATEHOUSE_LISTEN', listenAddress, 'an address such as :80');
  for (const key of ['certificate_file', 'certificate_key_file', 'certificates']) handled.add(key);
  const pairs = certificatePairs(settings, refuse);
  if (pairs !== null && pairs.length > 0) {
    const dirs = [...new Set(pairs.map((pair) => certificateFolder(pair)))];
    if (dirs.some((d) => d === null) || dirs.length !== 1) {
      refuse(
        settings.has('certificates') ? 'certificates' : 'certificate_file',
        'Gatehouse reads certificates from one folder: put each pair there as NAME.crt + NAME.key (or certbot\'s fullchain.pem + privkey.pem) and set GATEHOUSE_TLS_DIR to it',
      );
    } else map(settings.has('certificates') ? 'certificates' : 'certificate_file', 'GATEHOUSE_TLS_DIR', dirs[0] as string);
  }

  // Pomerium serves HTTPS on `address` unless insecure_server: without a certificate that would be plain HTTP here.
  const tlsFromEnv = env.GATEHOUSE_TLS_DIR !== undefined || env.GATEHOUSE_TLS_ACME_JSON !== undefined;
  if (settings.has('address') && insecure === false && (pairs === null || pairs.length === 0) && !tlsFromEnv && !settings.has('autocert')) {
    refuse('address', 'Pomerium serves HTTPS on address, but no certificate is given: add certificate_file and certificate_key_file (or set GATEHOUSE_TLS_DIR), or set insecure_server: true');
  }

  // Identity headers: kept for the routes (see the result type).
  handled.add('jwt_claims_headers');
  let jwtClaimsHeaders: Record<string, string> = {};
  if (settings.has('jwt_claims_headers')) {
    const parsed = claimHeaders(settings.get('jwt_claims_headers')?.value);
    if (parsed === null) refuse('jwt_claims_headers', 'expected a list of claims (email, groups) or a mapping of header name to claim');
    else {
      jwtClaimsHeaders = parsed;
      notes.push({ key: 'jwt_claims_headers', outcome: 'mapped', message: `Pomerium setting ${settings.get('jwt_claims_headers')?.from}: sent as ${Object.keys(parsed).join(', ')} on Pomerium routes that pass identity headers` });
    }
  }
  handled.add('pass_identity_headers');
  let passIdentityHeaders: boolean | null = null;
  if (settings.has('pass_identity_headers')) {
    passIdentityHeaders = bool(settings.get('pass_identity_headers')?.value);
    if (passIdentityHeaders === null) refuse('pass_identity_headers', 'expected true or false');
    else notes.push({ key: 'pass_identity_headers', outcome: 'mapped', message: `Pomerium setting ${settings.get('pass_identity_headers')?.from}: the default for Pomerium routes that do not set it` });
  }
  handled.add('services');
  if (settings.has('services')) {
    const services = text('services');
    if (services !== 'all') refuse('services', 'Gatehouse runs every service in one process; use services: all (or remove it)');
    else notes.push({ key: 'services', outcome: 'ignored', message: `Pomerium setting ${settings.get('services')?.from} ignored: Gatehouse always runs every service` });
  }

  for (const [key, { from }] of settings) {
    if (handled.has(key)) continue;
    const refused = REFUSED[key];
    if (refused !== undefined) refuse(key, refused);
    else if (IGNORED[key] !== undefined) notes.push({ key, outcome: 'ignored', message: `Pomerium setting ${from} ignored: ${IGNORED[key]}` });
  }
  return { env: overlay, origins, notes, problems, jwtClaimsHeaders, passIdentityHeaders };
}

function certificatePairs(settings: ReadonlyMap<string, SettingValue>, refuse: (key: string, why: string) => void): { cert: string; key: string }[] | null {
  const pairs: { cert: string; key: string }[] = [];
  const cert = scalar(settings.get('certificate_file')?.value);
  const key = scalar(settings.get('certificate_key_file')?.value);
  if (settings.has('certificate_file') !== settings.has('certificate_key_file') || (settings.has('certificate_file') && (cert === null || key === null))) {
    refuse(settings.has('certificate_file') ? 'certificate_file' : 'certificate_key_file', 'certificate_file and certificate_key_file go together, each a file path');
    return null;
  }
  if (cert !== null && key !== null) pairs.push({ cert, key });
  if (settings.has('certificates')) {
    const items = settings.get('certificates')?.value;
    const ok = Array.isArray(items) && items.every((item) => item !== null && typeof item === 'object' && scalar((item as Record<string, unknown>).cert) !== null && scalar((item as Record<string, unknown>).key) !== null);
    if (!ok) {
      refuse('certificates', 'expected a list of {cert: FILE, key: FILE}');
      return null;
    }
    for (const item of items as Record<string, unknown>[]) pairs.push({ cert: scalar(item.cert) as string, key: scalar(item.key) as string });
  }
  return pairs;
}

/** The folder GATEHOUSE_TLS_DIR can read the pair from, or null when the names are not a layout it reads. */
function certificateFolder(pair: { cert: string; key: string }): string | null {
  const split = (path: string) => {
    const at = path.lastIndexOf('/');
    return { dir: at <= 0 ? (at === 0 ? '/' : '.') : path.slice(0, at), name: path.slice(at + 1) };
  };
  const cert = split(pair.cert);
  const key = split(pair.key);
  if (cert.dir !== key.dir) return null;
  const stem = (name: string, ext: string) => (name.endsWith(ext) ? name.slice(0, -ext.length) : null);
  const sameStem = (stem(cert.name, '.crt') ?? stem(cert.name, '.pem')) !== null && (stem(cert.name, '.crt') ?? stem(cert.name, '.pem')) === (stem(key.name, '.key') ?? null);
  const certbot = (cert.name === 'fullchain.pem' || cert.name === 'cert.pem') && key.name === 'privkey.pem';
  const dumper = cert.name === 'certificate.crt' && key.name === 'privatekey.key';
  return sameStem || certbot || dumper ? cert.dir : null;
}

/** `:443` → `0.0.0.0:443`; `host:port` unchanged. */
function listenAddress(value: string): string | null {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]*):(\d{1,5})$/.exec(value.trim());
  if (m === null) return null;
  return `${m[1] === '' ? '0.0.0.0' : m[1]}:${m[2]}`;
}

function logLevel(value: string): string | null {
  const level = value.toLowerCase();
  if (level === 'warning') return 'warn';
  return ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level) ? level : null;
}

/** A list of claims (→ X-Pomerium-Claim-<Claim>), a comma list, or a mapping header → claim. */
function claimHeaders(value: unknown): Record<string, string> | null {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>).map(([header, claim]) => [header, scalar(claim)] as const);
    if (entries.length === 0 || entries.some(([header, claim]) => claim === null || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(header))) return null;
    return Object.fromEntries(entries) as Record<string, string>;
  }
  const claims = list(value);
  if (claims === null || claims.length === 0 || claims.some((c) => !/^[A-Za-z0-9_.-]+$/.test(c))) return null;
  return Object.fromEntries(claims.map((claim) => [`X-Pomerium-Claim-${claim.split(/[_.-]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('-')}`, claim]));
}

function list(value: unknown): string[] | null {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return (value as string[]).map((s) => s.trim()).filter((s) => s !== '');
  return null;
}

function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  const text = scalar(value)?.toLowerCase();
  if (text === 'true' || text === '1' || text === 'yes' || text === 'on') return true;
  if (text === 'false' || text === '0' || text === 'no' || text === 'off') return false;
  return null;
}

function scalar(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}
