import { join } from 'node:path';
import { docker } from './images.ts';

/** The socket-proxy image built from socket-proxy/, the way the release workflow builds it. */
export const SOCKET_PROXY_TEST_IMAGE = 'gatehouse-test-socket-proxy:local';
const ROOT = join(import.meta.dirname, '../..');
const BASE = 'debian:bookworm-slim';

let base: Promise<void> | null = null;
let built: Promise<void> | null = null;

/** The image socket-proxy/Dockerfile builds FROM: present, pulled, or a clear error saying how to make it. */
export function ensureSocketProxyBase(): Promise<void> {
  base ??= (async () => {
    const present = await docker('image', 'inspect', BASE).then(() => true, () => false);
    if (!present) {
      await docker('pull', BASE).catch((error: unknown) => {
        throw new Error(`${BASE} is not here and cannot be pulled (${String(error)}); make it from Debian's archive with "bash ../shared/tools/debian-image.sh ${BASE}", as .ci/run does`);
      });
    }
  })();
  return base;
}

export function ensureSocketProxyImage(): Promise<void> {
  built ??= (async () => {
    await ensureSocketProxyBase();
    await docker('build', '-q', '-t', SOCKET_PROXY_TEST_IMAGE, join(ROOT, 'socket-proxy'));
  })();
  return built;
}
