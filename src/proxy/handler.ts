import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../observability/index.ts';
import type { Route, RouteTable } from '../routes/index.ts';
import { admit, type Admission, type PassOptions, type Purpose } from './passes.ts';
import { forwardAuthAnswer, forwardAuthStyle, originalRequest, type ForwardAuthStyle } from './forward-auth.ts';
import { observeHeaderTemplates } from './identity-headers.ts';
import { upstreamHost, upstreamPath } from './upstream-target.ts';
import type { Balancer } from './balance.ts';
import { type ClientResponse, type UpstreamTransport } from './forward.ts';
import type { GateRequest, GateResponse, RawHandler } from '../http/index.ts';
import { routeResponseHeaders } from './response-headers.ts';
import { buildUpstreamHeaders, routeStripNames, type ForwardingFacts } from './headers.ts';
import { renderPage, type PageKind } from './pages.ts';
import { isTrustedTarget, type UpstreamGuard } from './upstream-guard.ts';
import { describeRequest } from './request-info.ts';
import { describeUpstreamFailure } from './upstream-failure.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

export interface ProxyContext {
  readonly logger: Logger;
  /** Records a request the client abandoned before its response was complete (status 499). */
  readonly onAbandoned: (request: FastifyRequest, durationMs: number) => void;
  /** Read once per request, at the start; every later pass gets that generation. */
  readonly currentTable: () => RouteTable;
  readonly passes: PassOptions;
  /** Served before routing, from the raw request (the built-in identity provider). */
  readonly rawHandler?: RawHandler | undefined;
  readonly trusted: TrustedProxies;
  /** Who may call the forward-auth endpoint (GATEHOUSE_FORWARD_AUTH_CLIENTS, else the trusted proxies). */
  readonly forwardAuthClients: TrustedProxies;
  readonly balancer: Balancer;
  readonly transport: UpstreamTransport;
  /** Checks where label routes connect; absent only in tests that build a context by hand. */
  readonly guard?: UpstreamGuard | undefined;
  readonly isClosing: () => boolean;
  readonly discoveryDegraded: () => boolean;
}

/** What the access log and metrics need once the response is done. */
export interface RequestNotes {
  host: string | null;
  path: string | null;
  routeId: string | null;
  clientIp: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    gatehouse: RequestNotes | null;
  }
}

/** Methods that are never forwarded: TRACE reflects headers (cookies included) back to the page. */
export const REFUSED_METHODS: ReadonlySet<string> = new Set(['TRACE', 'TRACK']);

/**
 * The whole proxy decision runs in `onRequest`, before Fastify would look at the body, so the
 * body stays an untouched stream: forwarded byte for byte, or never read at all.
 */
export function createRequestHandler(ctx: ProxyContext) {
  return async function onRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = request.raw;
    const notes: RequestNotes = { host: null, path: null, routeId: null, clientIp: null };
    request.gatehouse = notes;
    // onResponse only sees finished responses; this catches clients that hang up first.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) ctx.onAbandoned(request, reply.elapsedTime);
    });

    const described = describeRequest(raw, request.id, ctx.trusted, false);
    if (!described.ok) return sendPage(ctx, reply, 'bad_request', { detail: described.reason });
    const gateRequest = described.request;
    notes.host = gateRequest.host;
    notes.path = gateRequest.path;
    notes.clientIp = gateRequest.remoteAddress;
    if (REFUSED_METHODS.has(gateRequest.method)) return sendPage(ctx, reply, 'method_not_allowed', {});
    const forwardAuth = forwardAuthStyle(gateRequest.path);
    if (forwardAuth !== null) return sendGateResponse(ctx, reply, await answerForwardAuth(ctx, gateRequest, described.forwarding, forwardAuth, notes));
    if (ctx.rawHandler?.handles(gateRequest.host, gateRequest.path) === true) {
      // Fastify's onResponse still fires on 'finish' for a hijacked reply: the access log and metrics stay whole.
      reply.hijack();
      reply.raw.setHeader('x-request-id', request.id);
      if (ctx.isClosing()) reply.raw.setHeader('connection', 'close');
      ctx.rawHandler.handle(raw, reply.raw, gateRequest.remoteAddress);
      return reply;
    }

    // The front (front.ts) may have run the passes already: this request is judged once.
    const admission = takePrepared(raw) ?? (await admitOnce(ctx, gateRequest));
    notes.routeId = admission.route?.id ?? null;
    if (admission.kind === 'respond') return sendGateResponse(ctx, reply, admission.response);
    if (admission.kind === 'page') return sendPage(ctx, reply, admission.page, { appName: admission.route?.display.name, detail: admission.detail });

    // From here on the response is written to the raw response; onResponse still fires on 'finish'.
    reply.hijack();
    forwardAdmitted(ctx, raw, reply.raw, request.id, described, admission);
    return reply;
  };
}

