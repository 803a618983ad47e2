import { certificateSources, proxyNetworkOptions } from '../../../src/main.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { loadConfig, type AppConfig } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.ts';
import { createProxyServer, type AccessGate, type ProxyServer } from '../../../src/proxy/index.ts';
import type { RouteTable } from '../../../src/routes/table.ts';
import { startCertificates, type Certificates } from '../../../src/tls/index.ts';
import type { IssuedCertificate } from '../../helpers/test-ca.ts';

export interface TlsHarness {
  readonly proxy: ProxyServer;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly certificates: Certificates;
  readonly metrics: Metrics;
  readonly config: AppConfig;
  readonly logLines: () => Record<string, unknown>[];
  close(): Promise<void>;
}

/** The proxy with real certificate sources and both listeners on loopback ports. */
export async function startTlsProxy(options: { table: RouteTable; gate?: AccessGate; env: Record<string, string> }): Promise<TlsHarness> {
  const config = loadConfig({
    GATEHOUSE_LISTEN: '127.0.0.1:0',
    GATEHOUSE_HTTPS_LISTEN: '127.0.0.1:0',
    GATEHOUSE_ADMIN_LISTEN: '127.0.0.1:0',
    GATEHOUSE_SHUTDOWN_GRACE: '2s',
    ...options.env,
  });
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  const metrics = createMetrics();
  const sources = certificateSources(config);
  if (sources === null) throw new Error('no certificate source in the test environment');
  const certificates = await startCertificates(sources, { logger, metrics, debounceMs: 50 });
  const proxy = await createProxyServer({ network: proxyNetworkOptions(config), logger, metrics, currentTable: () => options.table, ...(options.gate ? { gate: options.gate } : {}), certificates });
  const { port, httpsPort } = await proxy.listen();
  return {
    proxy,
    httpPort: port,
    httpsPort: httpsPort as number,
    certificates,
    metrics,
    config,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: async () => {
      await proxy.close();
      await certificates.close();
    },
  };
}

export async function writePair(dir: string, certPath: string, keyPath: string, pair: IssuedCertificate): Promise<void> {
  await mkdir(dirname(join(dir, certPath)), { recursive: true });
  await mkdir(dirname(join(dir, keyPath)), { recursive: true });
  await writeFile(join(dir, certPath), pair.certPem);
  await writeFile(join(dir, keyPath), pair.keyPem);
}

export interface Handshake {
  readonly fingerprint256: string;
  readonly alpn: string | false | null;
  readonly authorized: boolean;
  readonly authorizationError: string | null;
}

/** One TLS handshake to the listener: which certificate it presents for `servername` (none: no SNI). */
export function handshake(port: number, servername?: string, ca?: string, alpn: string[] = ['http/1.1']): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false, ALPNProtocols: alpn, ...(ca ? { ca } : {}) }, () => {
      const result = {
        fingerprint256: socket.getPeerCertificate().fingerprint256,
        alpn: socket.alpnProtocol ?? null,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
      };
      socket.end();
      resolve(result);
    });
    socket.on('error', reject);
  });
}

export interface HttpsResult {
  status: number;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** HTTP/1.1 over TLS, verified against `ca` for `host`. */
export function httpsRequest(
  port: number,
  host: string,
  path: string,
  options: { ca: string; method?: string; headers?: Record<string, string>; body?: string; alpn?: string[] },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        servername: host,
        ca: options.ca,
        agent: false,
        headers: { host: `${host}:${port}`, ...options.headers },
        ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, httpVersion: res.httpVersion, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** One HTTP/2 request on an open session. */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

export function h2Connect(port: number, servername: string, ca: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername, ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}
