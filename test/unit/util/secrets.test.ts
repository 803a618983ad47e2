import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownSettingsFiles } from '../../../src/config/own-files.ts';
import { labelTrust } from '../../../src/config/label-trust.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { createSecretReader, labelSecretProblem, type LabelSecretsOptions } from '../../../src/util/secrets.ts';

/**
 * Label secrets on a real file system: names, symlinks, and Gatehouse's own settings files.
 * Layout: <root>/labels (the label secrets folder), <root>/run/gatehouse_secret (the file
 * GATEHOUSE_SECRET_FILE names), <root>/data (the data dir, with its generated secret).
 */
let root: string;
let options: LabelSecretsOptions;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gatehouse-label-secrets-'));
  mkdirSync(join(root, 'labels'));
  mkdirSync(join(root, 'run'));
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'labels', 'api_key'), 'app-key-value\n');
  writeFileSync(join(root, 'labels', '.hidden'), 'hidden');
  writeFileSync(join(root, 'run', 'gatehouse_secret'), 'ROOT-SECRET');
  writeFileSync(join(root, 'data', 'secret'), 'GENERATED-SECRET');
  writeFileSync(join(root, 'outside'), 'outside');
  // The operator put the root secret into the label folder too, under another name, and linked others.
  writeFileSync(join(root, 'labels', 'copy_is_fine'), 'a copy is a different file');
  symlinkSync(join(root, 'run', 'gatehouse_secret'), join(root, 'labels', 'root_link'));
  symlinkSync(join(root, 'data', 'secret'), join(root, 'labels', 'data_link'));
  symlinkSync(join(root, 'outside'), join(root, 'labels', 'outside_link'));
  symlinkSync(join(root, 'labels', 'api_key'), join(root, 'labels', 'inside_link'));
  // The settings file itself reached through a symlinked path on the settings side.
  symlinkSync(join(root, 'run'), join(root, 'run-link'));
  options = { dir: join(root, 'labels'), ownFiles: [join(root, 'run-link', 'gatehouse_secret'), join(root, 'data')] };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('label secrets', () => {
  it('reads a plain file of the label secrets folder, trimmed, and through a symlink that stays inside', () => {
    const read = createSecretReader(options);
    expect(read('api_key')).toBe('app-key-value');
    expect(read('inside_link')).toBe('app-key-value');
    expect(labelSecretProblem(options, 'api_key')).toBeNull();
  });

  it.each(['../outside', '..', '.hidden', 'a/b', 'x..y', '', '/etc/passwd'])('refuses the name %j', (name) => {
    expect(createSecretReader(options)(name)).toBeNull();
    expect(labelSecretProblem(options, name)).toMatch(/not a plain file name/);
  });

  it("never reads a file one of Gatehouse's own settings points at, whatever the path or symlink", () => {
    const read = createSecretReader(options);
    expect(read('root_link')).toBeNull();
    expect(read('data_link')).toBeNull();
    expect(labelSecretProblem(options, 'root_link')).toMatch(/one of Gatehouse's own settings files/);
    expect(labelSecretProblem(options, 'data_link')).toMatch(/one of Gatehouse's own settings files/);
  });

  it('refuses the settings file even when it lives in the label secrets folder itself', () => {
    const inFolder = { dir: join(root, 'labels'), ownFiles: [join(root, 'labels', 'copy_is_fine')] };
    expect(createSecretReader(inFolder)('copy_is_fine')).toBeNull();
    expect(createSecretReader(options)('copy_is_fine')).toBe('a copy is a different file');
  });

  it('refuses a symlink that leads out of the folder', () => {
    expect(createSecretReader(options)('outside_link')).toBeNull();
    expect(labelSecretProblem(options, 'outside_link')).toMatch(/leads outside that folder/);
  });

  it('says what is missing: the file, or the folder', () => {
    expect(labelSecretProblem(options, 'absent')).toBe(`cannot be read: there is no file absent in ${join(root, 'labels')} (GATEHOUSE_LABEL_SECRETS_DIR); add it, then recreate the container`);
    expect(labelSecretProblem({ dir: join(root, 'nope') }, 'api_key')).toBe(
      `cannot be read: the label secrets folder ${join(root, 'nope')} does not exist; put api_key there (a Docker secret with target: ${join(root, 'nope', 'api_key')}) or set GATEHOUSE_LABEL_SECRETS_DIR to the folder that holds it`,
    );
  });

  it('picks up a file added later', () => {
    const read = createSecretReader(options);
    expect(read('late')).toBeNull();
    writeFileSync(join(root, 'labels', 'late'), 'now here');
    expect(read('late')).toBe('now here');
  });
});

describe("Gatehouse's own settings files", () => {
  it('are every *_FILE target, the data dir and the users, routes and TLS sources', () => {
    const env = {
      GATEHOUSE_SECRET_FILE: '/run/secrets/gatehouse_secret',
      GATEHOUSE_OIDC_CLIENT_SECRET_FILE: '/run/secrets/oidc',
      GATEHOUSE_DATA_DIR: '/data',
      GATEHOUSE_USERS_FILE: '/config/users.yml',
      GATEHOUSE_CONFIG: '/config/routes.yml',
      GATEHOUSE_TLS_DIR: '/certs',
      GATEHOUSE_TLS_ACME_JSON: '/acme/acme.json',
    };
    const config = loadConfig(env, (path) => (path.includes('oidc') ? 'client-secret' : 'x'.repeat(44)));
    expect(ownSettingsFiles(config).sort()).toEqual(
      ['/run/secrets/gatehouse_secret', '/run/secrets/oidc', '/data', '/config/users.yml', '/config/routes.yml', '/certs', '/acme/acme.json'].sort(),
    );
  });

  it('feed the label trust options, with the sign-in host from GATEHOUSE_AUTH_URL', () => {
    const env = { GATEHOUSE_AUTH_URL: 'https://Auth.Example.com:8443/', GATEHOUSE_LABEL_SECRETS_DIR: '/srv/label-secrets', GATEHOUSE_TRUST_IMAGE_LABELS: 'yes' };
    const trust = labelTrust(loadConfig(env));
    expect(trust.translate).toMatchObject({ prefix: 'iap', signInHost: 'auth.example.com', trustImageLabels: true });
    expect(trust.secrets).toEqual({ dir: '/srv/label-secrets', ownFiles: ['./data'] });
    expect(labelTrust(loadConfig({})).translate).toMatchObject({ signInHost: null, trustImageLabels: false });
    expect(loadConfig({}).GATEHOUSE_LABEL_SECRETS_DIR).toBe('/run/gatehouse/label-secrets');
  });
});
