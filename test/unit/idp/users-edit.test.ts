import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../../src/errors.ts';
import { UsersFile } from '../../../src/idp/users-edit.ts';
import { findUser, parseUsersFile } from '../../../src/idp/users-file.ts';

const HASH = '$argon2id$v=19$m=4096,t=2,p=1$Z2F0ZWhvdXNlLXNhbHQtMDEyMw$u+oi20lxJsEiFSh+f90bZQ';
const OTHER_HASH = '$argon2id$v=19$m=1024,t=1,p=1$YW5vdGhlci1zYWx0LXh5eg$hNaEiYUrUpTA6XyVgPwb5TE7tEG++0C5A7O3KqUlIHM';

describe('editing the users file', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-users-edit-'));
    path = join(dir, 'users.yml');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function users() {
    const parsed = parseUsersFile(await readFile(path, 'utf8'), path);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.users;
  }

  it('creates a new file, readable by its owner only', async () => {
    const file = await UsersFile.open(path);
    file.add('alice', { email: 'alice@example.com', name: 'Alice', groups: ['admins'], password: HASH });
    await file.save();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(findUser(await users(), 'alice')).toMatchObject({ email: 'alice@example.com', name: 'Alice', groups: ['admins'] });
    expect(await readFile(path, 'utf8')).toContain('# Gatehouse users.');
  });

  it('keeps comments, order and the file mode when changing entries', async () => {
    await writeFile(
      path,
      `# our household
users:
  # the one who pays for the NAS
  bob:
    email: bob@example.com   # work address
    password: ${HASH}
  alice:
    email: alice@example.com
    password: ${HASH}
`,
      { mode: 0o640 },
    );
    const file = await UsersFile.open(path);
    file.set('BOB', 'password', OTHER_HASH);
    file.set('alice', 'groups', ['family', 'admins']);
    file.add('carol', { email: 'carol@example.com', password: HASH });
    file.remove('alice');
    await file.save();
    const text = await readFile(path, 'utf8');
    expect(text).toContain('# our household');
    expect(text).toContain('# the one who pays for the NAS');
    expect(text).toContain('email: bob@example.com # work address');
    expect(text.indexOf('bob:')).toBeLessThan(text.indexOf('carol:'));
    expect(text).not.toContain('alice');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    const loaded = await users();
    expect(findUser(loaded, 'bob')?.password.hash.toString('base64').replace(/=+$/, '')).toBe(OTHER_HASH.split('$').at(-1));
    expect(findUser(loaded, 'carol')?.groups).toEqual([]);
    // Atomic replace: no temporary file is left behind.
    expect(await readdir(dir)).toEqual(['users.yml']);
  });

  it('refuses duplicate names, unknown users, bad names and results that would not load', async () => {
    const file = await UsersFile.open(path);
    file.add('alice', { email: 'alice@example.com', password: HASH });
    const refusals: Array<() => void> = [
      () => file.add('Alice', { email: 'other@example.com', password: HASH }),
      () => file.add('bad name', { email: 'x@example.com', password: HASH }),
      () => file.set('nobody', 'email', 'x@example.com'),
      () => file.remove('nobody'),
    ];
    for (const refuse of refusals) expect(() => refuse()).toThrow(/already exists|not a valid user name|no user "nobody"/);
    file.set('alice', 'email', 'not-an-email');
    await expect(file.save()).rejects.toThrow(/refusing to write .*users\.alice\.email: "not-an-email" is not an email address/s);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('will not edit a file that does not parse, and says why', async () => {
    await writeFile(path, 'users:\n  alice: [\n');
    const error = await UsersFile.open(path).catch((e: unknown) => e);
    expect(isGatehouseError(error, 'CONFIG_FILE_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/users\.yml:\d+:\d+: .*fix the file before editing it/);
  });
});
