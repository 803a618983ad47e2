import { randomUUID } from 'node:crypto';
import type * as NodeHttp from 'node:http';
import { http } from '../util/node-http.ts';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ListenAddress } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import type { AuditSink, Metrics } from '../observability/index.ts';
import type { RouteTable } from '../routes/index.ts';
import type { PolicyEntry } from '../routes/index.ts';
import { createSecretReader, DEFAULT_LABEL_SECRETS_DIR } from '../util/secrets.ts';
import { createBalancer } from './balance.ts';
import { NO_SIGN_IN } from './passes.ts';
import { createUpstreamTransport } from './forward.ts';
import type { AccessGate } from '../auth/index.ts';
import type { RawHandler } from '../http/index.ts';
import { createUpstreamGuard, type UpstreamGuardOptions } from './upstream-guard.ts';
import { createRequestHandler, handedOverId, sendPage, type ProxyContext } from './handler.ts';
import { createFront } from './front.ts';
import { hasBody } from './handler.ts';
import { createHttpsRedirect, redirectStatus, type HttpsRedirect } from './https-redirect.ts';
import { createObserver, pathForLog, type AccessRecord, type Observer } from './observe.ts';
import { renderPage } from './pages.ts';
import { writeRawResponse } from './raw-response.ts';
import { requestIdFor } from './request-info.ts';
import { createTlsListener, type ServerCertificates, type TlsListener } from './tls-listener.ts';
import { createTrustedProxies, type TrustedProxies } from './trusted-proxies.ts';
import { createUpgradeHandler, isWebsocketUpgrade } from './websocket.ts';
import { noSchemaCompilers } from './no-schemas.ts';

/** How the proxy listens, whom it trusts and how long it waits: main.ts maps the environment onto this. */
export interface ProxyNetworkOptions {
  readonly listen: ListenAddress;
  /** Used when certificates are given. */
  readonly httpsListen: ListenAddress;
  /** The HTTPS port users see, when not 443 (behind a port mapping). */
  readonly httpsPublicPort: number | undefined;
  /** With TLS on, redirect plain http to https; default on. */
  readonly httpRedirect: boolean | undefined;
  /** CIDRs or addresses whose X-Forwarded-* (and client-address headers) are believed. */
  readonly trustedProxies: readonly string[];
  /** CIDRs or addresses that may call the forward-auth endpoint; undefined: the trusted proxies. */
  readonly forwardAuthClients?: readonly string[] | undefined;
  readonly accessLog: boolean;
  /** 0 = no limit. */
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly shutdownGraceMs: number;
}

export interface ProxyServerOptions {
  network: ProxyNetworkOptions;
  logger: Logger;
  metrics: Metrics;
  currentTable: () => RouteTable;
  /** Who is calling, and Gatehouse's own endpoints; without one, sign-in is not configured and only open routes pass. */
  gate?: AccessGate;
  /** Who may use a route whose labels name no allow entry (GATEHOUSE_DEFAULT_ALLOW). */
  defaultAllow?: readonly PolicyEntry[];
  /** Where `secret:NAME` header values are read from (GATEHOUSE_LABEL_SECRETS_DIR). */
  secretsDir?: string;
  /** Gatehouse's own settings files, never readable through a label (see util/secrets.ts). */
  ownFiles?: readonly string[];
  /** Answers its own requests before routing (the built-in identity provider on the sign-in host). */
  rawHandler?: RawHandler;
  /** Where refusals are recorded with their deciding entry (the audit stream). */
  audit?: AuditSink;
  /** True while route discovery is degraded; pages then say the app list may be out of date. */
  discoveryDegraded?: () => boolean;
  /** Turns on the HTTPS listener (GATEHOUSE_HTTPS_LISTEN) and, by default, the HTTP→HTTPS redirect. */
  certificates?: ServerCertificates;
  /**
   * Checks every address a label route connects to (main.ts always sets it). Without it the
   * proxy connects wherever routes say: only tests that serve label routes from loopback omit it.
   */
  targets?: UpstreamGuardOptions;
}

export interface ProxyServer {
  /** Listens on GATEHOUSE_LISTEN, and on GATEHOUSE_HTTPS_LISTEN with certificates (port 0 picks a free port). */
  listen(): Promise<{ port: number; httpsPort: number | null }>;
  /**
   * Graceful: `closing` flips first (readiness), new connections are refused, in-flight requests
   * drain for up to GATEHOUSE_SHUTDOWN_GRACE, then websockets get close code 1001 and whatever
   * is left is cut.
   */
  close(): Promise<void>;
  readonly closing: boolean;
  readonly address: { host: string; port: number } | null;
  readonly httpsAddress: { host: string; port: number } | null;
}

/** nginx's code for a request the client abandoned before the response was complete. */
const CLIENT_CLOSED = 499;