/**
 * What the front (front.ts) already did for a request it then hands to Fastify: the request id
 * it gave it (pages it rendered name that id) and, when it ran them, the passes' answer.
 */
const prepared = new WeakMap<IncomingMessage, { readonly requestId: string; admission: Admission | null }>();

export function handOver(raw: IncomingMessage, requestId: string, admission: Admission | null): void {
  prepared.set(raw, { requestId, admission });
}

/** The id the front gave this request, for Fastify's genReqId. */
export function handedOverId(raw: IncomingMessage): string | undefined {
  return prepared.get(raw)?.requestId;
}

function takePrepared(raw: IncomingMessage): Admission | null {
  const found = prepared.get(raw);
  if (found === undefined) return null;
  prepared.delete(raw);
  return found.admission;
}

/**
 * The forward pass: the admitted request goes to one of the route's upstreams, with the headers
 * the passes rendered, and the upstream's answer is relayed to `res`. Shared by Fastify's hook
 * and the front (front.ts), which answer every other outcome differently.
 */
export function forwardAdmitted(
  ctx: ProxyContext,
  raw: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  described: { request: GateRequest; forwarding: ForwardingFacts },
  admission: Extract<Admission, { kind: 'forward' }>,
): void {
  const gateRequest = described.request;
  const route = admission.route;
  const target = ctx.balancer.pick(route);
  const headers = buildUpstreamHeaders(raw.headers, {
    forwarding: described.forwarding,
    host: upstreamHost(route, target.origin, gateRequest.hostHeader, gateRequest),
    strip: routeStripNames(route),
    setHeaders: admission.setHeaders,
    gateRemoveHeaders: admission.removeHeaders,
    upgrade: false,
  });
  const forwarding = ctx.transport.forward(res, {
    origin: target.origin,
    path: upstreamPath(route, gateRequest.path) + gateRequest.query,
    method: gateRequest.method,
    headers,
    body: hasBody(raw) ? raw : undefined,
    tlsSkipVerify: route.tlsSkipVerify,
    tls: route.pomerium?.tls ?? null,
    trustedTarget: isTrustedTarget(route),
    headersTimeout: route.timeoutMs,
    bodyTimeout: route.idleTimeoutMs ?? route.timeoutMs,
    // Label response headers and a Pomerium route's set_response_headers overwrite the app's; Gatehouse's own come last.
    responseHeaders: withOwnHeaders(ctx, staticResponseHeaders(route), requestId, raw),
    onError: (error) => {
      const failure = describeUpstreamFailure(error);
      ctx.logger.warn(
        { route: route.id, upstream: target.origin, cause: failure.kind, codes: failure.codes, reason: error.message, requestId },
        `upstream request failed (${failure.status})`,
      );
      writePage(ctx, raw, requestId, res, failure.page, { appName: route.display.name });
    },
  });
  res.on('close', () => {
    ctx.balancer.release(target);
    if (!res.writableFinished) forwarding.abort();
  });
}

const staticByRoute = new WeakMap<Route, Readonly<Record<string, string>>>();

/** A route's own response headers and a Pomerium route's set_response_headers, merged once per (frozen) route. */
function staticResponseHeaders(route: Route): Readonly<Record<string, string>> {
  let headers = staticByRoute.get(route);
  if (headers === undefined) {
    headers = Object.freeze({ ...routeResponseHeaders(route), ...(route.pomerium?.responseHeaders ?? {}) });
    staticByRoute.set(route, headers);
  }
  return headers;
}

/**
 * Reads the route store once for this request and runs the passes against that generation:
 * whatever is published meanwhile, this request keeps this route and this decision. A pass
 * that throws refuses the request (fail closed). Shared by plain requests and upgrades.
 */
export async function admitOnce(ctx: ProxyContext, request: GateRequest, purpose: Purpose = 'proxy'): Promise<Admission> {
  const table = ctx.currentTable();
  ctx.balancer.observe(table);
  ctx.transport.observe(table);
  try {
    observeHeaderTemplates(table);
    return await admit(request, table, ctx.passes, purpose);
  } catch (error) {
    ctx.logger.error({ err: error, requestId: request.requestId, websocket: request.isUpgrade }, 'the access gate failed; the request is refused');
    return { kind: 'page', route: null, page: 'internal_error' };
  }
}

