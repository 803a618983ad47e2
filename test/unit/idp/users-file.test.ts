import { describe, expect, it } from 'vitest';
import { findUser, parseUsersFile } from '../../../src/idp/users-file.ts';

const HASH = '$argon2id$v=19$m=4096,t=2,p=1$Z2F0ZWhvdXNlLXNhbHQtMDEyMw$u+oi20lxJsEiFSh+f90bZQ';

function ok(text: string) {
  const result = parseUsersFile(text, 'users.yml');
  if (!result.ok) throw new Error(result.error);
  return result.users;
}

function error(text: string): string {
  const result = parseUsersFile(text, 'users.yml');
  if (result.ok) throw new Error('expected the file to be rejected');
  return result.error;
}

describe('users file', () => {
  it('reads users with every field', () => {
    const users = ok(`# comment
users:
  alice:
    email: Alice@Example.com
    name: Alice Example
    groups: [admins, family, admins]
    password: ${HASH}
    totp: JBSW Y3DP EHPK 3PXP
  bob:
    email: bob@example.com
    password: '${HASH}'
    disabled: true
`);
    expect(users.problems).toEqual([]);
    const alice = findUser(users, 'ALICE');
    expect(alice).toMatchObject({ username: 'alice', email: 'Alice@Example.com', name: 'Alice Example', groups: ['admins', 'family'], disabled: false });
    expect(alice?.totp?.toString('hex')).toBe(Buffer.from('Hello!\xde\xad\xbe\xef', 'latin1').toString('hex'));
    expect(findUser(users, 'alice@example.com')?.username).toBe('alice');
    expect(findUser(users, 'bob')).toMatchObject({ name: 'bob', groups: [], disabled: true, totp: null });
    expect(findUser(users, 'carol')).toBeUndefined();
  });

  it('accepts a file with no users yet', () => {
    expect(ok('users:\n').byName.size).toBe(0);
    expect(ok('users: {}\n').byName.size).toBe(0);
  });

  it.each([
    ['users:\n  alice:\n    email: [unclosed\n', /^users\.yml:4:1: Flow sequence in block collection must be sufficiently indented/],
    ['users:\n  alice:\n    email: a@b.c\n  bob\n    email: y\n', /^users\.yml:4:3: Implicit keys need to be on a single line/],
    ['users:\n\talice: {}\n', /^users\.yml:2:1: Tabs are not allowed as indentation/],
    ['users:\n  alice: {}\n  alice: {}\n', /^users\.yml:3:3: Map keys must be unique/],
    ['', /^users\.yml: the file is empty/],
    ['- alice\n', /^users\.yml:1:1: expected a mapping with users: at the top/],
    ['people:\n  alice: {}\n', /^users\.yml:1:1: unknown top-level key "people"; only users: is read/],
    ['users: [alice, bob]\n', /^users\.yml:1:8: users must be a mapping/],
  ])('rejects the whole file %j, saying where', (text, pattern) => {
    expect(error(text)).toMatch(pattern);
  });

  it('rejects only the broken entries, naming user, field and position', () => {
    const users = ok(`users:
  good:
    email: good@example.com
    password: ${HASH}
  nopass:
    email: nopass@example.com
  badhash:
    email: badhash@example.com
    password: hunter2
  typo:
    email: typo@example.com
    password: ${HASH}
    gropus: [admins]
  notbool:
    email: notbool@example.com
    password: ${HASH}
    disabled: "yes"
  badtotp:
    email: badtotp@example.com
    password: ${HASH}
    totp: "not base32!"
  badgroups:
    email: badgroups@example.com
    password: ${HASH}
    groups: "admins"
  "bad name":
    email: badname@example.com
    password: ${HASH}
  dup:
    email: GOOD@example.com
    password: ${HASH}
  noemail:
    email: not-an-email
    password: ${HASH}
`);
    expect([...users.byName.keys()]).toEqual(['good']);
    expect(users.problems).toEqual([
      'users.yml:6:5: users.nopass.password: is missing',
      'users.yml:9:15: users.badhash.password: expected an argon2 hash in PHC format ($argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>); create one with "gatehouse hash-password"',
      'users.yml:13:5: users.typo.gropus: unknown field (expected email, name, groups, password, totp, disabled)',
      'users.yml:17:15: users.notbool.disabled: expected true or false',
      'users.yml:21:11: users.badtotp.totp: expected a base32 secret of at least 10 bytes; enrol one with "gatehouse users totp badtotp"',
      'users.yml:25:13: users.badgroups.groups: expected a list of group names, e.g. [admins, family]',
      'users.yml:26:3: users.bad name: a user name is 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
      'users.yml:29:3: users.dup: another user already has the email GOOD@example.com; this entry is ignored',
      'users.yml:33:12: users.noemail.email: "not-an-email" is not an email address',
    ]);
  });

  it('treats names that differ only in case as the same user', () => {
    const users = ok(`users:\n  Alice:\n    email: a1@example.com\n    password: ${HASH}\n  alice:\n    email: a2@example.com\n    password: ${HASH}\n`);
    expect(findUser(users, 'alice')?.email).toBe('a1@example.com');
    expect(users.problems).toEqual(['users.yml:5:3: users.alice: another user is also called alice (names are compared ignoring case); this entry is ignored']);
  });
});
