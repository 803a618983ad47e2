import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { GatehouseError } from '../errors.ts';
import {
  decodeBase32,
  generateTotpSecret,
  hashPassword,
  matchTotp,
  otpauthUri,
  parseUsersFile,
  UsersFile,
  usersFilePath,
  type UserField,
  type UserRecord,
} from '../idp/index.ts';
import { askLine, readSecret } from './password-prompt.ts';

/**
 * `gatehouse users …` and `gatehouse hash-password`: edit the built-in provider's users file
 * (GATEHOUSE_USERS_FILE, default <GATEHOUSE_DATA_DIR>/users.yml, or --file). A running
 * Gatehouse picks every change up by itself.
 */

export const USERS_HELP = `Usage:
  gatehouse users list [--json]
  gatehouse users add NAME --email EMAIL [--name "Full Name"] [--groups a,b]
  gatehouse users set NAME [--email EMAIL] [--name "Full Name"] [--groups a,b] [--disabled true|false]
  gatehouse users passwd NAME
  gatehouse users totp NAME [--remove]
  gatehouse users remove NAME
Every command accepts --file PATH (default: GATEHOUSE_USERS_FILE, else <GATEHOUSE_DATA_DIR>/users.yml).
Passwords are asked for on the terminal (twice, not shown), or read from the first line of
standard input when it is not a terminal.`;

const MIN_PASSWORD_LENGTH = 8;

const OPTIONS = {
  file: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  groups: { type: 'string' },
  disabled: { type: 'string' },
  remove: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export async function usersCommand(args: string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`gatehouse users: ${(error as Error).message}\n${USERS_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, name, ...extra] = positionals;
  if (values.help === true || action === undefined) {
    process.stdout.write(`${USERS_HELP}\n`);
    return values.help === true ? 0 : 2;
  }
  const needsName = action !== 'list';
  if ((needsName && name === undefined) || extra.length > 0 || (!needsName && name !== undefined)) {
    process.stderr.write(`gatehouse users ${action}: ${needsName ? 'expected exactly one user name' : 'takes no user name'}\n${USERS_HELP}\n`);
    return 2;
  }
  const file = values.file ?? defaultUsersFile();
  switch (action) {
    case 'list':
      return list(file, values.json === true);
    case 'add':
      return add(file, name!, values);
    case 'set':
      return set(file, name!, values);
    case 'passwd':
      return passwd(file, name!);
    case 'totp':
      return totp(file, name!, values.remove === true);
    case 'remove': {
      const users = await UsersFile.open(file);
      users.remove(name!);
      await users.save();
      return done(`removed ${name} from ${file}`);
    }
    default:
      process.stderr.write(`gatehouse users: unknown action "${action}"\n${USERS_HELP}\n`);
      return 2;
  }
}

export async function hashPasswordCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write('Usage: gatehouse hash-password   (reads the password from the terminal or standard input)\n');
    return 2;
  }
  const password = await readSecret('Password: ', { confirm: 'Again: ' });
  if (password === '') throw userError('the password is empty');
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

export function defaultUsersFile(): string {
  const config = loadConfig();
  return usersFilePath(config.GATEHOUSE_USERS_FILE, config.GATEHOUSE_DATA_DIR);
}

function userError(message: string): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', message);
}

function done(message: string): number {
  process.stdout.write(`${message} (a running Gatehouse applies it within a second)\n`);
  return 0;
}

async function newPassword(): Promise<string> {
  const password = await readSecret('New password: ', { confirm: 'Again: ' });
  if ([...password].length < MIN_PASSWORD_LENGTH) throw userError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters long; nothing was changed`);
  return hashPassword(password);
}

function groupList(text: string): string[] {
  return text.split(',').map((group) => group.trim()).filter((group) => group !== '');
}

