import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';

/** Creates a data directory readable by its owner only. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Replaces a file's content atomically (write a sibling, then rename over the target), mode 0600 from the start. */
export async function replaceFile(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
