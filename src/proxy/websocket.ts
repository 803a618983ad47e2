import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Route } from '../routes/index.ts';
import type { UpstreamTarget } from '../routes/index.ts';
import { upstreamHost, upstreamPath } from './upstream-target.ts';
import { describeUpstreamFailure } from './upstream-failure.ts';
import { admitOnce, staleDetail, type ProxyContext } from './handler.ts';
import { isTrustedTarget, type UpstreamGuard } from './upstream-guard.ts';
import { buildUpstreamHeaders, cleanResponseHeaders, routeStripNames } from './headers.ts';
import { pathForLog, type AccessRecord, type Observer } from './observe.ts';
import { renderPage, type PageKind } from './pages.ts';
import { serializeHead, writeRawResponse } from './raw-response.ts';
import { describeRequest, requestIdFor } from './request-info.ts';
import { Tunnel } from './tunnel.ts';
import { setsGatehouseCookie } from '../http/index.ts';

/**
 * Websocket upgrades arrive on the Node server's `upgrade` event, outside Fastify and its hooks,
 * so this path runs the same description, routing, gate and header hygiene explicitly, then
 * relays raw bytes between the client and one upstream member.
 */
export interface UpgradeHandler {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every relayed websocket with close code 1001. */
  closeAll(): Promise<void>;
  readonly openCount: number;
}

/** Only websocket upgrades take this path; any other `Upgrade:` (h2c, …) is a plain request. */
export function isWebsocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.trim().toLowerCase() === 'websocket';
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function createUpgradeHandler(ctx: ProxyContext, options: { connectTimeoutMs: number; observe: Observer }): UpgradeHandler {
  const tunnels = new Set<Tunnel>();

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now();
    socket.on('error', () => socket.destroy());
    const requestId = requestIdFor(req, ctx.trusted);
    const record: Mutable<Omit<AccessRecord, 'status' | 'durationMs'>> = {
      method: req.method ?? 'GET',
      host: null,
      path: pathForLog(req.url),
      routeId: null,
      requestId,
      clientIp: null,
      websocket: true,
    };
    let handshakeMs: number | undefined;
    const finish = (status: number) =>
      options.observe({ ...record, status, durationMs: performance.now() - started, ...(handshakeMs === undefined ? {} : { handshakeMs }) });
    const refuse = (kind: PageKind, extra: { appName?: string; detail?: string } = {}) => {
      const detail = extra.detail ?? staleDetail(ctx, kind);
      const page = renderPage(kind, { requestId, accept: req.headers.accept, ...extra, ...(detail ? { detail } : {}) });
      writeRawResponse(socket, page.status, page.headers, page.body, requestId);
      finish(page.status);
    };

    if (ctx.isClosing()) return refuse('shutting_down');
    const described = describeRequest(req, requestId, ctx.trusted, true);
    if (!described.ok) return refuse('bad_request', { detail: described.reason });
    const gateRequest = described.request;
    record.host = gateRequest.host;
    record.path = gateRequest.path;
    record.clientIp = gateRequest.remoteAddress;

    const admission = await admitOnce(ctx, gateRequest);
    record.routeId = admission.route?.id ?? null;
    if (socket.destroyed) return finish(499);
    if (admission.kind === 'respond') {
      const { status, headers = {}, body } = admission.response;
      writeRawResponse(socket, status, headers, body, requestId);
      return finish(status);
    }
    if (admission.kind === 'page') {
      return refuse(admission.page, {
        ...(admission.route ? { appName: admission.route.display.name } : {}),
        ...(admission.detail === undefined ? {} : { detail: admission.detail }),
      });
    }

    const route = admission.route;
    const target = ctx.balancer.pick(route);
    const guard = isTrustedTarget(route) ? undefined : ctx.guard;
    const upstreamReq = openUpstream(route, target, guard, gateRequest.path, gateRequest.query, {
      headers: buildUpstreamHeaders(req.headers, {
        forwarding: described.forwarding,
        host: upstreamHost(route, target.origin, gateRequest.hostHeader),
        strip: routeStripNames(route),
        setHeaders: admission.setHeaders,
        gateRemoveHeaders: admission.removeHeaders,
        upgrade: true,
      }),
      method: gateRequest.method,
    });

    let settled = false;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        ctx.balancer.release(target);
      }
    };
    let timer = setTimeout(() => fail(timeoutError('connecting')), options.connectTimeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      upstreamReq.destroy();
      release();
      const failure = describeUpstreamFailure(error);
      ctx.logger.warn(
        { route: route.id, upstream: target.origin, cause: failure.kind, codes: failure.codes, reason: error.message, requestId },
        `websocket upstream failed (${failure.status})`,
      );
      refuse(failure.page, { appName: route.display.name });
    };

    upstreamReq.once('socket', (upstreamSocket: Socket) => {
      upstreamSocket.once(target.origin.startsWith('https:') ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        if (route.timeoutMs > 0) timer = setTimeout(() => fail(timeoutError('waiting for the handshake')), route.timeoutMs);
      });
    });
    upstreamReq.on('error', fail);
    socket.once('close', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      upstreamReq.destroy();
      release();
      finish(499);
    });

    upstreamReq.on('response', (res) => {
      // The upstream declined the upgrade: relay its answer as an ordinary response.
      settled = true;
      clearTimeout(timer);
      socket.write(serializeHead(res.statusCode ?? 502, cleanResponseHeaders(res.headers), requestId, ['connection: close']));
      res.pipe(socket);
      res.once('close', () => {
        release();
        finish(res.statusCode ?? 502);
      });
    });

    upstreamReq.on('upgrade', (res, upstreamSocket, upstreamHead) => {
      settled = true;
      clearTimeout(timer);
      if (socket.destroyed) {
        upstreamSocket.destroy();
        release();
        return finish(499);
      }
      socket.write(switchingProtocols(res, requestId));
      handshakeMs = performance.now() - started;
      const tunnel = new Tunnel(socket, upstreamSocket);
      tunnels.add(tunnel);
      tunnel.start(head, upstreamHead);
      void tunnel.done.then(() => {
        tunnels.delete(tunnel);
        release();
        finish(101);
      });
    });
    upstreamReq.end();
  }

  return {
    handle(req, socket, head) {
      void handle(req, socket, head).catch((error: unknown) => {
        ctx.logger.error({ err: error }, 'websocket upgrade failed');
        socket.destroy();
      });
    },
    async closeAll() {
      await Promise.all([...tunnels].map((tunnel) => tunnel.goAway()));
    },
    get openCount() {
      return tunnels.size;
    },
  };
}

