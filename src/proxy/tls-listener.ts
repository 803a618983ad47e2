import type http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import type { ListenAddress } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';

/** What the HTTPS listener needs from the certificate store (src/tls). */
export interface ServerCertificates {
  SNICallback(serverName: string, callback: (error: Error | null, context?: SecureContext) => void): void;
  /** For handshakes without a server name (a client that connects by IP address). */
  fallback(): { cert: string; key: string } | null;
  /** Called after each reload that changed the certificates; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

export interface TlsListener {
  listen(address: ListenAddress): Promise<{ host: string; port: number }>;
  /**
   * Stops accepting and asks HTTP/2 clients to go away once their streams finish. Resolves
   * when every TLS connection has closed; HTTP/1.1 ones drain with the HTTP server they were
   * handed to.
   */
  close(): Promise<void>;
  /** Cuts whatever is still open (the shutdown grace is over). */
  destroyAll(): void;
  readonly openSessions: number;
}

export interface TlsListenerOptions {
  certificates: ServerCertificates;
  /** The proxy's HTTP/1.1 server: TLS connections that negotiate http/1.1 (or no ALPN) go there. */
  http1: http.Server;
  /** The request handler the HTTP/1.1 server runs (Fastify's), which serves HTTP/2 streams as well. */
  handler: http.RequestListener;
  logger: Logger;
  /** Idle HTTP/2 sessions are closed after this long. */
  idleTimeoutMs: number;
  handshakeTimeoutMs: number;
}

/**
 * The HTTPS listener. TLS is terminated here, with the certificate picked per handshake by
 * SNI; ALPN then decides who gets the connection: `h2` goes to an HTTP/2 server, anything
 * else to the very HTTP/1.1 server behind the plain listener, so both share one handler, one
 * set of timeouts, the websocket upgrade path and one graceful shutdown.
 */
export function createTlsListener(options: TlsListenerOptions): TlsListener {
  const { certificates, logger } = options;
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();

  // Fastify tells the two apart by httpVersionMajor; the compatibility API has the same shape.
  const h2 = http2.createServer({}, options.handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setTimeout(options.idleTimeoutMs, () => session.close());
  });
  h2.on('sessionError', (error) => logger.debug({ err: error }, 'HTTP/2 session error'));

  const server = tls.createServer({
    SNICallback: (serverName, callback) => certificates.SNICallback(serverName, callback),
    ALPNProtocols: ['h2', 'http/1.1'],
    minVersion: 'TLSv1.2',
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  const applyFallback = () => {
    const pem = certificates.fallback();
    if (pem) server.setSecureContext({ ...pem, minVersion: 'TLSv1.2' });
  };
  applyFallback();
  const unsubscribe = certificates.onChange(applyFallback);

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else options.http1.emit('connection', socket);
  });
  // Scanners and clients that distrust the certificate end here; not worth more than debug.
  server.on('tlsClientError', (error, socket) => {
    logger.debug({ err: error, peer: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });

  let closed: Promise<void> | null = null;
  return {
    listen(address) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(address.port, address.host, () => {
          server.off('error', reject);
          const info = server.address() as AddressInfo;
          resolve({ host: info.address, port: info.port });
        });
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        unsubscribe();
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const session of sessions) session.close();
      });
      return closed;
    },
    destroyAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
    get openSessions() {
      return sessions.size;
    },
  };
}
