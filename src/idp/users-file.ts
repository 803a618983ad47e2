import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { parsePhc, type PhcHash } from './phc.ts';
import { decodeBase32, MIN_SECRET_BYTES } from './totp.ts';

/**
 * The users file (GATEHOUSE_USERS_FILE):
 *
 *   users:
 *     alice:
 *       email: alice@example.com
 *       name: Alice Example
 *       groups: [admins, family]
 *       password: $argon2id$v=19$m=65536,t=3,p=1$…$…
 *       totp: JBSWY3DPEHPK3PXP      # optional
 *       disabled: false            # optional
 *
 * A YAML error or a wrong top level rejects the whole file (the caller keeps its last good
 * version). A bad entry rejects only that user, who then cannot sign in: failing closed, so a
 * typo in `disabled:` or a broken hash never leaves an account open.
 */

export interface UserRecord {
  /** The key under `users:`, as written; also the OpenID `sub` and `preferred_username`. */
  readonly username: string;
  readonly email: string;
  readonly name: string;
  readonly groups: readonly string[];
  readonly password: PhcHash;
  readonly totp: Buffer | null;
  readonly disabled: boolean;
}

export interface UsersSnapshot {
  /** Lowercased username → user. */
  readonly byName: ReadonlyMap<string, UserRecord>;
  /** Lowercased email → user. */
  readonly byEmail: ReadonlyMap<string, UserRecord>;
  /** One line per rejected entry: `file:line:col: users.NAME.FIELD: problem`. */
  readonly problems: readonly string[];
}

export type UsersFileResult = { ok: true; users: UsersSnapshot } | { ok: false; error: string };

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FIELDS = ['email', 'name', 'groups', 'password', 'totp', 'disabled'] as const;
const GROUP_PATTERN = /^[^\s,]{1,128}$/;

export const EMPTY_USERS: UsersSnapshot = Object.freeze({ byName: new Map(), byEmail: new Map(), problems: [] });

export function findUser(users: UsersSnapshot, login: string): UserRecord | undefined {
  const key = login.trim().toLowerCase();
  return users.byName.get(key) ?? users.byEmail.get(key);
}

export function parseUsersFile(text: string, fileName: string): UsersFileResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | null | undefined) => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    return `${fileName}:${pos.line}:${pos.col}`;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const pos = lines.linePos(firstError.pos[0]);
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    return { ok: false, error: `${fileName}:${pos.line}:${pos.col}: ${firstError.message.split('\n')[0]}${more}` };
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { ok: false, error: `${fileName}: the file is empty; expected a users: mapping` };
  if (!isMap(root)) return { ok: false, error: `${at(root)}: expected a mapping with users: at the top` };
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (key !== 'users') return { ok: false, error: `${at(pair.key as Node)}: unknown top-level key "${key}"; only users: is read` };
  }
  const usersNode = root.get('users', true) as Node | undefined;
  if (usersNode === undefined) return { ok: false, error: `${fileName}: expected a users: mapping at the top` };
  if (isScalar(usersNode) && usersNode.value === null) return { ok: true, users: EMPTY_USERS };
  if (!isMap(usersNode)) return { ok: false, error: `${at(usersNode)}: users must be a mapping of user name to settings` };
  return { ok: true, users: collectUsers(usersNode, at) };
}

function collectUsers(usersNode: YAMLMap, at: (node: Node | null | undefined) => string): UsersSnapshot {
  const byName = new Map<string, UserRecord>();
  const byEmail = new Map<string, UserRecord>();
  const problems: string[] = [];
  for (const pair of usersNode.items) {
    const keyNode = pair.key as Node;
    const username = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const report = (node: Node | null | undefined, field: string | null, problem: string) =>
      problems.push(`${at(node ?? keyNode)}: users.${username}${field === null ? '' : `.${field}`}: ${problem}`);
    if (!USERNAME_PATTERN.test(username)) {
      report(keyNode, null, 'a user name is 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
      continue;
    }
    const parsed = parseUser(username, pair.value as Node | null, report);
    if (parsed === null) continue;
    const nameKey = username.toLowerCase();
    const emailKey = parsed.email.toLowerCase();
    const clash = byName.has(nameKey) ? `another user is also called ${username} (names are compared ignoring case)` : byEmail.has(emailKey) || byName.has(emailKey) ? `another user already has the email ${parsed.email}` : null;
    if (clash !== null) {
      report(keyNode, null, `${clash}; this entry is ignored`);
      continue;
    }
    byName.set(nameKey, parsed);
    byEmail.set(emailKey, parsed);
  }
  return Object.freeze({ byName, byEmail, problems: Object.freeze(problems) });
}

function parseUser(username: string, node: Node | null, report: (node: Node | null | undefined, field: string | null, problem: string) => void): UserRecord | null {
  if (!isMap(node)) {
    report(node, null, 'expected a mapping with at least email and password');
    return null;
  }
  let ok = true;
  const field = (name: string) => node.get(name, true) as Node | undefined;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!(FIELDS as readonly string[]).includes(key)) {
      report(pair.key as Node, key, `unknown field (expected ${FIELDS.join(', ')})`);
      ok = false;
    }
  }
  const text = (name: string, required: boolean): string | null => {
    const value = field(name);
    if (value === undefined || (isScalar(value) && value.value === null)) {
      if (required) {
        report(node, name, 'is missing');
        ok = false;
      }
      return null;
    }
    if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '') {
      report(value, name, 'expected a non-empty text value');
      ok = false;
      return null;
    }
    return value.value.trim();
  };

  const email = text('email', true);
  if (email !== null && !EMAIL_PATTERN.test(email)) {
    report(field('email'), 'email', `"${email}" is not an email address`);
    ok = false;
  }
  const name = text('name', false);
  const passwordText = text('password', true);
  const password = passwordText === null ? null : parsePhc(passwordText);
  if (password !== null && !password.ok) {
    report(field('password'), 'password', password.problem);
    ok = false;
  }
  const totpText = text('totp', false);
  const totp = totpText === null ? null : decodeBase32(totpText);
  if (totpText !== null && (totp === null || totp.length < MIN_SECRET_BYTES)) {
    report(field('totp'), 'totp', `expected a base32 secret of at least ${MIN_SECRET_BYTES} bytes; enrol one with "gatehouse users totp ${username}"`);
    ok = false;
  }
  const groups = readGroups(field('groups'), (node, problem) => {
    report(node, 'groups', problem);
    ok = false;
  });
  const disabledNode = field('disabled');
  let disabled = false;
  if (disabledNode !== undefined && !(isScalar(disabledNode) && disabledNode.value === null)) {
    if (!isScalar(disabledNode) || typeof disabledNode.value !== 'boolean') {
      report(disabledNode, 'disabled', 'expected true or false');
      ok = false;
    } else {
      disabled = disabledNode.value;
    }
  }
  if (!ok || email === null || password === null || !password.ok) return null;
  return Object.freeze({ username, email, name: name ?? username, groups: Object.freeze(groups), password: password.value, totp: totp ?? null, disabled });
}

function readGroups(node: Node | undefined, problem: (node: Node, message: string) => void): string[] {
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) {
    problem(node, 'expected a list of group names, e.g. [admins, family]');
    return [];
  }
  const groups: string[] = [];
  for (const item of node.items) {
    const value = isScalar(item) ? item.value : undefined;
    if (typeof value !== 'string' || !GROUP_PATTERN.test(value)) {
      problem(item as Node, `${JSON.stringify(value ?? null)} is not a group name (text without spaces or commas)`);
      return [];
    }
    if (!groups.includes(value)) groups.push(value);
  }
  return groups;
}
