import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import { ensurePrivateDir, replaceFile } from '../util/atomic-file.ts';

/**
 * Secret files every replica must hold alike (the root secret when it is generated, the signing
 * keys, the built-in provider's keys): Redis holds the one copy, the data dir a local one that
 * the usual loaders read. `share` runs in three steps: copy what Redis has into the data dir;
 * let `create` make the files still missing (as on a single instance); offer each file to Redis
 * with SET NX. When two replicas start at once and both generated a file, the one that lost
 * the SET NX takes the winner's copy, so both load the same keys.
 */
export async function shareFiles(redis: Redis, prefix: string, dir: string, names: readonly string[], create: () => Promise<void>): Promise<{ taken: string[] }> {
  const keyOf = (name: string) => `${prefix}file:${name}`;
  for (const name of names) {
    const remote = await redis.get(keyOf(name));
    if (remote !== null && remote !== readLocal(join(dir, name))) await writeLocal(join(dir, name), remote);
  }
  await create();
  const taken: string[] = [];
  for (const name of names) {
    const local = readLocal(join(dir, name));
    if (local === undefined) continue;
    const stored = await redis.set(keyOf(name), local, 'NX');
    if (stored === 'OK') continue;
    const remote = await redis.get(keyOf(name));
    if (remote !== null && remote !== local) {
      await writeLocal(join(dir, name), remote);
      taken.push(name);
    }
  }
  return { taken };
}

function readLocal(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeLocal(path: string, text: string): Promise<void> {
  ensurePrivateDir(dirname(path));
  await replaceFile(path, text);
}
