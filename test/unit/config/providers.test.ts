import { describe, expect, it } from 'vitest';
import { readIdentitySettings } from '../../../src/config/identity.ts';
import { loadConfig } from '../../../src/config/load.ts';

/** Several sign-in methods from indexed variables and the providers file. */

const AUTH = { GATEHOUSE_AUTH_URL: 'https://auth.example.com' };

function read(env: Record<string, string>, files: Record<string, string> = {}) {
  const readFile = (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  };
  return readIdentitySettings(loadConfig(env, readFile), readFile);
}

function problem(env: Record<string, string>, files: Record<string, string> = {}): string {
  try {
    read(env, files);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('indexed provider variables', () => {
  it('make one provider per name, with its own callback, and keep the single-provider one at /oauth2/callback', () => {
    const settings = read({
      ...AUTH,
      GATEHOUSE_OIDC_ISSUER: 'https://id.example.com',
      GATEHOUSE_OIDC_CLIENT_ID: 'gh',
      GATEHOUSE_OIDC_GOOGLE_ISSUER: 'https://accounts.google.com',
      GATEHOUSE_OIDC_GOOGLE_CLIENT_ID: 'g-client',
      GATEHOUSE_OIDC_GOOGLE_CLIENT_SECRET_FILE: '/run/secrets/google',
      GATEHOUSE_OIDC_ENTRA_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      GATEHOUSE_OIDC_ENTRA_CLIENT_ID: 'e-client',
      GATEHOUSE_OIDC_ENTRA_PRESET: 'entra-roles',
      GATEHOUSE_OIDC_ENTRA_LABEL: 'Work account',
      GATEHOUSE_OIDC_ENTRA_EMAIL_VERIFIED: 'ignored',
    }, { '/run/secrets/google': 'google-secret\n' });
    expect(settings?.methods.map((m) => [m.name, m.kind === 'oidc' ? m.callbackPath : null])).toEqual([
      ['oidc', '/oauth2/callback'],
      ['entra', '/oauth2/callback/entra'],
      ['google', '/oauth2/callback/google'],
    ]);
    expect(settings?.methods[2]).toMatchObject({ clientSecret: 'google-secret', label: 'Google', groupsClaim: 'groups', emailVerifiedRequired: true, mfaAmr: ['mfa', 'otp', 'hwk'] });
    expect(settings?.methods[1]).toMatchObject({ label: 'Work account', groupsClaim: 'roles', mfaAmr: ['mfa'], emailVerifiedRequired: false, mfaAcr: [] });
  });

  it('reads the MFA mapping and scopes per provider', () => {
    const settings = read({ ...AUTH, GATEHOUSE_OIDC_KC_ISSUER: 'https://kc.example.com/realms/home', GATEHOUSE_OIDC_KC_CLIENT_ID: 'gh', GATEHOUSE_OIDC_KC_MFA_ACR: 'gold, urn:mfa', GATEHOUSE_OIDC_KC_MFA_AMR: 'otp', GATEHOUSE_OIDC_KC_SCOPES: 'openid email groups', GATEHOUSE_OIDC_KC_GROUPS_CLAIM: 'realm_access.roles' });
    expect(settings?.methods).toMatchObject([{ name: 'kc', mfaAcr: ['gold', 'urn:mfa'], mfaAmr: ['otp'], scopes: 'openid email groups', groupsClaim: 'realm_access.roles' }]);
  });

  it('replace the built-in users unless a users file is named', () => {
    const google = { GATEHOUSE_OIDC_GOOGLE_ISSUER: 'https://accounts.google.com', GATEHOUSE_OIDC_GOOGLE_CLIENT_ID: 'g' };
    expect(read({ ...AUTH, ...google })?.methods.map((m) => m.name)).toEqual(['google']);
    expect(read({ ...AUTH, ...google, GATEHOUSE_USERS_FILE: '/config/users.yml' })?.methods.map((m) => m.name)).toEqual(['local', 'google']);
  });

  it('report every problem, naming the variables, never the secret', () => {
    const message = problem({
      ...AUTH,
      GATEHOUSE_OIDC_A_ISSUER: 'http://id.example.com',
      GATEHOUSE_OIDC_A_CLIENT_SECRET: 'hush-hush-secret',
      GATEHOUSE_OIDC_LOCAL_ISSUER: 'https://id.example.com',
      GATEHOUSE_OIDC_LOCAL_CLIENT_ID: 'x',
      GATEHOUSE_OIDC_B_ISSUER: 'https://id.example.com',
      GATEHOUSE_OIDC_B_CLIENT_ID: 'x',
      GATEHOUSE_OIDC_B_PRESET: 'okta',
      GATEHOUSE_OIDC_B_SCOPES: 'email',
    });
    expect(message).toMatch(/GATEHOUSE_OIDC_A_\*: issuer "http:\/\/id.example.com" must be https:\/\//);
    expect(message).toMatch(/GATEHOUSE_OIDC_A_\*: the client id is missing/);
    expect(message).toMatch(/GATEHOUSE_OIDC_LOCAL_\*: "local" is the built-in users' name/);
    expect(message).toMatch(/GATEHOUSE_OIDC_B_\*: preset "okta" is unknown: expected one of entra, /);
    expect(message).toMatch(/GATEHOUSE_OIDC_B_\*: scopes "email" must include "openid"/);
    expect(message).not.toContain('hush-hush-secret');
  });

  it('need GATEHOUSE_AUTH_URL', () => {
    expect(problem({ GATEHOUSE_OIDC_G_ISSUER: 'https://accounts.google.com', GATEHOUSE_OIDC_G_CLIENT_ID: 'g' })).toMatch(/GATEHOUSE_OIDC_G_\* is set, but sign-in also needs GATEHOUSE_AUTH_URL/);
  });

  it('refuse a secret given twice', () => {
    expect(problem({ ...AUTH, GATEHOUSE_OIDC_G_ISSUER: 'https://accounts.google.com', GATEHOUSE_OIDC_G_CLIENT_ID: 'g', GATEHOUSE_OIDC_G_CLIENT_SECRET: 'a', GATEHOUSE_OIDC_G_CLIENT_SECRET_FILE: '/s' }, { '/s': 'b' })).toMatch(
      /GATEHOUSE_OIDC_G_CLIENT_SECRET and GATEHOUSE_OIDC_G_CLIENT_SECRET_FILE are both set/,
    );
  });
});

describe('the providers file', () => {
  const FILE = '/config/providers.yml';

  it('lists providers and the built-in users, in the chooser order', () => {
    const text = `providers:
  - name: local
    type: builtin
    label: Family account
  - name: google
    issuer: https://accounts.google.com
    client_id: g-client
    client_secret_file: /run/secrets/google
    scopes: [openid, email, profile]
  - name: authentik
    preset: authentik
    issuer: https://auth.example.net/application/o/gatehouse/
    client_id: ak
    client_secret: ak-secret
    email_verified: ignored
    mfa: { amr: [mfa], acr: [goauthentik.io/providers/oauth2/default] }
`;
    const settings = read({ ...AUTH, GATEHOUSE_PROVIDERS_FILE: FILE }, { [FILE]: text, '/run/secrets/google': 'g-secret' });
    expect(settings?.methods).toMatchObject([
      { kind: 'builtin', name: 'local', label: 'Family account' },
      { kind: 'oidc', name: 'google', clientSecret: 'g-secret', scopes: 'openid email profile', callbackPath: '/oauth2/callback/google' },
      { kind: 'oidc', name: 'authentik', label: 'Authentik', emailVerifiedRequired: false, mfaAmr: ['mfa'], mfaAcr: ['goauthentik.io/providers/oauth2/default'] },
    ]);
  });

  it('names the entry and field at fault', () => {
    const text = `providers:
  - name: google
    issuer: https://accounts.google.com
    client_id: g
    clientsecret: typo
  - name: local
    type: builtin
    label: x
  - name: family
    type: builtin
`;
    const message = problem({ ...AUTH, GATEHOUSE_PROVIDERS_FILE: FILE }, { [FILE]: text });
    expect(message).toMatch(/\/config\/providers.yml: providers\[0\]: Unrecognized key: "clientsecret"/);
    expect(message).toMatch(/providers\[2\]: the built-in users are always named "local"/);
  });

  it('refuses a name used twice across variables and file', () => {
    const text = 'providers:\n  - name: google\n    issuer: https://accounts.google.com\n    client_id: g\n';
    expect(problem({ ...AUTH, GATEHOUSE_PROVIDERS_FILE: FILE, GATEHOUSE_OIDC_GOOGLE_ISSUER: 'https://accounts.google.com', GATEHOUSE_OIDC_GOOGLE_CLIENT_ID: 'g' }, { [FILE]: text })).toMatch(
      /the provider name "google" is used twice/,
    );
  });

  it('says what a readable but wrong file should look like', () => {
    expect(problem({ ...AUTH, GATEHOUSE_PROVIDERS_FILE: FILE }, { [FILE]: 'google: {}' })).toMatch(/expected a list under "providers:"/);
    expect(problem({ ...AUTH, GATEHOUSE_PROVIDERS_FILE: FILE }, { [FILE]: 'providers: [' })).toMatch(/not valid YAML/);
    expect(problem({ ...AUTH, GATEHOUSE_PROVIDERS_FILE: '/nope.yml' })).toMatch(/GATEHOUSE_PROVIDERS_FILE="\/nope.yml": cannot read the file \(ENOENT\)/);
  });
});
