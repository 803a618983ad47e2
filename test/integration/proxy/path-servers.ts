import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { docker, NGINX_IMAGE } from '../../helpers/images.ts';
import { waitFor } from '../../helpers/http.ts';
import { rawGet } from './support.ts';

/**
 * Real web servers serving one tree, for the path table: each reads a request path its own
 * way, which is the point. The tree has an admin file and public files whose contents tell
 * which one a server served.
 */
export const ADMIN_CONTENT = 'ADMIN-SECRET-7f3a';
export const PUBLIC_CONTENT = 'PUBLIC-CONTENT-91c2';

export interface PathServer {
  readonly name: string;
  readonly port: number;
  /** Targets the server received, in order (only servers run in this process record them). */
  readonly received: string[] | null;
  close(): Promise<void>;
}

export async function makeTree(): Promise<{ root: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'gh-paths-'));
  const www = join(root, 'www');
  await mkdir(join(www, 'admin'), { recursive: true });
  await mkdir(join(www, 'pub'), { recursive: true });
  await writeFile(join(www, 'admin', 'secret.txt'), `${ADMIN_CONTENT}\n`);
  await writeFile(join(www, 'admin', 'index.html'), `${ADMIN_CONTENT}\n`);
  await writeFile(join(www, 'pub', 'file.txt'), `${PUBLIC_CONTENT}\n`);
  await writeFile(join(www, 'index.html'), `${PUBLIC_CONTENT}\n`);
  await writeFile(
    join(root, 'nginx.conf'),
    'user root;\nworker_processes 1;\nerror_log stderr;\npid /tmp/nginx.pid;\nevents {}\n' +
      'http { access_log off; server { listen 8080; root /www; location / { } } }\n',
  );
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

async function readyOn(port: number, what: string): Promise<void> {
  await waitFor(
    async () => ((await rawGet(port, '/pub/file.txt', [], 'upstream.test').catch(() => null))?.status === 200 ? true : undefined),
    `${what} answering`,
    30_000,
    100,
  );
}

async function runContainer(name: string, args: string[]): Promise<PathServer> {
  const id = await docker('run', '-d', '--rm', '-p', '127.0.0.1::8080', ...args);
  const close = async () => {
    await docker('rm', '-f', id).catch(() => undefined);
  };
  try {
    const mapped = await docker('port', id, '8080/tcp');
    const port = Number(mapped.split('\n')[0]?.split(':').pop());
    await readyOn(port, name);
    return { name, port, received: null, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export function startBusybox(root: string): Promise<PathServer> {
  return runContainer('busybox httpd', ['-v', `${join(root, 'www')}:/www:ro`, 'busybox:local', 'httpd', '-f', '-p', '8080', '-h', '/www']);
}

export function startNginx(root: string): Promise<PathServer> {
  return runContainer('nginx (Debian nginx-light)', [
    '-v',
    `${join(root, 'www')}:/www:ro`,
    '-v',
    `${join(root, 'nginx.conf')}:/etc/gh-nginx.conf:ro`,
    NGINX_IMAGE,
    'nginx',
    '-c',
    '/etc/gh-nginx.conf',
    '-g',
    'daemon off;',
  ]);
}

export async function startPython(root: string): Promise<PathServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', join(root, 'www')], {
    stdio: 'ignore',
  });
  const close = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  };
  try {
    await readyOn(port, "Python's http.server");
    return { name: "Python http.server", port, received: null, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Node's `http` with the usual static-file reading: WHATWG URL, one decode, `path.join` under the root. */
export function startNodeStatic(root: string): Promise<PathServer> {
  const www = join(root, 'www');
  return startNode('Node http (URL + decode + path.join)', async (target) => {
    const pathname = decodeURIComponent(new URL(target, 'http://upstream.test').pathname);
    const file = join(www, pathname);
    if (file !== www && !file.startsWith(www + sep)) return null;
    return file;
  });
}

/**
 * Node's `http` reading a path the most lenient way common servers do, all at once: `;`
 * parameters dropped per segment (servlet containers), `\` as `/`, decoded twice, NFKC, trailing
 * dots and spaces dropped and letters compared without case (Windows, macOS, Express and
 * ASP.NET routing), empty and dot segments resolved. What no single real server here does.
 */
export function startNodeLenient(root: string): Promise<PathServer> {
  const www = join(root, 'www');
  return startNode('Node http, lenient reading (servlet, Windows, double decode)', async (target) => {
    const raw = (target.split('?')[0] as string).replace(/\\/g, '/');
    const words: string[] = [];
    for (const piece of raw.split('/')) {
      const decoded = decodeURIComponent(decodeURIComponent(piece.split(';')[0] as string)).replace(/\\/g, '/');
      for (const part of decoded.normalize('NFKC').split('/')) {
        if (part === '..') words.pop();
        if (part === '..' || part === '.') continue;
        // Windows: `name::$DATA` and `dir:$I30:$INDEX_ALLOCATION` are the file or folder itself.
        const word = part.replace(/^([^:]*)(:[^:]*)?:\$[A-Za-z0-9_]+$/, '$1').replace(/[. ]+$/, '');
        if (word !== '') words.push(word.toUpperCase().toLowerCase());
      }
    }
    const file = normalize(join(www, ...words));
    return file.startsWith(www) ? file : null;
  });
}

async function startNode(name: string, locate: (target: string) => Promise<string | null>): Promise<PathServer> {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    const target = req.url ?? '';
    received.push(target);
    void (async () => {
      let file: string | null;
      try {
        file = await locate(target);
      } catch {
        res.writeHead(400).end('bad path\n');
        return;
      }
      if (file === null) {
        res.writeHead(403).end('outside the root\n');
        return;
      }
      const body = await readFile(file).catch(() => readFile(join(file as string, 'index.html'))).catch(() => null);
      if (body === null) res.writeHead(404).end('not found\n');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
