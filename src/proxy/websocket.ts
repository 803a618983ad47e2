import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { upstreamHost, upstreamPath } from './upstream-target.ts';
import { describeUpstreamFailure } from './upstream-failure.ts';
import { admitOnce, staleDetail, type ProxyContext } from './handler.ts';
import { isTrustedTarget } from './upstream-guard.ts';
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

export function createUpgradeHandler(ctx: ProxyContext, options: { observe: Observer }): UpgradeHandler {
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
    let settled = false;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        ctx.balancer.release(target);
      }
    };
    const forwarding = ctx.transport.upgrade({
      origin: target.origin,
      path: upstreamPath(route, gateRequest.path) + gateRequest.query,
      method: gateRequest.method,
      headers: buildUpstreamHeaders(req.headers, {
        forwarding: described.forwarding,
        host: upstreamHost(route, target.origin, gateRequest.hostHeader, gateRequest),
        strip: routeStripNames(route),
        setHeaders: admission.setHeaders,
        gateRemoveHeaders: admission.removeHeaders,
        upgrade: true,
      }),
      tlsSkipVerify: route.tlsSkipVerify,
      tls: route.pomerium?.tls ?? null,
      // Routes from the operator's file connect wherever they say; every other upgrade is checked at connect time.
      trustedTarget: isTrustedTarget(route),
      headersTimeout: route.timeoutMs,
      client: socket,
      onError: (error) => {
        if (settled) return;
        settled = true;
        release();
        const failure = describeUpstreamFailure(error);
        ctx.logger.warn(
          { route: route.id, upstream: target.origin, cause: failure.kind, codes: failure.codes, reason: error.message, requestId },
          `websocket upstream failed (${failure.status})`,
        );
        refuse(failure.page, { appName: route.display.name });
      },
      // The upstream declined the upgrade: its answer goes back as an ordinary response.
      onDeclined: (status, headers) => {
        settled = true;
        socket.write(serializeHead(status, cleanResponseHeaders(headers), requestId, ['connection: close']));
      },
      onDeclinedEnd: (status) => {
        release();
        finish(status);
      },
      onUpgrade: (headers, upstreamSocket) => {
        settled = true;
        if (socket.destroyed) {
          upstreamSocket.destroy();
          release();
          return finish(499);
        }
        socket.write(switchingProtocols(headers, requestId));
        handshakeMs = performance.now() - started;
        const tunnel = new Tunnel(socket, upstreamSocket as Socket);
        tunnels.add(tunnel);
        tunnel.start(head, EMPTY);
        void tunnel.done.then(() => {
          tunnels.delete(tunnel);
          release();
          finish(101);
        });
      },
    });
    socket.once('close', () => {
      if (settled) return;
      settled = true;
      forwarding.abort();
      release();
      finish(499);
    });
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

const EMPTY = Buffer.alloc(0);

/** The upstream's handshake headers with Gatehouse's request id and without Gatehouse's cookies. */
function switchingProtocols(headers: Record<string, string | string[]>, requestId: string): string {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (const name in headers) {
    if (name === 'x-request-id') continue;
    const value = headers[name] as string | string[];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (name === 'set-cookie' && setsGatehouseCookie(item)) continue;
      lines.push(`${name}: ${item}`);
    }
  }
  lines.push(`x-request-id: ${requestId}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