/** An outer proxy's forward-auth call: the passes judge the request it describes, and nothing is forwarded. */
async function answerForwardAuth(ctx: ProxyContext, call: GateRequest, facts: ForwardingFacts, style: ForwardAuthStyle, notes: RequestNotes): Promise<GateResponse> {
  const original = originalRequest(
    { headers: call.headers, hostHeader: call.hostHeader, socketScheme: facts.scheme, peerIp: facts.peerIp, requestId: call.requestId },
    ctx.forwardAuthClients,
  );
  if (!original.ok) {
    ctx.logger.warn({ peer: facts.peerIp, status: original.response.status, requestId: call.requestId }, 'forward-auth call refused');
    return original.response;
  }
  const admission = await admitOnce(ctx, original.request, 'forward_auth');
  notes.routeId = admission.route?.id ?? null;
  notes.host = original.request.host;
  notes.path = original.request.path;
  notes.clientIp = original.request.remoteAddress;
  return forwardAuthAnswer(admission, original.request, style);
}

export function hasBody(raw: IncomingMessage): boolean {
  // HTTP/2 frames bodies itself and needs no Content-Length: a request without one ends with its headers.
  if (raw.httpVersionMajor === 2) return !(raw as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders;
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `headers` plus Gatehouse's own: the request id, and `Connection: close` while shutting down. */
function withOwnHeaders(ctx: ProxyContext, headers: Readonly<Record<string, string | string[]>>, requestId: string, raw: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = { ...(headers as Record<string, string>), 'x-request-id': requestId };
  // HTTP/2 has no Connection header: the stream is the unit, and shutdown sends GOAWAY.
  if (ctx.isClosing() && raw.httpVersionMajor < 2) out.connection = 'close';
  return out;
}

/** A page on a response Fastify no longer manages (the request was already handed to the upstream). */
export function writePage(ctx: ProxyContext, raw: IncomingMessage, requestId: string, res: ClientResponse, kind: PageKind, extra: { appName?: string | undefined }): void {
  const page = pageFor(ctx, requestId, raw.headers.accept, kind, extra);
  const headers: Record<string, string | string[]> = withOwnHeaders(ctx, page.headers, requestId, raw);
  // Part of the request body may be unread; the connection cannot carry another request after it.
  if (hasBody(raw) && raw.httpVersionMajor < 2) headers.connection = 'close';
  res.writeHead(page.status, headers);
  res.end(page.body);
}

export function sendPage(
  ctx: ProxyContext,
  reply: FastifyReply,
  kind: PageKind,
  extra: { detail?: string | undefined; appName?: string | undefined },
): FastifyReply {
  const page = pageFor(ctx, reply.request.id, reply.request.headers.accept, kind, extra);
  return sendGateResponse(ctx, reply, { kind: 'respond', status: page.status, headers: page.headers, body: page.body });
}

function pageFor(ctx: ProxyContext, requestId: string, accept: string | undefined, kind: PageKind, extra: { detail?: string | undefined; appName?: string | undefined }) {
  const detail = extra.detail ?? staleDetail(ctx, kind);
  return renderPage(kind, {
    requestId,
    accept,
    ...(detail === undefined ? {} : { detail }),
    ...(extra.appName === undefined ? {} : { appName: extra.appName }),
  });
}

/** While discovery is degraded, a missing or unready app may just be news Gatehouse has not heard. */
export function staleDetail(ctx: ProxyContext, kind: PageKind): string | undefined {
  if ((kind === 'not_found' || kind === 'upstream_unavailable' || kind === 'app_stopped') && ctx.discoveryDegraded()) {
    return 'Gatehouse has lost contact with Docker, so its list of apps may be out of date.';
  }
  return undefined;
}

function sendGateResponse(ctx: ProxyContext, reply: FastifyReply, response: GateResponse): FastifyReply {
  if (response.headers) reply.headers(response.headers);
  reply.header('x-request-id', reply.request.id);
  // An unread request body would otherwise have to be drained before the connection is reusable.
  if (ctx.isClosing() || hasBody(reply.request.raw)) reply.header('connection', 'close');
  return reply.code(response.status).send(response.body ?? '');
}
