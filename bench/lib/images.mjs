import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The two images as users pull them, built from this checkout: the Gatehouse image (Dockerfile)
 * and the socket proxy (socket-proxy/Dockerfile). Their size uncompressed (what `docker images`
 * shows: every layer, the base included) and compressed (`docker save | gzip`, close to what a
 * pull downloads).
 */
const run = promisify(execFile);

export async function buildImages(root, tagSuffix) {
  const images = { gatehouse: `gatehouse-bench:${tagSuffix}`, socketProxy: `gatehouse-bench-socket-proxy:${tagSuffix}` };
  await run('docker', ['build', '-q', '-t', images.gatehouse, root], { maxBuffer: 16 * 2 ** 20 });
  await run('docker', ['build', '-q', '-t', images.socketProxy, join(root, 'socket-proxy')], { maxBuffer: 16 * 2 ** 20 });
  return images;
}

export async function removeImages(images) {
  for (const image of Object.values(images)) await run('docker', ['rmi', image]).catch(() => undefined);
}

/** { uncompressedBytes, compressedBytes } of one local image. */
export async function imageSize(image) {
  const { stdout } = await run('docker', ['image', 'inspect', '-f', '{{.Size}}', image]);
  return { uncompressedBytes: Number(stdout.trim()), compressedBytes: await gzippedSaveBytes(image) };
}

function gzippedSaveBytes(image) {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gzip = spawn('gzip', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    save.stdout.pipe(gzip.stdin);
    let bytes = 0;
    gzip.stdout.on('data', (chunk) => (bytes += chunk.length));
    gzip.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`docker save ${image} | gzip exited with ${code}`))));
    save.on('error', reject);
  });
}
