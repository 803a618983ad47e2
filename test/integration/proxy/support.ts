import { proxyNetworkOptions } from '../../../src/main.ts';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig, type AppConfig } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.ts';
import { createProxyServer, type AccessGate, type ProxyServer } from '../../../src/proxy/index.ts';
import { buildRouteTable, type HostOwner, type RouteTable } from '../../../src/routes/index.ts';
import type { UpstreamGuardOptions } from '../../../src/proxy/upstream-guard.ts';
import type { RouteSpec } from '../../../src/routes/spec.ts';
import { NO_POLICY, SPEC_DEFAULTS } from '../../helpers/route-spec.ts';

/** A route claim with sensible defaults: public, one upstream, everything else off. */
export function spec(overrides: Partial<RouteSpec> & { origin?: string; ready?: boolean; name?: string } = {}): RouteSpec {
  const { origin = 'http://127.0.0.1:1', ready = true, name = 'app', ...rest } = overrides;
  return {
    source: { kind: 'container', containerId: `id-${name}`, containerName: name, group: name, created: 1 },
    routeName: 'default',
    hosts: ['app.test'],
    ...SPEC_DEFAULTS,
    fromScheme: 'http',
    upstream: { origin, containerId: `id-${name}`, ready, state: ready ? 'running' : 'starting' },
    policy: { ...NO_POLICY, public: true },
    identity: 'none',
    health: 'off',
    display: { name: 'Test App', icon: null, description: null, group: null },
    ...rest,
  };
}

/** Replicas: one spec per origin, same group and route name (merged into one route). */
export function replicas(origins: string[], overrides: Partial<RouteSpec> = {}): RouteSpec[] {
  return origins.map((origin, i) => {
    const base = spec({ origin, name: 'replica', ...overrides });
    return { ...base, source: { kind: 'container', containerId: `id-${i}`, containerName: `replica-${i}`, group: 'replica', created: 1 } };
  });
}

/** The specs' containers count as one compose project, so they may share hosts. */
export function table(...specs: RouteSpec[]): RouteTable {
  const owners = new Map<string, HostOwner>();
  for (const one of specs) if (one.source.kind === 'container') owners.set(one.source.containerId, { kind: 'compose', project: 'test' });
  return buildRouteTable(specs, [], { closed: [], owners });
}

export interface Echo {
  readonly origin: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: IncomingMessage['headers'];
  bodyBytes: number;
  sha256: string;
}

/**
 * A real upstream that answers with what it received (method, target, raw header list, body
 * size and SHA-256). `respond` may take over for special cases (slow answers, status codes).
 */
export async function startEcho(
  respond?: (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void | Promise<void>,
): Promise<Echo> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const record: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        headers: req.headers,
        bodyBytes: bytes,
        sha256: hash.digest('hex'),
      };
      received.push(record);
      if (respond) {
        void respond(req, res, record);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(record));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Harness {
  readonly proxy: ProxyServer;
  readonly port: number;
  readonly metrics: Metrics;
  readonly config: AppConfig;
  readonly logLines: () => Record<string, unknown>[];
  /** The log lines as written, before JSON.parse folds repeated keys into one. */
  readonly rawLogLines: () => string[];
  /** How many times the proxy has read the current table. */
  readonly tableReads: () => number;
  setTable(next: RouteTable): void;
  close(): Promise<void>;
}

export async function startProxy(options: {
  table: RouteTable;
  gate?: AccessGate;
  secretsDir?: string;
  env?: Record<string, string>;
  discoveryDegraded?: () => boolean;
  /** The connect-time target check, as main.ts sets it; off unless given. */
  targets?: UpstreamGuardOptions;
}): Promise<Harness> {
  const config = loadConfig({ GATEHOUSE_LISTEN: '127.0.0.1:0', GATEHOUSE_ADMIN_LISTEN: '127.0.0.1:0', GATEHOUSE_SHUTDOWN_GRACE: '2s', ...options.env });
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const metrics = createMetrics();
  let current = options.table;
  let reads = 0;
  const proxy = await createProxyServer({
    network: proxyNetworkOptions(config),
    logger,
    metrics,
    currentTable: () => {
      reads++;
      return current;
    },
    ...(options.gate ? { gate: options.gate } : {}),
    ...(options.secretsDir ? { secretsDir: options.secretsDir } : {}),
    ...(options.discoveryDegraded ? { discoveryDegraded: options.discoveryDegraded } : {}),
    ...(options.targets ? { targets: options.targets } : {}),
  });
  const { port } = await proxy.listen();
  return {
    proxy,
    port,
    metrics,
    config,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLogLines: () => [...lines],
    tableReads: () => reads,
    setTable(next) {
      current = next;
    },
    close: () => proxy.close(),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Sends bytes exactly as given on a fresh socket and reads until the server closes it. */
export function rawRequest(port: number, text: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks).toString('latin1'))));
  });
}

export function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  let body = split === -1 ? '' : raw.slice(split + 4);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body, raw };
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) return out;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** A GET with the given header lines exactly as written (plus `Connection: close` unless one is given). */
export function rawGet(port: number, path: string, headerLines: string[], host = 'app.test'): Promise<RawResponse> {
  const hasConnection = headerLines.some((line) => /^connection:/i.test(line));
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...(hasConnection ? [] : ['Connection: close']), ...headerLines];
  return rawRequest(port, [...lines, '', ''].join('\r\n'));
}

/** Parses the echo upstream's JSON answer. */
export function echoed(response: { body: string }): ReceivedRequest {
  return JSON.parse(response.body) as ReceivedRequest;
}

/** Header names (lowercased) the upstream received, with every value, duplicates kept. */
export function rawHeaderValues(received: ReceivedRequest, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < received.rawHeaders.length; i += 2) {
    if ((received.rawHeaders[i] as string).toLowerCase() === name) values.push(received.rawHeaders[i + 1] as string);
  }
  return values;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The top-level keys of one JSON object as written, repeats included (JSON.parse keeps only the last). */
export function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (depth === 1 && json[end + 1] === ':') keys.push(JSON.parse(json.slice(i, end + 1)) as string);
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}
