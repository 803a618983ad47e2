import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GatehouseError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import { watchTextFile } from '../util/watch-text-file.ts';
import { hashPassword } from './phc.ts';
import { encodeBase32 } from './totp.ts';
import { UsersFile } from './users-edit.ts';
import { EMPTY_USERS, parseUsersFile, type UsersSnapshot } from './users-file.ts';

export interface UsersStore {
  current(): UsersSnapshot;
  /** Reads the file now (tests, and after a watcher error). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface UsersStoreOptions {
  logger: Logger;
  debounceMs?: number;
  /** Stat polling for mounts that deliver no change events. */
  usePolling?: boolean;
}

/**
 * Loads the users file and follows every change to it without a restart. The directory is
 * watched, not the file, so editors' write-then-rename saves and the CLI's atomic replace are
 * seen. A file that cannot be read or parsed keeps the last good users and says why.
 * When there is no file at all, one is created with an `admin` user and a random password
 * that is logged exactly once.
 */
export async function openUsersStore(filePath: string, options: UsersStoreOptions): Promise<UsersStore> {
  const { logger } = options;
  const absolute = path.resolve(filePath);
  let users: UsersSnapshot = EMPTY_USERS;

  await createWithAdminIfMissing(absolute, filePath, logger);

  const watcher = await watchTextFile(filePath, {
    logger,
    what: 'users file',
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
    ...(options.usePolling === undefined ? {} : { usePolling: options.usePolling }),
    onText(text) {
      const parsed = parseUsersFile(text, filePath);
      if (!parsed.ok) return parsed.error;
      users = parsed.users;
      for (const problem of users.problems) logger.error({ file: filePath, problem }, 'users file entry ignored; that user cannot sign in until it is fixed');
      logger.info({ file: filePath, users: users.byName.size, rejected: users.problems.length }, 'users file loaded');
      return null;
    },
    onError(message) {
      logger.error({ file: filePath, error: message, users: users.byName.size }, 'users file not loaded; keeping the users loaded before');
    },
  });

  return {
    current: () => users,
    reload: () => watcher.reload(),
    close: () => watcher.close(),
  };
}

async function createWithAdminIfMissing(absolute: string, shownPath: string, logger: Logger): Promise<void> {
  if (await exists(absolute)) return;
  const file = await UsersFile.open(absolute);
  const password = randomPassword();
  file.add('admin', { email: 'admin@gatehouse.localhost', name: 'Administrator', groups: ['admins'], password: await hashPassword(password) });
  try {
    await file.save();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new GatehouseError(
      'CONFIG_INVALID',
      `there is no users file at ${shownPath} and it cannot be created (${code}): make its directory writable, or point GATEHOUSE_USERS_FILE at an existing file`,
      { cause: error },
    );
  }
  // The only time this password is ever shown: it is not stored anywhere in clear.
  logger.warn(
    { file: shownPath, user: 'admin' },
    `created ${shownPath} with the user "admin" (group admins) and the password ${password} ; ` +
      'change it now with "gatehouse users passwd admin" and set a real email with "gatehouse users" or by editing the file',
  );
}

async function exists(file: string): Promise<boolean> {
  try {
    await readFile(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** GATEHOUSE_USERS_FILE, or `users.yml` in the data directory. */
export function usersFilePath(usersFile: string | undefined, dataDir: string): string {
  return usersFile ?? path.join(dataDir, 'users.yml');
}

/** 20 base32 characters (100 bits) in groups of five, easy to read out and type. */
export function randomPassword(): string {
  return (encodeBase32(randomBytes(13)).slice(0, 20).match(/.{5}/g) ?? []).join('-').toLowerCase();
}
