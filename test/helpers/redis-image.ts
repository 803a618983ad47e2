import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureSocketProxyBase } from './socket-proxy-image.ts';

const run = promisify(execFile);

/** Debian's redis-server in an image, built FROM the same base as the socket proxy (Debian's archive, no registry). */
export const REDIS_IMAGE = 'gatehouse-test-redis-server:local';

let built: Promise<void> | null = null;

export function ensureRedisImage(): Promise<void> {
  built ??= (async () => {
    if (await run('docker', ['image', 'inspect', REDIS_IMAGE]).then(() => true, () => false)) return;
    await ensureSocketProxyBase();
    const dir = await mkdtemp(join(tmpdir(), 'gh-redis-image-'));
    try {
      await writeFile(
        join(dir, 'Dockerfile'),
        'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*\nEXPOSE 6379\nCMD ["redis-server", "--protected-mode", "no"]\n',
      );
      await run('docker', ['build', '-q', '-t', REDIS_IMAGE, dir], { maxBuffer: 16 * 2 ** 20 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return built;
}
