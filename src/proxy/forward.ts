import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Agent, buildConnector, type Connector } from './undici-dispatcher.ts';
import { cleanResponseHeaders } from './headers.ts';
import type { UpstreamGuard } from './upstream-guard.ts';
import type { PomeriumUpstreamTls, RouteTable } from '../routes/index.ts';
import { upstreamTlsKey, upstreamTlsOptions } from './upstream-tls.ts';
import { canResend, forwardLeniently, isBareLfError, LfOnlyOrigins } from './lf-only-upstream.ts';
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
  /** A Pomerium route's upstream TLS settings (see upstream-tls.ts). */
  readonly tls?: PomeriumUpstreamTls | null;
  /**
   * The operator's own route (the routes file): its upstream is not checked against the target
   * deny-list. Anything else, label routes included, is checked when it connects.
   */
  readonly trustedTarget?: boolean;
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
  /**
   * A table generation is in use: agents made for Pomerium upstream TLS settings that no route of
   * it has any more are closed (once their requests finish), so reloads never pile up agents and
   * a changed setting reads its files afresh. Cheap when the table is unchanged.
   */
  observe(table: RouteTable): void;
  close(): Promise<void>;
}

export function createUpstreamTransport(options: { connectTimeoutMs: number; guard?: UpstreamGuard }): UpstreamTransport {
  // One agent per (TLS verification, target check, Pomerium upstream TLS) triple, each made on first use.
  const agents = new Map<string, Agent>();
  /** Agent key → its Pomerium TLS key, for the agents made for such settings. */
  const tlsKeys = new Map<string, string>();
  let observed: RouteTable | undefined;

  function agentFor(tlsSkipVerify: boolean, checked: boolean, tls: PomeriumUpstreamTls | null | undefined): Agent {
    const key = `${tlsSkipVerify}/${checked}/${upstreamTlsKey(tls)}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      const connectOptions = {
        timeout: options.connectTimeoutMs,
        ...(tls ? upstreamTlsOptions(tls) : {}),
        ...(tlsSkipVerify ? { rejectUnauthorized: false } : {}),
      };
      const connect = checked && options.guard ? checkedConnector(buildConnector(connectOptions), options.guard) : connectOptions;
      // The client side already bounds concurrency; a per-origin cap would stall long polls and SSE.
      agent = new Agent({ connections: null, pipelining: 1, connect });
      agents.set(key, agent);
      if (tls) tlsKeys.set(key, upstreamTlsKey(tls));
    }
    return agent;
  }

  // Origins that answer with LF-only header lines go through the lenient path (lf-only-upstream.ts).
  const lfOnly = new LfOnlyOrigins();
  const takeOver: TakeOver = (error, res, call) => {
    if (!isBareLfError(error)) return null;
    lfOnly.remember(call.origin);
    return canResend(call) ? forwardLeniently(res, call, options.connectTimeoutMs, options.guard) : null;
  };

  /** The agent for a call, or null when it cannot be made (a TLS file is unreadable): then the call has failed. */
  function agentOrFail(call: { tlsSkipVerify: boolean; trustedTarget?: boolean; tls?: PomeriumUpstreamTls | null; onError: (error: Error) => void }): Agent | null {
    try {
      return agentFor(call.tlsSkipVerify, call.trustedTarget !== true, call.tls);
    } catch (error) {
      call.onError(error as Error);
      return null;
    }
  }

  return {
    forward(res, call) {
      if (lfOnly.has(call.origin)) return forwardLeniently(res, call, options.connectTimeoutMs, options.guard);
      const handler = new ResponseRelay(res, call, takeOver);
      const agent = agentOrFail(call);
      if (agent === null) return handler;
      agent.dispatch(
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
      const agent = agentOrFail(call);
      if (agent === null) return handler;
      agent.dispatch(
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
    observe(table) {
      if (table === observed) return;
      observed = table;
      if (tlsKeys.size === 0) return;
      const live = new Set(table.routes.map((route) => upstreamTlsKey(route.pomerium?.tls)));
      for (const [key, tlsKey] of tlsKeys) {
        if (live.has(tlsKey)) continue;
        tlsKeys.delete(key);
        const agent = agents.get(key);
        agents.delete(key);
        void agent?.close().catch(() => undefined);
      }
    },
    async close() {
      // Called once the listener has drained or been forced shut: nothing left worth waiting for.
      await Promise.all([...agents.values()].map((agent) => agent.destroy()));
    },
  };
}

/**
 * Connects to the address the guard checked rather than letting the socket resolve the name
 * again. The TLS server name still comes from the origin's host, so certificates check as before.
 */
function checkedConnector(connect: Connector, guard: UpstreamGuard): Connector {
  return (connectOptions, callback) => {
    const port = Number(connectOptions.port) || (connectOptions.protocol === 'https:' ? 443 : 80);
    guard.resolve(connectOptions.hostname, port).then(
      (answer) => connect({ ...connectOptions, hostname: answer.address }, callback),
      (error: Error) => callback(error, null),
    );
  };
}

const CLIENT_GONE = 'the client closed the connection';

/** Another way to forward a request whose upstream failed before its response started, or null. */
type TakeOver = (error: Error, res: ClientResponse, call: UpstreamCall) => Forwarding | null;

/** Relays one upstream response to the client response; a class so each request costs one object. */
class ResponseRelay implements Dispatcher.DispatchHandler, Forwarding {
  #controller: Dispatcher.DispatchController | null = null;
  #aborted = false;
  #waitingForDrain = false;
  readonly #res: ClientResponse;
  readonly #call: UpstreamCall;
  readonly #takeOver: TakeOver;
  /** The forwarding that took over, which an abort must reach. */
  #successor: Forwarding | null = null;

  constructor(res: ClientResponse, call: UpstreamCall, takeOver: TakeOver) {
    this.#res = res;
    this.#call = call;
    this.#takeOver = takeOver;
  }

  abort(): void {
    this.#successor?.abort();
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
    else {
      this.#successor = this.#takeOver(error, this.#res, this.#call);
      if (this.#successor === null) this.#call.onError(error);
    }
  }
}
