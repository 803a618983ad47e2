import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { cleanResponseHeaders } from './headers.ts';
import { UpgradeRelay, type UpgradeCall, type UpgradeForwarding } from './upgrade-relay.ts';

/**
 * Upstream transport: one shared undici Agent (per-origin pools, keep-alive, no redirects, no
 * retries) plus a second one, created on first use, for routes that opted out of TLS
 * verification. A request is dispatched with undici's handler API and its response is written
 * straight to the client's response, chunk by chunk with backpressure: no intermediate stream,
 * no buffering, and an abandoned client aborts the upstream request.
 */

/** What the relay needs of a client response; both HTTP/1.1 and HTTP/2 (compatibility API) responses have it. */
export interface ClientResponse {
  readonly headersSent: boolean;
  writeHead(statusCode: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  destroy(error?: Error): unknown;
  once(event: 'drain', listener: () => void): unknown;
  getHeaderNames(): string[];
  removeHeader(name: string): void;
}

export interface UpstreamCall {
  readonly origin: string;
  /** Path and query as the upstream should see them. */
  readonly path: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  /** The client's body stream, when there is one. */
  readonly body: Readable | undefined;
  readonly tlsSkipVerify: boolean;
  /** Time to wait for response headers; 0 = no limit. */
  readonly headersTimeout: number;
  /** Longest pause between body chunks; 0 = no limit. */
  readonly bodyTimeout: number;
  /** Response headers Gatehouse adds (request id, `Connection: close` while draining). */
  readonly responseHeaders: Readonly<Record<string, string>>;
  /**
   * The upstream failed before its response started: the client response is untouched and the
   * callee answers it. Failures after that cut the client's response short instead, which is
   * how a client learns that a proxied body is incomplete.
   */
  readonly onError: (error: Error) => void;
}

export interface Forwarding {
  /** Stops the upstream request (the client went away). */
  abort(): void;
}

export interface UpstreamTransport {
  forward(res: ClientResponse, call: UpstreamCall): Forwarding;
  /** A websocket handshake, on the same agents (pools, TLS settings, connect timeout) as `forward`. */
  upgrade(call: UpgradeCall): UpgradeForwarding;
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

  return {
    forward(res, call) {
      const handler = new ResponseRelay(res, call);
      agentFor(call.tlsSkipVerify).dispatch(
        {
          origin: call.origin,
          path: call.path,
          method: call.method as Dispatcher.HttpMethod,
          headers: call.headers,
          body: call.body ?? null,
          headersTimeout: call.headersTimeout,
          bodyTimeout: call.bodyTimeout,
        },
        handler,
      );
      return handler;
    },
    upgrade(call) {
      const handler = new UpgradeRelay(call);
      const headers: Record<string, string> = {};
      // undici writes `Connection: upgrade` and `Upgrade: websocket` itself and refuses them as headers.
      for (const name in call.headers) if (name !== 'connection' && name !== 'upgrade') headers[name] = call.headers[name] as string;
      agentFor(call.tlsSkipVerify).dispatch(
        {
          origin: call.origin,
          path: call.path,
          method: call.method as Dispatcher.HttpMethod,
          headers,
          upgrade: 'websocket',
          headersTimeout: call.headersTimeout,
        },
        handler,
      );
      return handler;
    },
    async close() {
      // Called once the listener has drained or been forced shut: nothing left worth waiting for.
      await Promise.all([verifying.destroy(), insecure?.destroy()]);
    },
  };
}

const CLIENT_GONE = 'the client closed the connection';

/** Relays one upstream response to the client response; a class so each request costs one object. */
class ResponseRelay implements Dispatcher.DispatchHandler, Forwarding {
  #controller: Dispatcher.DispatchController | null = null;
  #aborted = false;
  #waitingForDrain = false;
  readonly #res: ClientResponse;
  readonly #call: UpstreamCall;

  constructor(res: ClientResponse, call: UpstreamCall) {
    this.#res = res;
    this.#call = call;
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller?.abort(new Error(CLIENT_GONE));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#aborted) controller.abort(new Error(CLIENT_GONE));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    // Informational responses (103 Early Hints and the like) are not relayed.
    if (statusCode < 200 || this.#aborted) return;
    const out = cleanResponseHeaders(headers);
    Object.assign(out, this.#call.responseHeaders);
    try {
      this.#res.writeHead(statusCode, out);
    } catch (error) {
      // A header Node refuses to send (a control character in a value): the app's answer cannot be relayed.
      for (const name of this.#res.getHeaderNames()) this.#res.removeHeader(name);
      this.#aborted = true;
      controller.abort(error as Error);
      this.#call.onError(error as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#aborted || this.#res.write(chunk) || this.#waitingForDrain) return;
    this.#waitingForDrain = true;
    controller.pause();
    this.#res.once('drain', () => {
      this.#waitingForDrain = false;
      controller.resume();
    });
  }

  onResponseEnd(): void {
    if (!this.#aborted) this.#res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#aborted) return;
    if (this.#res.headersSent) this.#res.destroy(error);
    else this.#call.onError(error);
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

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
