import { describe, expect, it } from 'vitest';
import { readIdentitySettings } from '../../../src/config/identity.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { isGatehouseError } from '../../../src/errors.ts';

const complete = {
  GATEHOUSE_AUTH_URL: 'https://auth.example.com/',
  GATEHOUSE_OIDC_ISSUER: 'https://id.example.com/realms/home',
  GATEHOUSE_OIDC_CLIENT_ID: 'gatehouse',
  GATEHOUSE_OIDC_CLIENT_SECRET: 'very-secret',
};

function settings(env: Record<string, string>) {
  return readIdentitySettings(loadConfig(env));
}

function problem(env: Record<string, string>): string {
  try {
    settings(env);
  } catch (error) {
    expect(isGatehouseError(error, 'CONFIG_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('readIdentitySettings', () => {
  it('is null when sign-in is not configured', () => {
    expect(settings({})).toBeNull();
  });

  it('reads a complete configuration', () => {
    expect(settings({ ...complete, GATEHOUSE_DEFAULT_ALLOW: '@example.com, group:staff', GATEHOUSE_SESSION_TTL: '8h' })).toMatchObject({
      authUrl: 'https://auth.example.com',
      authHost: 'auth.example.com',
      authSecure: true,
      sessionTtlMs: 8 * 3_600_000,
      defaultAllow: [{ kind: 'domain', domain: 'example.com' }, { kind: 'group', group: 'staff' }],
      methods: [
        {
          kind: 'oidc',
          name: 'oidc',
          issuer: 'https://id.example.com/realms/home',
          clientId: 'gatehouse',
          clientSecret: 'very-secret',
          scopes: 'openid email profile',
          groupsClaim: 'groups',
          allowHttpIssuer: false,
          callbackPath: '/oauth2/callback',
        },
      ],
    });
  });

  it('names what is missing when only part of an outside provider is set', () => {
    expect(problem({ GATEHOUSE_AUTH_URL: 'https://auth.example.com', GATEHOUSE_OIDC_ISSUER: 'https://id.example.com' })).toMatch(
      /GATEHOUSE_AUTH_URL, GATEHOUSE_OIDC_ISSUER are set, but sign-in also needs GATEHOUSE_OIDC_CLIENT_ID/,
    );
    expect(problem({ GATEHOUSE_AUTH_URL: 'https://auth.example.com', GATEHOUSE_OIDC_CLIENT_ID: 'x' })).toMatch(/also needs GATEHOUSE_OIDC_ISSUER .*leave GATEHOUSE_OIDC_\* unset to use the built-in sign-in/);
    expect(problem({ GATEHOUSE_OIDC_ISSUER: 'https://id.example.com', GATEHOUSE_OIDC_CLIENT_ID: 'x' })).toMatch(/are set, but sign-in also needs GATEHOUSE_AUTH_URL/);
  });

  it('signs in at the built-in provider when only GATEHOUSE_AUTH_URL is set', () => {
    expect(settings({ GATEHOUSE_AUTH_URL: 'http://auth.localhost:8080', GATEHOUSE_DATA_DIR: '/data' })).toEqual({
      authUrl: 'http://auth.localhost:8080',
      authHost: 'auth.localhost',
      authSecure: false,
      sessionTtlMs: 14 * 3_600_000,
      defaultAllow: [],
      dataDir: '/data',
      methods: [{ kind: 'builtin', name: 'local', label: 'Local account', usersFile: undefined }],
    });
    expect(settings({ GATEHOUSE_AUTH_URL: 'https://auth.example.com', GATEHOUSE_USERS_FILE: '/config/users.yml' })?.methods).toMatchObject([{ kind: 'builtin', usersFile: '/config/users.yml' }]);
    // Scopes belong to an outside provider; the built-in one does not read them.
    expect(settings({ GATEHOUSE_AUTH_URL: 'https://auth.example.com', GATEHOUSE_OIDC_SCOPES: 'email' })?.methods.map((m) => m.kind)).toEqual(['builtin']);
    expect(settings(complete)?.methods.map((m) => m.kind)).toEqual(['oidc']);
  });

  it('refuses a users file that nothing would read', () => {
    expect(problem({ GATEHOUSE_USERS_FILE: '/config/users.yml' })).toMatch(/GATEHOUSE_USERS_FILE is set, but the built-in sign-in also needs GATEHOUSE_AUTH_URL/);
  });

  it('offers the built-in users beside an outside provider when a users file is named', () => {
    expect(settings({ ...complete, GATEHOUSE_USERS_FILE: '/config/users.yml' })?.methods.map((m) => `${m.kind}:${m.name}`)).toEqual(['builtin:local', 'oidc:oidc']);
  });

  it('reports every problem at once', () => {
    const message = problem({ ...complete, GATEHOUSE_AUTH_URL: 'https://auth.example.com/sign-in', GATEHOUSE_OIDC_ISSUER: 'http://id.example.com', GATEHOUSE_DEFAULT_ALLOW: 'admins', GATEHOUSE_OIDC_SCOPES: 'email' });
    expect(message).toMatch(/GATEHOUSE_AUTH_URL="https:\/\/auth.example.com\/sign-in": expected only a scheme and host/);
    expect(message).toMatch(/GATEHOUSE_OIDC_ISSUER="http:\/\/id.example.com": identity providers must be reached over https/);
    expect(message).toMatch(/GATEHOUSE_DEFAULT_ALLOW="admins": "admins" is not a policy entry/);
    expect(message).toMatch(/GATEHOUSE_OIDC_SCOPES="email": must include "openid"/);
    expect(message).not.toContain('very-secret');
  });

  it('accepts plain http to a provider on this machine', () => {
    expect(settings({ ...complete, GATEHOUSE_OIDC_ISSUER: 'http://127.0.0.1:9000' })?.methods[0]).toMatchObject({ allowHttpIssuer: true });
    expect(settings({ ...complete, GATEHOUSE_OIDC_ISSUER: 'http://id.localhost:9000' })?.methods[0]).toMatchObject({ allowHttpIssuer: true });
  });

  it('keeps the port of the sign-in URL and uses plain cookies for an http sign-in host', () => {
    expect(settings({ ...complete, GATEHOUSE_AUTH_URL: 'http://auth.localhost:8080' })).toMatchObject({ authUrl: 'http://auth.localhost:8080', authHost: 'auth.localhost', authSecure: false });
  });
});