function accessRecord(request: FastifyRequest, status: number, durationMs: number): AccessRecord {
  const notes = request.gatehouse;
  return {
    method: request.method,
    host: notes?.host ?? null,
    path: notes?.path ?? pathForLog(request.raw.url),
    status,
    durationMs,
    routeId: notes?.routeId ?? null,
    requestId: request.id,
    clientIp: notes?.clientIp ?? null,
  };
}

/** Every method Node parses, except CONNECT (Node hands it to a `connect` listener we do not have). */
const FORWARDED_METHODS = http.METHODS.filter((method) => method !== 'CONNECT');

export async function createProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const net = options.network;
  const logger = options.logger.child({ mod: 'proxy' });
  const trusted = createTrustedProxies(net.trustedProxies);
  const guard = options.targets === undefined ? undefined : createUpstreamGuard(options.targets);
  const transport = createUpstreamTransport({ connectTimeoutMs: net.upstreamConnectTimeoutMs, ...(guard ? { guard } : {}) });
  // From the root logger: a child of the proxy's would write `mod` twice in every access line.
  const observe = createObserver({ logger: options.logger, metrics: options.metrics, accessLog: net.accessLog });
  let closing = false;
  const ctx: ProxyContext = {
    logger,
    currentTable: options.currentTable,
    passes: {
      gate: options.gate ?? NO_SIGN_IN,
      defaultAllow: options.defaultAllow ?? [],
      readSecret: createSecretReader({ dir: options.secretsDir ?? DEFAULT_LABEL_SECRETS_DIR, ownFiles: options.ownFiles ?? [] }),
      logger,
      audit: options.audit,
    },
    forwardAuthClients: net.forwardAuthClients === undefined ? trusted : createTrustedProxies(net.forwardAuthClients),
    rawHandler: options.rawHandler,
    trusted,
    balancer: createBalancer(),
    transport,
    guard,
    isClosing: () => closing,
    onAbandoned: (request, durationMs) => observe(accessRecord(request, CLIENT_CLOSED, durationMs)),
    discoveryDegraded: options.discoveryDegraded ?? (() => false),
  };
  const upgrades = createUpgradeHandler(ctx, { observe });
  const tlsOn = options.certificates !== undefined;
  const redirect = tlsOn && (net.httpRedirect ?? true) ? createHttpsRedirect({ trusted, publicPort: net.httpsPublicPort }) : null;
  const onUpgrade = (req: NodeHttp.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (redirect && redirectUpgrade(redirect, req, socket, trusted, observe)) return;
    upgrades.handle(req, socket, head);
  };
  let fastifyHandler: NodeHttp.RequestListener | undefined;

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // Gatehouse logs the request id itself; a per-request child logger (redaction compiled in) would cost more than the routing.
    childLoggerFactory: (parent) => parent,
    // Our own trusted-proxy handling decides what X-Forwarded-* means; Fastify must not guess.
    trustProxy: false,
    schemaController: noSchemaCompilers,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    genReqId: (raw) => handedOverId(raw) ?? requestIdFor(raw, trusted),
    serverFactory: (handler) => {
      fastifyHandler = handler;
      // Requests forwarded to apps are served by the front; everything else goes on to Fastify.
      const front = createFront(ctx, { observe, redirect, fastify: () => handler });
      return createNodeServer(front, net, onUpgrade);
    },
    clientErrorHandler: (error, socket) => answerClientError(error, socket, observe),
    frameworkErrors: (error, request, reply) => {
      request.gatehouse = { host: null, path: pathForLog(request.raw.url), routeId: null, clientIp: null };
      sendPage(ctx, reply, 'bad_request', { detail: 'the request path is not valid' });
    },
  });
  for (const method of FORWARDED_METHODS) {
    if (!app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
  }
  app.decorateRequest('gatehouse', null);

  if (redirect) app.addHook('onRequest', (request, reply) => redirectToHttps(redirect, request, reply));
  app.addHook('onRequest', createRequestHandler(ctx));
  if (tlsOn) {
    // HTTP/2 has no Connection header (the stream is the unit): drop what HTTP/1.1 paths set.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (request.raw.httpVersionMajor === 2) reply.removeHeader('connection');
      done(null, payload);
    });
  }
  app.addHook('onResponse', (request, reply, done) => {
    observe(accessRecord(request, reply.statusCode, reply.elapsedTime));
    done();
  });
  app.setNotFoundHandler((request, reply) => sendPage(ctx, reply, 'not_found', {}));
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) logger.error({ err: error, requestId: request.id }, 'request failed inside Gatehouse');
    return sendPage(ctx, reply, status >= 400 && status < 500 ? 'bad_request' : 'internal_error', {});
  });
  app.route({
    method: FORWARDED_METHODS,
    url: '*',
    // Never reached: onRequest answers every request. Kept so routing succeeds and hooks run.
    handler: (_request, reply) => sendPage(ctx, reply, 'internal_error', {}),
  });
  await app.ready();

  const tlsListener: TlsListener | null = options.certificates
    ? createTlsListener({
        certificates: options.certificates,
        http1: app.server,
        handler: fastifyHandler as NodeHttp.RequestListener,
        logger,
        idleTimeoutMs: net.keepAliveTimeoutMs,
        handshakeTimeoutMs: net.headersTimeoutMs,
      })
    : null;
  let address: { host: string; port: number } | null = null;
  let httpsAddress: { host: string; port: number } | null = null;
  let closed: Promise<void> | null = null;

  return {
    async listen() {
      const listen = net.listen;
      await app.listen({ host: listen.host, port: listen.port });
      const info = app.server.address() as AddressInfo;
      address = { host: info.address, port: info.port };
      logger.info({ address: `${info.address}:${info.port}`, redirectsToHttps: redirect !== null }, 'proxy listening');
      if (tlsListener) {
        httpsAddress = await tlsListener.listen(net.httpsListen);
        logger.info({ address: `${httpsAddress.host}:${httpsAddress.port}`, protocols: ['h2', 'http/1.1'] }, 'proxy listening for HTTPS');
      }
      return { port: info.port, httpsPort: httpsAddress?.port ?? null };
    },
    close() {
      closed ??= shutDown();
      return closed;
    },
    get closing() {
      return closing;
    },
    get address() {
      return address;
    },
    get httpsAddress() {
      return httpsAddress;
    },
  };

  async function shutDown(): Promise<void> {
    closing = true;
    const grace = net.shutdownGraceMs;
    const drained = Promise.all([app.close(), tlsListener?.close()]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(resolve, grace, 'deadline');
    });
    const first = await Promise.race([drained.then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (first === 'deadline') {
      logger.info({ websockets: upgrades.openCount }, 'shutdown grace over: closing websockets and remaining connections');
      await upgrades.closeAll();
      app.server.closeAllConnections();
      tlsListener?.destroyAll();
      await drained;
    }
    await transport.close();
    // `gatehouse serve` exits right after: the last access lines must be on stdout by then.
    await observe.settle();
  }
}

