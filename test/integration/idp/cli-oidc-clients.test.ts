import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from '../../helpers/images.ts';

/**
 * `gatehouse oidc clients` as a real process against the real Docker engine: the clients that
 * labelled containers declare, the generated secret (made once, kept 0600, the same on every
 * run), and a client id taken twice refused for the younger container.
 */

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');
const id = randomBytes(3).toString('hex');
const prefix = `gho${id}`;
const names = [`gh-oidc-cli-${id}-a`, `gh-oidc-cli-${id}-b`];

function gatehouse(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('gatehouse oidc clients', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-oidc-'));
    env = { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_LABEL_PREFIX: prefix, GATEHOUSE_AUTH_URL: 'https://auth.nas.example', GATEHOUSE_LABEL_SECRETS_DIR: join(dir, 'none') };
    const run = (name: string, labels: Record<string, string>) =>
      docker('run', '-d', '--name', name, ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), 'busybox:local', 'sleep', '300');
    // The compose service name is the default client id; the second container wants the same id.
    await run(names[0]!, { [`${prefix}.from`]: 'https://grafana.nas.example', [`${prefix}.port`]: '80', [`${prefix}.allow`]: 'group:admins', [`${prefix}.oidc.redirect_uris`]: 'https://grafana.nas.example/login/generic_oauth', 'com.docker.compose.project': `p${id}`, 'com.docker.compose.service': 'grafana' });
    await run(names[1]!, { [`${prefix}.from`]: 'https://other.nas.example', [`${prefix}.port`]: '80', [`${prefix}.oidc.redirect_uris`]: 'https://other.nas.example/cb', [`${prefix}.oidc.client_id`]: 'grafana' });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(names.map((name) => docker('rm', '-f', name)));
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the client with its issuer and a generated secret kept in the data dir, and refuses the duplicate id', async () => {
    const first = await gatehouse(['oidc', 'clients', '--json'], env);
    expect(first.stderr).toBe('');
    const listed = JSON.parse(first.stdout) as { issuer: string; clients: Array<Record<string, unknown>>; refused: Array<{ message: string }> };
    expect(listed.issuer).toBe('https://auth.nas.example/oidc');
    expect(listed.clients).toHaveLength(1);
    expect(listed.clients[0]).toMatchObject({ clientId: 'grafana', redirectUris: ['https://grafana.nas.example/login/generic_oauth'], access: 'allow group:admins' });
    const secretFile = join(dir, 'data', 'apps-idp', 'clients', 'grafana.secret');
    const secret = (await readFile(secretFile, 'utf8')).trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(listed.clients[0]?.['secret']).toBe(secret);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
    expect(listed.refused.map((issue) => issue.message)).toEqual([`container "${names[1]}": the OpenID client id "grafana" already belongs to container "${names[0]}"; set another iap.oidc.client_id (the app's route is published, its client is not)`]);
    expect(first.code).toBe(1);

    // The same secret on every run; the text form says where it is kept.
    const again = await gatehouse(['oidc', 'clients'], env);
    expect(again.stdout).toContain(`client secret: ${secret}`);
    expect(again.stdout).toContain('Issuer (give it to each app): https://auth.nas.example/oidc');
  }, 60_000);
});
