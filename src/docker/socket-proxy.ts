import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/index.ts';

/**
 * `gatehouse socket-proxy`: the only process that needs the Docker socket. It answers the five
 * read-only endpoints discovery uses and refuses everything else, so the internet-facing proxy
 * never holds the socket (which is root on the host). Inspect is refused on purpose: it would
 * expose every container's environment.
 */
const ALLOWED = /^(?:\/v\d+(?:\.\d+)?)?\/(?:_ping|version|containers\/json|images\/json|events)$/;

export function isAllowedDockerCall(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?', 1)[0] ?? '';
  return ALLOWED.test(path);
}

export interface SocketProxyOptions {
  listen: { host: string; port: number };
  socketPath: string;
  logger: Logger;
}

export function createSocketProxy(options: SocketProxyOptions) {
  const server = createServer((req, res) => forward(req, res, options));
  return {
    async listen(): Promise<{ port: number }> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.listen.port, options.listen.host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      options.logger.info({ listen: `${options.listen.host}:${port}`, socket: options.socketPath }, 'docker socket proxy started');
      return { port };
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function forward(req: IncomingMessage, res: ServerResponse, options: SocketProxyOptions): void {
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  if (!isAllowedDockerCall(method, url)) {
    options.logger.warn({ method, path: url.split('?', 1)[0] }, 'docker socket proxy refused a call');
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `${method} ${url.split('?', 1)[0]} is not allowed: only GET /_ping, /version, /containers/json, /images/json and /events are` }));
    return;
  }
  const upstream = request({ socketPath: options.socketPath, method, path: url, headers: { host: 'docker' } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    // Events are a long-lived stream: flush every chunk as it arrives.
    res.flushHeaders();
    answer.pipe(res);
  });
  upstream.on('error', (error) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `cannot reach the Docker engine at ${options.socketPath}: ${error.message}` }));
    } else {
      res.destroy(error);
    }
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}
