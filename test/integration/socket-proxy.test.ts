import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOnce } from '../../src/docker/index.ts';
import { docker } from '../helpers/images.ts';
import { http, waitFor } from '../helpers/http.ts';
import { ensureSocketProxyImage, SOCKET_PROXY_TEST_IMAGE } from '../helpers/socket-proxy-image.ts';

/**
 * The socket-proxy image (nginx with an allow list) against the real engine, run the way the
 * examples run it (read-only root filesystem, the socket mounted read-only): the read-only
 * discovery calls pass, nothing else does, whatever the spelling of the path.
 */
describe('socket proxy image', () => {
  const id = randomBytes(3).toString('hex');
  const proxyName = `gh-sp-${id}`;
  const appName = `gh-sp-${id}-app`;
  let port = 0;
  let containerId = '';

  beforeAll(async () => {
    await ensureSocketProxyImage();
    await docker('run', '-d', '--name', proxyName, '--user', 'root', '--read-only', '-p', '127.0.0.1::2375', '-v', '/var/run/docker.sock:/var/run/docker.sock:ro', SOCKET_PROXY_TEST_IMAGE);
    port = Number((await docker('port', proxyName, '2375/tcp')).split('\n')[0]?.split(':').pop());
    await waitFor(async () => ((await http(port, 'docker', '/_ping').catch(() => null))?.status === 200 ? true : undefined), 'the socket proxy to answer', 30_000, 100);
    containerId = await docker('run', '-d', '--name', appName, '--label', 'gatehouse.test=socket-proxy', 'busybox:local', 'sleep', '600');
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled([docker('rm', '-f', appName), docker('rm', '-f', proxyName)]);
  });

  it.each(['/_ping', '/version', '/v1.41/version', '/containers/json', '/v1.41/containers/json?all=0', '/containers/json?all=1', '/v1.41/containers/json?all=1', '/images/json', '/v1.41/images/json', '/images/json?all=0'])('allows GET %s', async (path) => {
    const res = await http(port, 'docker', path);
    expect(res.status).toBe(200);
  });

  it.each(['/services', '/v1.41/services', '/tasks', `/v1.41/tasks?filters=${encodeURIComponent('{"desired-state":["running"]}')}`])('passes GET %s on to the engine (a non-manager answers 503 itself)', async (path) => {
    const res = await http(port, 'docker', path);
    expect(res.body).not.toContain('refused by the Gatehouse socket proxy');
    expect([200, 503]).toContain(res.status);
  });

  it('answers the list with the real containers', async () => {
    const res = await http(port, 'docker', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ['gatehouse.test=socket-proxy'] }))}`);
    expect((JSON.parse(res.body) as { Id: string }[]).map((c) => c.Id)).toEqual([containerId]);
  });

  it('allows HEAD /_ping (the one HEAD route the engine has)', async () => {
    const res = await http(port, 'docker', '/_ping', { method: 'HEAD' });
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
    ['PUT', () => '/containers/json'],
    ['POST', () => '/events'],
    ['GET', () => '/info'],
    ['GET', () => '/secrets'],
    ['GET', () => '/containers/json/../../info'],
    ['GET', () => `/containers/json/../${containerId}/json`],
    ['GET', () => '/containers/json/%2e%2e/%2e%2e/info'],
    ['GET', () => `/containers%2f${containerId}%2fjson`],
    ['GET', () => '//containers/json'],
    ['GET', () => '/containers/json/'],
    ['GET', () => '/v1.41/../info'],
    ['GET', () => '/containers/JSON'],
    // The Swarm lists only: no single service or task, and nothing else of the Swarm API.
    ['GET', () => '/services/gatehouse'],
    ['GET', () => '/services/gatehouse/logs?stdout=1'],
    ['POST', () => '/services/create'],
    ['POST', () => '/services/gatehouse/update'],
    ['DELETE', () => '/services/gatehouse'],
    ['GET', () => '/tasks/abc'],
    ['GET', () => '/tasks/abc/logs'],
    ['GET', () => '/services/../info'],
    ['GET', () => '/configs'],
    ['GET', () => '/nodes'],
    ['GET', () => '/swarm'],
  ])('refuses %s %s', async (method, path) => {
    const res = await http(port, 'docker', path(), { method });
    expect(res.status).toBe(403);
    expect(res.body).toContain('refused by the Gatehouse socket proxy');
  });

  it('refuses a raw request line that fetch would normalise (dot segments, absolute form)', async () => {
    for (const target of [`/containers/json/../${containerId}/json`, `http://docker/containers/${containerId}/json`, '/containers/json/./../../info']) {
      const head = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n`);
      expect(head, target).toMatch(/^HTTP\/1\.1 (403|400) /);
    }
  });

  it('streams events as they happen', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/events?filters=' + encodeURIComponent(JSON.stringify({ label: ['gatehouse.test=socket-proxy'] })) }, (res) => {
        let text = '';
        // Restart once the stream is open, so the event can only arrive through the stream.
        void docker('restart', '-t', '0', appName);
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
    });
    expect(seen).toContain(containerId);
  });

  it('is enough for discovery', async () => {
    const listing = await listOnce(`tcp://127.0.0.1:${port}`);
    expect(listing.containers.some((c) => c.id === containerId)).toBe(true);
  });

  it('stays small: a few MB, not a second Node process', async () => {
    const usage = await docker('stats', '--no-stream', '--format', '{{.MemUsage}}', proxyName);
    const mib = Number(/^([\d.]+)MiB/.exec(usage)?.[1] ?? (/^([\d.]+)KiB/.test(usage) ? '0' : 'NaN'));
    expect(mib).toBeLessThan(30);
  });
});

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
