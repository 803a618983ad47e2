import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Agent, type Dispatcher } from 'undici';
import { cleanResponseHeaders } from './headers.ts';

/**
 * Upstream transport: one shared undici Agent (per-origin pools, keep-alive, no redirects) plus
 * a second one, created on first use, for routes that opted out of TLS verification.
 *
 * reply-from takes a single dispatcher and no per-request context, yet a request needs its own
 * agent, timeouts and body stream. The headers object is the one thing reply-from hands through
 * unchanged (`Object.assign` copies symbol keys), so the context rides on it under a private
 * symbol and the dispatcher below takes it off before undici sees the headers.
 */
const kUpstream = Symbol('gatehouse.upstream');

interface UpstreamContext {
  readonly agent: Agent;
  readonly body: Readable | undefined;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
}

type HeadersWithContext = Record<string, string | undefined> & { [kUpstream]?: UpstreamContext };

export interface UpstreamCall {
  /** Origin plus the path to request (already stripped when strip_path is on). */
  readonly url: string;
  /** With its leading `?`, or empty. */
  readonly query: string;
  readonly headers: Record<string, string>;
  /** The client's body stream, when there is one. */
  readonly body: Readable | undefined;
  readonly tlsSkipVerify: boolean;
  /** Time to wait for response headers; 0 = no limit. */
  readonly headersTimeout: number;
  /** Longest pause between body chunks; 0 = no limit. */
  readonly bodyTimeout: number;
  /** Response headers Gatehouse adds (request id, `Connection: close` while draining). */
  readonly responseHeaders: () => Record<string, string>;
  readonly onError: (reply: FastifyReply, error: Error) => void;
}

export interface UpstreamTransport {
  /** Pass to @fastify/reply-from as its `undici` option. */
  readonly dispatcher: { request: Dispatcher['request'] };
  forward(reply: FastifyReply, call: UpstreamCall): void;
  close(): Promise<void>;
}

export function createUpstreamTransport(options: { connectTimeoutMs: number }): UpstreamTransport {
  const agentOptions = {
    // The client side already bounds concurrency; a per-origin cap would stall long polls and SSE.
    connections: null,
    pipelining: 1,
    connect: { timeout: options.connectTimeoutMs },
  };
  const verifying = new Agent(agentOptions);
  let insecure: Agent | undefined;

  function agentFor(tlsSkipVerify: boolean): Agent {
    if (!tlsSkipVerify) return verifying;
    insecure ??= new Agent({ ...agentOptions, connect: { ...agentOptions.connect, rejectUnauthorized: false } });
    return insecure;
  }

  const dispatcher = {
    request(opts: Dispatcher.RequestOptions, callback: (err: Error | null, data: Dispatcher.ResponseData) => void): void {
      const headers = opts.headers as HeadersWithContext;
      const context = headers[kUpstream];
      if (context === undefined) throw new Error('upstream request without Gatehouse context');
      delete headers[kUpstream];
      for (const name in headers) if (headers[name] === undefined) delete headers[name];
      const request: Dispatcher.RequestOptions = {
        ...opts,
        headers,
        body: context.body ?? null,
        headersTimeout: context.headersTimeout,
        bodyTimeout: context.bodyTimeout,
      };
      context.agent.request(request, callback as never);
    },
  } as { request: Dispatcher['request'] };

  return {
    dispatcher,
    forward(reply, call) {
      const context: UpstreamContext = {
        agent: agentFor(call.tlsSkipVerify),
        body: call.body,
        headersTimeout: call.headersTimeout,
        bodyTimeout: call.bodyTimeout,
      };
      const headers: HeadersWithContext = { ...call.headers, [kUpstream]: context };
      const query = call.query.startsWith('?') ? call.query.slice(1) : call.query;
      reply.from(call.url, {
        rewriteRequestHeaders: () => headers as never,
        rewriteHeaders: (upstream) => ({ ...cleanResponseHeaders(upstream as never), ...call.responseHeaders() }),
        queryString: () => query,
        // An upstream 503 is the app's answer; replaying requests is not Gatehouse's call.
        retryDelay: () => null,
        onError: (target, { error }) => call.onError(target as FastifyReply, error),
      });
    },
    async close() {
      // Called once the listener has drained or been forced shut: nothing left worth waiting for.
      await Promise.all([verifying.destroy(), insecure?.destroy()]);
    },
  };
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'ETIMEDOUT',
]);

/** 504 for any timeout in the error's cause chain, 502 for everything else (refused, reset, TLS, DNS). */
export function upstreamFailureStatus(error: unknown): 502 | 504 {
  return upstreamErrorCodes(error).some((code) => TIMEOUT_CODES.has(code)) ? 504 : 502;
}

export function upstreamErrorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
}
