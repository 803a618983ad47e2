import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closeFrame, FrameBoundary, GOING_AWAY } from './ws-frames.ts';

/** How long a client gets to answer our close frame before its socket is dropped. */
const CLOSE_HANDSHAKE_MS = 1_000;

/**
 * A relayed websocket: raw bytes both ways, with backpressure. Frames from the upstream are
 * tracked (not parsed) so `goAway()` can end the stream with a clean 1001 close frame that
 * never lands in the middle of a relayed frame.
 */
export class Tunnel {
  private readonly frames = new FrameBoundary();
  private goingAway = false;
  private closeSent = false;
  private readonly client: Duplex;
  private readonly upstream: Socket;
  readonly done: Promise<void>;

  constructor(client: Duplex, upstream: Socket) {
    this.client = client;
    this.upstream = upstream;
    this.done = new Promise((resolve) => client.once('close', () => resolve()));
  }

  start(clientHead: Buffer, upstreamHead: Buffer): void {
    const { client, upstream } = this;
    (client as Socket).setNoDelay?.(true);
    (client as Socket).setTimeout?.(0);
    upstream.setNoDelay(true);
    upstream.setTimeout(0);

    if (clientHead.length > 0) upstream.write(clientHead);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => this.relay(chunk));
    client.on('drain', () => upstream.resume());
    upstream.on('end', () => {
      if (!this.goingAway) client.end();
    });
    upstream.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      if (this.goingAway) return;
      if (!client.writableEnded) client.destroy();
      // A client that never closes its half of the connection must not hold it forever.
      else setTimeout(() => client.destroy(), CLOSE_HANDSHAKE_MS).unref();
    });
    client.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    if (upstreamHead.length > 0) this.relay(upstreamHead);
  }

  /** Ends the connection with close code 1001 (going away); resolves once the client socket is closed. */
  goAway(): Promise<void> {
    if (!this.goingAway) {
      this.goingAway = true;
      if (this.frames.atBoundary) this.sendGoingAway();
      else this.upstream.resume();
      setTimeout(() => this.client.destroy(), CLOSE_HANDSHAKE_MS).unref();
    }
    return this.done;
  }

  private relay(chunk: Buffer): void {
    if (this.goingAway) {
      // Finish the frame in flight, then stop relaying and say goodbye.
      if (this.closeSent) return;
      const used = this.frames.consume(chunk, true);
      if (used > 0) this.client.write(chunk.subarray(0, used));
      if (this.frames.atBoundary) this.sendGoingAway();
      return;
    }
    this.frames.consume(chunk);
    if (!this.client.write(chunk)) this.upstream.pause();
  }

  private sendGoingAway(): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.client.unpipe(this.upstream);
    this.upstream.destroy();
    // Keep reading so the client's own close frame and FIN are consumed, then the socket closes.
    this.client.resume();
    this.client.end(closeFrame(GOING_AWAY));
  }
}
