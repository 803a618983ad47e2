import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isMap, parseDocument, type Document, type YAMLMap } from 'yaml';
import { GatehouseError } from '../errors.ts';
import { parseUsersFile, USERNAME_PATTERN } from './users-file.ts';

/**
 * Edits of the users file that keep what a person wrote: comments, order and formatting of
 * untouched entries survive (yaml's Document API). Every change is written to a sibling file
 * and renamed over the original, so a running Gatehouse never reads half a file.
 */

export interface NewUser {
  email: string;
  name?: string | undefined;
  groups?: readonly string[] | undefined;
  /** A PHC argon2 hash, never the password. */
  password: string;
}

export type UserField = 'email' | 'name' | 'groups' | 'password' | 'totp' | 'disabled';

const HEADER = [
  ' Gatehouse users. Edit by hand or with "gatehouse users …"; changes apply without a restart.',
  ' password: an argon2id hash from "gatehouse hash-password" (never the password itself).',
  ' totp: optional base32 secret, enrolled with "gatehouse users totp NAME".',
].join('\n');

export class UsersFile {
  readonly path: string;
  readonly #doc: Document;
  readonly #existed: boolean;

  private constructor(path: string, doc: Document, existed: boolean) {
    this.path = path;
    this.#doc = doc;
    this.#existed = existed;
  }

  /** Opens the file, or starts a new one when it does not exist yet. */
  static async open(path: string): Promise<UsersFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const doc = parseDocument('users: {}\n');
      doc.commentBefore = HEADER;
      return new UsersFile(path, doc, false);
    }
    const parsed = parseUsersFile(text, path);
    if (!parsed.ok) throw new GatehouseError('CONFIG_FILE_INVALID', `${parsed.error}; fix the file before editing it`);
    const doc = parseDocument(text);
    if (!isMap(doc.get('users', true))) doc.set('users', doc.createNode({}));
    return new UsersFile(path, doc, true);
  }

  private users(): YAMLMap {
    return this.#doc.get('users', true) as YAMLMap;
  }

  /** The entry's key as written (names are matched ignoring case), or null. */
  find(username: string): string | null {
    const wanted = username.toLowerCase();
    for (const pair of this.users().items) {
      const key = String((pair.key as { value?: unknown }).value ?? pair.key);
      if (key.toLowerCase() === wanted) return key;
    }
    return null;
  }

  private existing(username: string): string {
    const key = this.find(username);
    if (key === null) throw new GatehouseError('CONFIG_INVALID', `${this.path}: there is no user "${username}" (see "gatehouse users list")`);
    return key;
  }

  add(username: string, user: NewUser): void {
    if (!USERNAME_PATTERN.test(username)) {
      throw new GatehouseError('CONFIG_INVALID', `"${username}" is not a valid user name: use 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit`);
    }
    if (this.find(username) !== null) throw new GatehouseError('CONFIG_INVALID', `${this.path}: a user "${username}" already exists (change it with "gatehouse users passwd ${username}")`);
    const entry: Record<string, unknown> = { email: user.email };
    if (user.name !== undefined) entry['name'] = user.name;
    entry['groups'] = [...(user.groups ?? [])];
    entry['password'] = user.password;
    const node = this.#doc.createNode(entry) as YAMLMap;
    const groups = node.get('groups', true) as { flow?: boolean } | undefined;
    if (groups !== undefined) groups.flow = true;
    this.users().flow = false;
    this.users().set(username, node);
  }

  set(username: string, field: UserField, value: string | boolean | readonly string[]): void {
    const entry = this.users().get(this.existing(username), true);
    if (!isMap(entry)) throw new GatehouseError('CONFIG_INVALID', `${this.path}: users.${username} is not a mapping`);
    entry.set(field, Array.isArray(value) ? this.#doc.createNode([...value]) : value);
  }

  unset(username: string, field: UserField): void {
    const entry = this.users().get(this.existing(username), true);
    if (isMap(entry)) entry.delete(field);
  }

  remove(username: string): void {
    this.users().delete(this.existing(username));
  }

  toString(): string {
    return this.#doc.toString({ lineWidth: 0 });
  }

  /** Checks the result parses cleanly, then replaces the file atomically (mode 0600 for a new file). */
  async save(): Promise<void> {
    const text = this.toString();
    const parsed = parseUsersFile(text, this.path);
    if (!parsed.ok) throw new GatehouseError('CONFIG_FILE_INVALID', `refusing to write ${this.path}: ${parsed.error}`);
    if (parsed.users.problems.length > 0) {
      throw new GatehouseError('CONFIG_FILE_INVALID', `refusing to write ${this.path}:\n  ${parsed.users.problems.join('\n  ')}`);
    }
    await writeAtomically(this.path, text, this.#existed);
  }
}

export async function writeAtomically(path: string, text: string, existed: boolean): Promise<void> {
  let mode = 0o600;
  if (existed) mode = (await stat(path)).mode & 0o777;
  else await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode, flag: 'wx' });
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EBUSY' || code === 'EXDEV') {
      throw new GatehouseError('CONFIG_INVALID', `cannot replace ${path} (${code}): it is probably a single bind-mounted file; mount its directory instead`, { cause: error });
    }
    throw error;
  }
}