function openUpstream(
  route: Route,
  target: UpstreamTarget,
  guard: UpstreamGuard | undefined,
  path: string,
  query: string,
  request: { headers: Record<string, string>; method: string },
): ClientRequest {
  const origin = new URL(target.origin);
  const tls = origin.protocol === 'https:';
  const port = Number(origin.port) || (tls ? 443 : 80);
  const common = {
    hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    method: request.method,
    path: upstreamPath(route, path) + query,
    headers: request.headers,
    agent: false as const,
    setHost: false,
    ...(guard === undefined ? {} : { lookup: guard.lookupFor(port) }),
  };
  const upstream = tls ? https.request({ ...common, rejectUnauthorized: !route.tlsSkipVerify }) : http.request(common);
  // A socket never calls its lookup for an IP literal, so a literal is checked here, and the
  // request destroyed before the event loop can start connecting (the error is emitted later).
  const refused = guard?.refuseLiteral(origin.hostname, port) ?? null;
  if (refused !== null) upstream.destroy(refused);
  return upstream;
}

/** The upstream's handshake headers, as it sent them, with Gatehouse's request id and without Gatehouse's cookies. */
function switchingProtocols(res: IncomingMessage, requestId: string): string {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i] as string;
    const value = res.rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'x-request-id' || (lower === 'set-cookie' && setsGatehouseCookie(value))) continue;
    lines.push(`${name}: ${value}`);
  }
  lines.push(`x-request-id: ${requestId}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function timeoutError(stage: string): Error {
  return Object.assign(new Error(`timed out ${stage}`), { code: 'ETIMEDOUT' });
}
