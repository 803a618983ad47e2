import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Small file helpers for the data directory. Secrets are written with mode 0600 from the
 * start (never chmod'ed afterwards), and a half-written file never takes the final name.
 */

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Returns the file's text, creating it with `create()` first when it does not exist. Two
 * processes starting at once agree on one content: the file appears through link(2), which
 * fails when the name is taken, so the loser reads the winner's file.
 */
export function readOrCreateSecretFile(path: string, create: () => string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  ensureDataDir(dirname(path));
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const content = create();
  writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(path, 'utf8');
  } finally {
    unlinkSync(temp);
  }
}

export { replaceFile } from './atomic-file.ts';
