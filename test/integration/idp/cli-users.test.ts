import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32, parsePhc, parseUsersFile, verifyPhc } from '../../../src/idp/index.ts';
import { signInViaHttp } from '../../helpers/http-sign-in.ts';
import { startIdpTestApp } from '../../helpers/idp-app.ts';

/** `gatehouse users …` and `gatehouse hash-password`, run as a real process with the password piped in. */

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function gatehouse(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

describe('gatehouse users', () => {
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-users-'));
    env = { GATEHOUSE_DATA_DIR: join(dir, 'data') };
    file = join(dir, 'data', 'users.yml');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function users() {
    const parsed = parseUsersFile(await readFile(file, 'utf8'), file);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.users;
  }

  it('adds a user with the password read from standard input, into <data dir>/users.yml', async () => {
    const run = await gatehouse(['users', 'add', 'alice', '--email', 'alice@example.com', '--name', 'Alice Example', '--groups', 'admins, family'], { stdin: 'first password\n', env });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`added alice to ${file}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const alice = (await users()).byName.get('alice')!;
    expect(alice).toMatchObject({ email: 'alice@example.com', name: 'Alice Example', groups: ['admins', 'family'], totp: null });
    expect(alice.password.algorithm).toBe('argon2id');
    expect(await verifyPhc('first password', alice.password)).toBe(true);
  });

  it('lists users, as text and as JSON', async () => {
    const text = await gatehouse(['users', 'list'], { env });
    expect(text).toMatchObject({ code: 0, stdout: 'alice\talice@example.com\tadmins,family\n' });
    const json = await gatehouse(['users', 'list', '--json', '--file', file]);
    expect(JSON.parse(json.stdout)).toEqual({ users: [{ username: 'alice', email: 'alice@example.com', name: 'Alice Example', groups: ['admins', 'family'], totp: false, disabled: false }], problems: [] });
  });

  it('changes a password, and refuses one that is too short', async () => {
    const short = await gatehouse(['users', 'passwd', 'alice'], { stdin: 'short\n', env });
    expect(short.code).toBe(1);
    expect(short.stderr).toBe('gatehouse: the password must be at least 8 characters long; nothing was changed\n');
    expect(await verifyPhc('first password', (await users()).byName.get('alice')!.password)).toBe(true);
    const run = await gatehouse(['users', 'passwd', 'ALICE'], { stdin: 'second password\r\nignored line\n', env });
    expect(run.code).toBe(0);
    const hash = (await users()).byName.get('alice')!.password;
    expect(await verifyPhc('second password', hash)).toBe(true);
    expect(await verifyPhc('first password', hash)).toBe(false);
  });

  it('enrols TOTP: prints the otpauth URI and a QR code, and writes the secret', async () => {
    const run = await gatehouse(['users', 'totp', 'alice'], { env });
    expect(run.code).toBe(0);
    const uri = /otpauth:\/\/totp\/\S+/.exec(run.stdout)?.[0];
    expect(uri).toBeDefined();
    const secret = new URL(uri!).searchParams.get('secret')!;
    expect(run.stdout).toContain(`enter the secret ${secret} by hand`);
    expect(run.stdout).toMatch(/[█▀▄]{7}/);
    const totp = (await users()).byName.get('alice')!.totp;
    expect(totp?.equals(decodeBase32(secret)!)).toBe(true);
    const removed = await gatehouse(['users', 'totp', 'alice', '--remove'], { env });
    expect(removed.code).toBe(0);
    expect((await users()).byName.get('alice')!.totp).toBeNull();
  });

  it('sets fields, disables and removes users', async () => {
    expect((await gatehouse(['users', 'set', 'alice', '--groups', 'family', '--disabled', 'true'], { env })).code).toBe(0);
    expect((await users()).byName.get('alice')).toMatchObject({ groups: ['family'], disabled: true });
    expect((await gatehouse(['users', 'set', 'alice', '--disabled', 'maybe'], { env })).stderr).toBe('gatehouse: --disabled takes true or false\n');
    expect((await gatehouse(['users', 'remove', 'alice'], { env })).code).toBe(0);
    expect((await users()).byName.size).toBe(0);
    const missing = await gatehouse(['users', 'remove', 'alice'], { env });
    expect(missing).toMatchObject({ code: 1, stderr: `gatehouse: ${file}: there is no user "alice" (see "gatehouse users list")\n` });
  });

  it('explains bad usage', async () => {
    expect((await gatehouse(['users', 'add', 'bob'], { env })).stderr).toContain('--email is required');
    expect((await gatehouse(['users', 'frobnicate', 'x'], { env })).code).toBe(2);
    expect((await gatehouse(['users', 'add', 'bob', '--emial', 'x'], { env })).stderr).toContain("Unknown option '--emial'");
    const help = await gatehouse(['--help']);
    expect(help.stdout).toContain('gatehouse users');
    expect(help.stdout).toContain('gatehouse hash-password');
  });

  it('hash-password prints an argon2id PHC hash of the password', async () => {
    const run = await gatehouse(['hash-password'], { stdin: 'correct horse\n' });
    expect(run.code).toBe(0);
    const parsed = parsePhc(run.stdout.trim());
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.value).toMatchObject({ algorithm: 'argon2id', memoryKiB: 65536, passes: 3, parallelism: 1 });
      expect(await verifyPhc('correct horse', parsed.value)).toBe(true);
    }
  });

  it('a user added with the CLI can sign in to a running provider at once', async () => {
    const app = await startIdpTestApp({ users: { keeper: { email: 'keeper@example.com', password: 'keeper-password' } } });
    try {
      const run = await gatehouse(['users', 'add', 'cli-user', '--email', 'cli@example.com', '--groups', 'demo', '--file', app.usersFile], { stdin: 'from the command line\n' });
      expect(run.code).toBe(0);
      await expect.poll(() => app.provider.users().byName.has('cli-user'), { timeout: 10_000 }).toBe(true);
      const result = await signInViaHttp(app.loginUrl, 'cli-user', 'from the command line');
      expect(result.body).toContain('"email":"cli@example.com"');
      expect(result.url.pathname).toBe('/oauth2/callback');
      expect(result.body).toContain('"groups":["demo"]');
    } finally {
      await app.close();
    }
  });
});
