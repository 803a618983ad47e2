import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOnce } from '../../src/docker/index.ts';
import { createSocketProxy } from '../../src/docker/socket-proxy.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { docker } from '../helpers/images.ts';
import { http } from '../helpers/http.ts';

/** `gatehouse socket-proxy` against the real engine: the five discovery calls pass, nothing else does. */
describe('socket proxy', () => {
  const proxy = createSocketProxy({
    listen: { host: '127.0.0.1', port: 0 },
    socketPath: '/var/run/docker.sock',
    logger: createLogger({ level: 'silent', format: 'json' }),
  });
  let port = 0;
  const name = `gh-sp-${randomBytes(3).toString('hex')}`;
  let containerId = '';

  beforeAll(async () => {
    ({ port } = await proxy.listen());
    containerId = await docker('run', '-d', '--name', name, '--label', 'gatehouse.test=socket-proxy', 'busybox:local');
  });
  afterAll(async () => {
    await docker('rm', '-f', name).catch(() => undefined);
    await proxy.close();
  });

  it.each(['/_ping', '/version', '/v1.41/version', '/containers/json', '/v1.41/containers/json?all=0', '/images/json', '/v1.41/images/json'])('allows GET %s', async (path) => {
    const res = await http(port, 'docker', path);
    expect(res.status).toBe(200);
  });

  it.each([
    ['GET', () => `/containers/${containerId}/json`],
    ['GET', () => `/v1.41/containers/${containerId}/json`],
    ['GET', () => `/containers/${containerId}/archive?path=/etc/passwd`],
    ['GET', () => `/containers/${containerId}/export`],
    ['GET', () => `/containers/${containerId}/logs?stdout=1`],
    ['POST', () => '/containers/create'],
    ['POST', () => `/containers/${containerId}/exec`],
    ['DELETE', () => `/containers/${containerId}`],
    // The image list is allowed; nothing else about images is.
    ['GET', () => '/images/busybox:local/json'],
    ['GET', () => '/images/busybox:local/history'],
    ['GET', () => '/images/get?names=busybox:local'],
    ['GET', () => '/images/json/../../info'],
    ['POST', () => '/images/create?fromImage=busybox'],
    ['DELETE', () => '/images/busybox:local'],
    ['GET', () => '/info'],
    ['GET', () => '/containers/json/../../info'],
    ['POST', () => '/events'],
  ])('refuses %s %s', async (method, path) => {
    const res = await http(port, 'docker', path(), { method });
    expect(res.status).toBe(403);
    expect(res.body).toContain('not allowed');
  });

  it('streams events as they happen', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/events?filters=' + encodeURIComponent(JSON.stringify({ label: ['gatehouse.test=socket-proxy'] })) }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('"restart"')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      req.end();
      setTimeout(() => void docker('restart', '-t', '0', name), 300);
    });
    expect(seen).toContain(containerId);
  });

  it('is enough for discovery', async () => {
    const listing = await listOnce(`tcp://127.0.0.1:${port}`);
    expect(listing.containers.some((c) => c.id === containerId)).toBe(true);
  });
});
