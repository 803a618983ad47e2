import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { PomeriumUpstreamTls } from '../routes/index.ts';

/**
 * A websocket handshake dispatched through the same undici agents as plain requests
 * (`upgrade: 'websocket'`). undici answers in one of two ways, and both are handled here:
 * `onRequestUpgrade` with the upstream socket when it switches protocols (101), or the usual
 * `onResponseStart` / `onResponseData` / `onResponseEnd` when it declines with an ordinary
 * response (401, 403, 404 with a body, …), which is relayed to the client as that response.
 * Errors before either carry undici's cause codes, mapped exactly as for plain requests.
 */
export interface UpgradeCall {
  readonly origin: string;
  /** Path and query as the upstream should see them. */
  readonly path: string;
  readonly method: string;
  /** The handshake headers; `Connection` and `Upgrade` are written by undici itself. */
  readonly headers: Record<string, string>;
  readonly tlsSkipVerify: boolean;
  /** A Pomerium route's upstream TLS settings (see upstream-tls.ts). */
  readonly tls?: PomeriumUpstreamTls | null;
  /** From the operator's routes file: connects without the connect-time address check. */
  readonly trustedTarget?: boolean;
  /** Time to wait for the upstream's answer once connected; 0 = no limit. */
  readonly headersTimeout: number;
  /** The client's socket: where a declined handshake's body is written, with backpressure. */
  readonly client: Duplex;
  /** 101: the upstream socket, with any bytes it sent after its handshake still unread in it. */
  readonly onUpgrade: (headers: Record<string, string | string[]>, upstream: Duplex) => void;
  /** The upstream declined: write the head of its answer to `client` (the body follows). */
  readonly onDeclined: (status: number, headers: Record<string, string | string[]>) => void;
  /** The declined answer is complete (or was cut short: `error`). */
  readonly onDeclinedEnd: (status: number, error?: Error) => void;
  /** The upstream failed before answering; nothing was written to the client. */
  readonly onError: (error: Error) => void;
}

export interface UpgradeForwarding {
  /** Stops the handshake (the client went away). */
  abort(): void;
}

const CLIENT_GONE = 'the client closed the connection';

export class UpgradeRelay implements Dispatcher.DispatchHandler, UpgradeForwarding {
  #controller: Dispatcher.DispatchController | null = null;
  #aborted = false;
  #declined = 0;
  #waitingForDrain = false;
  readonly #call: UpgradeCall;

  constructor(call: UpgradeCall) {
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

  onRequestUpgrade(_controller: Dispatcher.DispatchController, _statusCode: number, headers: Record<string, string | string[]>, socket: Duplex): void {
    if (this.#aborted) {
      socket.destroy();
      return;
    }
    this.#call.onUpgrade(headers, socket);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    // Informational responses (103 Early Hints and the like) are not relayed.
    if (statusCode < 200 || this.#aborted) return;
    this.#declined = statusCode;
    this.#call.onDeclined(statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const client = this.#call.client;
    if (this.#aborted || client.write(chunk) || this.#waitingForDrain) return;
    this.#waitingForDrain = true;
    controller.pause();
    client.once('drain', () => {
      this.#waitingForDrain = false;
      controller.resume();
    });
  }

  onResponseEnd(): void {
    if (this.#aborted) return;
    this.#call.client.end();
    this.#call.onDeclinedEnd(this.#declined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#aborted) return;
    if (this.#declined === 0) {
      this.#call.onError(error);
      return;
    }
    // Part of a declined answer is out: cutting the connection is how the client learns it is incomplete.
    this.#call.client.destroy();
    this.#call.onDeclinedEnd(this.#declined, error);
  }
}