async function add(file: string, name: string, values: Values): Promise<number> {
  if (values.email === undefined) {
    process.stderr.write(`gatehouse users add: --email is required\n${USERS_HELP}\n`);
    return 2;
  }
  const users = await UsersFile.open(file);
  if (users.find(name) !== null) throw userError(`${file}: a user "${name}" already exists`);
  users.add(name, { email: values.email, name: values.name, groups: values.groups === undefined ? [] : groupList(values.groups), password: await newPassword() });
  await users.save();
  return done(`added ${name} to ${file}`);
}

async function set(file: string, name: string, values: Values): Promise<number> {
  const users = await UsersFile.open(file);
  const changes: Array<[UserField, string | boolean | string[]]> = [];
  if (values.email !== undefined) changes.push(['email', values.email]);
  if (values.name !== undefined) changes.push(['name', values.name]);
  if (values.groups !== undefined) changes.push(['groups', groupList(values.groups)]);
  if (values.disabled !== undefined) {
    if (values.disabled !== 'true' && values.disabled !== 'false') throw userError('--disabled takes true or false');
    changes.push(['disabled', values.disabled === 'true']);
  }
  if (changes.length === 0) throw userError('nothing to change: give --email, --name, --groups or --disabled');
  for (const [field, value] of changes) users.set(name, field, value);
  await users.save();
  return done(`updated ${name} in ${file}`);
}

async function passwd(file: string, name: string): Promise<number> {
  const users = await UsersFile.open(file);
  users.set(name, 'password', await newPassword());
  await users.save();
  return done(`changed the password of ${name} in ${file}`);
}

async function totp(file: string, name: string, remove: boolean): Promise<number> {
  const users = await UsersFile.open(file);
  const key = users.find(name);
  if (key === null) throw userError(`${file}: there is no user "${name}" (see "gatehouse users list")`);
  if (remove) {
    users.unset(key, 'totp');
    await users.save();
    return done(`removed the TOTP secret of ${key}; they sign in with the password alone`);
  }
  const secret = generateTotpSecret();
  const uri = otpauthUri({ issuer: 'Gatehouse', account: key, secret });
  const { toString: qr } = await import('qrcode');
  process.stdout.write(`Scan this with an authenticator app, or enter the secret ${secret} by hand:\n\n${await qr(uri, { type: 'utf8', errorCorrectionLevel: 'M' })}\n${uri}\n\n`);
  const code = await askLine('Enter the 6-digit code the app shows now, to confirm: ');
  if (code !== null && matchTotp(decodeBase32(secret)!, code, Date.now(), null) === null) {
    throw userError('that code does not match; nothing was changed. Run the command again and scan the new code');
  }
  users.set(key, 'totp', secret);
  await users.save();
  return done(`enrolled TOTP for ${key} in ${file}`);
}

async function list(file: string, json: boolean): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw userError(`${file} does not exist yet; Gatehouse creates it on first start, or add a user with "gatehouse users add"`);
  }
  const parsed = parseUsersFile(text, file);
  if (!parsed.ok) throw userError(parsed.error);
  const users = [...parsed.users.byName.values()].sort((a, b) => a.username.localeCompare(b.username));
  if (json) {
    process.stdout.write(`${JSON.stringify({ users: users.map(summary), problems: parsed.users.problems }, null, 2)}\n`);
  } else {
    for (const user of users) {
      const flags = [user.totp === null ? '' : 'totp', user.disabled ? 'disabled' : ''].filter((flag) => flag !== '').join(', ');
      process.stdout.write(`${user.username}\t${user.email}\t${user.groups.join(',') || '-'}${flags === '' ? '' : `\t(${flags})`}\n`);
    }
    for (const problem of parsed.users.problems) process.stderr.write(`ignored: ${problem}\n`);
  }
  return parsed.users.problems.length > 0 ? 1 : 0;
}

function summary(user: UserRecord) {
  return { username: user.username, email: user.email, name: user.name, groups: user.groups, totp: user.totp !== null, disabled: user.disabled };
}
