import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A stand-in for Synology DSM's reverse proxy (nginx): terminates TLS, keeps `Host` as the
 * browser sent it, and adds what DSM's rule template adds (`X-Real-IP`, `X-Forwarded-For`,
 * `X-Forwarded-Proto $scheme`). Websocket upgrades are passed on only when the rule has the
 * "WebSocket" custom headers, as in DSM.
 */
export interface DsmProxy {
  readonly port: number;
  readonly forwarded: IncomingHttpHeaders[];
  close(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer'];

export async function startDsmProxy(options: { cert: string; key: string; target: () => number; websocketHeaders: boolean }): Promise<DsmProxy> {
  const forwarded: IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket | Duplex>();

  function upstreamHeaders(req: http.IncomingMessage): IncomingHttpHeaders {
    const client = req.socket.remoteAddress ?? '';
    const headers: IncomingHttpHeaders = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const prior = req.headers['x-forwarded-for'];
    headers['x-real-ip'] = client;
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
    headers['x-forwarded-proto'] = 'https';
    forwarded.push(headers);
    return headers;
  }

  const server = https.createServer({ cert: options.cert, key: options.key }, (req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: options.target(), method: req.method, path: req.url, headers: upstreamHeaders(req) }, (answer) => {
      const headers = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete headers[name];
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('502 Bad Gateway (dsm)');
    });
    req.pipe(upstream);
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (!options.websocketHeaders) {
      // Without the custom headers nginx drops Upgrade/Connection: the app sees a plain GET.
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const headers = { ...upstreamHeaders(req), upgrade: String(req.headers.upgrade), connection: 'upgrade' };
    const upstream = http.request({ host: '127.0.0.1', port: options.target(), method: req.method, path: req.url, headers });
    upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
      sockets.add(upstreamSocket);
      const lines = [`HTTP/1.1 101 Switching Protocols`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
      upstreamSocket.on('error', () => socket.destroy());
      socket.on('error', () => upstreamSocket.destroy());
    });
    upstream.on('response', (answer) => {
      socket.end(`HTTP/1.1 ${answer.statusCode} X\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      answer.resume();
    });
    upstream.on('error', () => socket.destroy());
    upstream.end();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    forwarded,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