function createNodeServer(
  handler: NodeHttp.RequestListener,
  net: ProxyNetworkOptions,
  onUpgrade: (req: NodeHttp.IncomingMessage, socket: Duplex, head: Buffer) => void,
): NodeHttp.Server {
  const requestTimeout = net.requestTimeoutMs;
  // Node insists headersTimeout <= requestTimeout whenever the latter is set.
  const headersTimeout = requestTimeout > 0 ? Math.min(net.headersTimeoutMs, requestTimeout) : net.headersTimeoutMs;
  const server = http.createServer(
    {
      requestTimeout,
      headersTimeout,
      // A missing Host gets Gatehouse's own 400 page rather than Node's empty one.
      requireHostHeader: false,
      keepAliveTimeout: net.keepAliveTimeoutMs,
      // Timeouts are only checked this often; keep it well under the headers timeout.
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(headersTimeout / 4))),
      shouldUpgradeCallback: isWebsocketUpgrade,
    },
    handler,
  );
  // No idle-socket timeout: long polls and event streams may stay quiet for minutes; slow
  // headers and idle keep-alive connections have their own limits above.
  server.setTimeout(0);
  server.on('upgrade', onUpgrade);
  return server;
}

/** Requests Node's parser rejected (oversized headers, slow headers, malformed framing). */
function answerClientError(error: Error, socket: Duplex, observe: Observer): void {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const kind = code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'bad_request';
  const requestId = randomUUID();
  const page = renderPage(kind, { requestId, accept: undefined });
  writeRawResponse(socket, page.status, page.headers, page.body, requestId);
  observe({ method: '-', host: null, path: null, status: page.status, durationMs: 0, routeId: null, requestId, clientIp: null });
}

/** Plain-http requests, when TLS is on, go to the same address over https. */
async function redirectToHttps(redirect: HttpsRedirect, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const found = redirect.redirectFor(request.raw);
  if (found === null) return undefined;
  const { location, request: seen } = found;
  request.gatehouse = { host: seen.host, path: seen.path, routeId: null, clientIp: seen.remoteAddress };
  reply.header('x-request-id', request.id).header('location', location).header('cache-control', 'no-store');
  // An unread request body would otherwise have to be drained before the connection is reusable.
  if (hasBody(request.raw)) reply.header('connection', 'close');
  return reply.code(redirectStatus(request.method)).type('text/plain; charset=utf-8').send(`Moved to ${location}\n`);
}

function redirectUpgrade(redirect: HttpsRedirect, req: NodeHttp.IncomingMessage, socket: Duplex, trusted: TrustedProxies, observe: Observer): boolean {
  const found = redirect.redirectFor(req);
  if (found === null) return false;
  const requestId = requestIdFor(req, trusted);
  writeRawResponse(socket, 308, { location: found.location, 'content-type': 'text/plain; charset=utf-8' }, `Moved to ${found.location}\n`, requestId);
  observe({
    method: req.method ?? 'GET',
    host: found.request.host,
    path: found.request.path,
    status: 308,
    durationMs: 0,
    routeId: null,
    requestId,
    clientIp: found.request.remoteAddress,
    websocket: true,
  });
  return true;
}
