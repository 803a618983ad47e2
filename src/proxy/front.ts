import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { admitOnce, forwardAdmitted, handOver, REFUSED_METHODS, writePage, type ProxyContext } from './handler.ts';
import { forwardAuthStyle } from './forward-auth.ts';
import type { HttpsRedirect } from './https-redirect.ts';
import type { Observer } from './observe.ts';
import { describeRequest, requestIdFor } from './request-info.ts';
import type { Admission } from './passes.ts';
import type { GateRequest } from '../http/index.ts';
import type { ForwardingFacts } from './headers.ts';

/** nginx's code for a request the client abandoned before the response was complete. */
const CLIENT_CLOSED = 499;

/**
 * The proxy listener's front door. Fastify is a shell around the request path (every request is
 * answered in its `onRequest` hook), and a shell that costs on every request: its request and
 * reply objects, routing, hooks and their promises were about a tenth of the CPU and 3 KB of the
 * garbage of a forwarded request (bench/README.md, "Experiments"). So the front runs the passes
 * itself, once, and a request they forward to an app goes to it straight from here, with its
 * own access-log line and metrics. Every other outcome (a page, a refusal, a sign-in redirect,
 * Gatehouse's own endpoints, the built-in provider, forward-auth, the HTTPS redirect, anything
 * while shutting down) is handed to Fastify with the passes' answer and the request id, so it
 * is answered exactly as before and never judged twice.
 */
export function createFront(
  ctx: ProxyContext,
  options: { readonly observe: Observer; readonly fastify: () => RequestListener; readonly redirect: HttpsRedirect | null },
): RequestListener {
  const { observe } = options;

  function toFastify(req: IncomingMessage, res: ServerResponse, requestId: string | null, admission: Admission | null): void {
    if (requestId !== null) handOver(req, requestId, admission);
    options.fastify()(req, res);
  }

  function forward(req: IncomingMessage, res: ServerResponse, started: number, requestId: string, described: { request: GateRequest; forwarding: ForwardingFacts }, admission: Admission): void {
    if (admission.kind !== 'forward') return toFastify(req, res, requestId, admission);
    const request = described.request;
    const routeId = admission.route.id;
    // One line and one sample per request: at the end of the response, or 499 when the client left first.
    res.on('close', () => {
      observe({
        method: request.method,
        host: request.host,
        path: request.path,
        status: res.writableFinished ? res.statusCode : CLIENT_CLOSED,
        durationMs: performance.now() - started,
        routeId,
        requestId,
        clientIp: request.remoteAddress,
      });
    });
    // The client left while the passes ran: nothing to forward.
    if (res.destroyed) return;
    forwardAdmitted(ctx, req, res, requestId, described, admission);
  }

  return (req, res) => {
    // While shutting down Fastify answers (503 for new requests on a closing server), as it always did.
    if (ctx.isClosing() || (options.redirect !== null && options.redirect.redirectFor(req) !== null)) return toFastify(req, res, null, null);
    const started = performance.now();
    const requestId = requestIdFor(req, ctx.trusted);
    const described = describeRequest(req, requestId, ctx.trusted, false);
    if (!described.ok) return toFastify(req, res, requestId, null);
    const request = described.request;
    if (REFUSED_METHODS.has(request.method) || forwardAuthStyle(request.path) !== null || ctx.rawHandler?.handles(request.host, request.path) === true) {
      return toFastify(req, res, requestId, null);
    }
    admitOnce(ctx, request).then(
      (admission) => forward(req, res, started, requestId, described, admission),
      (error: unknown) => failed(error, req, res, requestId),
    ).catch((error: unknown) => failed(error, req, res, requestId));
  };

  function failed(error: unknown, req: IncomingMessage, res: ServerResponse, requestId: string): void {
    ctx.logger.error({ err: error, requestId }, 'request failed inside Gatehouse');
    if (!res.headersSent && !res.destroyed) writePage(ctx, req, requestId, res, 'internal_error', {});
    else res.destroy();
  }
}
