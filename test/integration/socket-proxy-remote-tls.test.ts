import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDockerClient } from '../../src/docker/client.ts';
import { listOnce } from '../../src/docker/index.ts';
import { waitFor } from '../helpers/http.ts';
import { docker } from '../helpers/images.ts';
import { ensureSocketProxyImage, SOCKET_PROXY_TEST_IMAGE } from '../helpers/socket-proxy-image.ts';
import { createTestCa, type IssuedCertificate } from '../helpers/test-ca.ts';

/**
 * The socket proxy for a remote engine (examples/socket-proxy/remote-tls.nginx.conf): the real
 * image with that configuration mounted, on the real engine, read by Gatehouse's own Docker client
 * with TLS client certificates, as a second engine in GATEHOUSE_DOCKER_HOSTS is read. Only a
 * client with a certificate from the operator's CA gets an answer, and Gatehouse accepts only the
 * engine certificate its CA signed.
 */
const ROOT = path.join(import.meta.dirname, '../..');
const CONF = path.join(ROOT, 'examples/socket-proxy/remote-tls.nginx.conf');
const id = randomBytes(3).toString('hex');
const name = `gh-rtls-${id}`;
const dir = path.join('/tmp', name);
let port = 0;
const signal = new AbortController().signal;

function writeCertDir(folder: string, caPem: string, leaf: IssuedCertificate): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'ca.pem'), caPem);
  writeFileSync(path.join(folder, 'cert.pem'), leaf.certPem);
  writeFileSync(path.join(folder, 'key.pem'), leaf.keyPem, { mode: 0o600 });
  return folder;
}

const ca = createTestCa('Gatehouse remote engine CA');
const rogue = createTestCa('Someone else');
const serverDir = path.join(dir, 'server');
const gatehouseDir = path.join(dir, 'gatehouse');
const rogueClientDir = path.join(dir, 'rogue-client');
const wrongServerTrustDir = path.join(dir, 'trusts-rogue');
const tls = (folder: string) => ({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: folder });
const url = () => `tcp://127.0.0.1:${port}`;

beforeAll(async () => {
  await ensureSocketProxyImage();
  writeCertDir(serverDir, ca.certPem, ca.issue({ names: ['127.0.0.1'], commonName: 'pi' }));
  writeCertDir(gatehouseDir, ca.certPem, ca.issue({ names: [], commonName: 'gatehouse' }));
  writeCertDir(rogueClientDir, ca.certPem, rogue.issue({ names: [], commonName: 'intruder' }));
  writeCertDir(wrongServerTrustDir, rogue.certPem, ca.issue({ names: [], commonName: 'gatehouse' }));
  await docker(
    'run', '-d', '--name', name, '--user', 'root', '--read-only', '-p', '127.0.0.1::2376',
    '-v', '/var/run/docker.sock:/var/run/docker.sock:ro',
    '-v', `${CONF}:/etc/gatehouse/socket-proxy.nginx.conf:ro`,
    '-v', `${serverDir}:/certs:ro`,
    SOCKET_PROXY_TEST_IMAGE,
  );
  port = Number((await docker('port', name, '2376/tcp')).split('\n')[0]?.split(':').pop());
  await waitFor(async () => {
    const client = await openDockerClient(url(), 2_000, tls(gatehouseDir));
    try {
      await client.ping(signal);
      return true;
    } catch {
      return undefined;
    } finally {
      client.close();
    }
  }, 'the TLS socket proxy to answer', 30_000, 200);
}, 180_000);

afterAll(async () => {
  await docker('rm', '-f', name).catch(() => '');
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET through the proxy with Gatehouse's client certificate, for calls the Docker client never makes. */
function rawGet(pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1', port, path: pathname, headers: { host: 'docker' }, agent: false,
        ca: readFileSync(path.join(gatehouseDir, 'ca.pem')), cert: readFileSync(path.join(gatehouseDir, 'cert.pem')), key: readFileSync(path.join(gatehouseDir, 'key.pem')),
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the socket proxy for a remote host, behind TLS with client certificates', () => {
  it('lists the engine for a Gatehouse holding a certificate from the CA', async () => {
    const listing = await listOnce(url(), undefined, { tls: tls(gatehouseDir), engine: { name: 'pi', address: '127.0.0.1' } });
    const own = listing.containers.find((container) => container.name === name);
    expect(own).toMatchObject({ id: expect.stringMatching(/^pi\/[0-9a-f]{64}$/), engine: 'pi', remote: { address: '127.0.0.1' } });
  });

  it('answers a client whose certificate another CA signed with nothing from the engine', async () => {
    const client = await openDockerClient(url(), 5_000, tls(rogueClientDir));
    try {
      await expect(client.listContainers(signal)).rejects.toThrow(/HTTP 400/);
    } finally {
      client.close();
    }
  });

  it('is refused by Gatehouse when the engine certificate is not from the configured CA', async () => {
    const client = await openDockerClient(url(), 5_000, tls(wrongServerTrustDir));
    try {
      await expect(client.version(signal)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    } finally {
      client.close();
    }
  });

  it('still refuses every call but the read-only lists, over TLS as in clear', async () => {
    expect((await rawGet('/_ping')).status).toBe(200);
    for (const refused of [`/containers/${name}/json`, '/info', '/containers/json/../../info', '/secrets']) {
      const res = await rawGet(refused);
      expect(res.status, refused).toBe(403);
      expect(res.body).toContain('refused by the Gatehouse socket proxy');
    }
  });

  it('keeps the same allow list as the image’s own configuration', () => {
    const allowList = (text: string) => /map "\$request_method \$request_uri" \$docker_call_allowed \{[\s\S]*?\n {2}\}/.exec(text)?.[0];
    const image = allowList(readFileSync(path.join(ROOT, 'socket-proxy/nginx.conf'), 'utf8'));
    expect(image).toBeDefined();
    expect(allowList(readFileSync(CONF, 'utf8'))).toBe(image);
  });
});
