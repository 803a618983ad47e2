import net, { type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Tunnel } from '../../../src/proxy/tunnel.ts';

/** A connected loopback pair; the accepted side is half-open capable, as an HTTP server's sockets are. */
async function socketPair(outerHalfOpen = false): Promise<[Socket, Socket, net.Server]> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const outer = net.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: outerHalfOpen });
  await new Promise((resolve) => outer.once('connect', resolve));
  return [outer, await accepted, server];
}

function frame(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x82, payload.length]), payload]);
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function tunnelSetup(clientHalfOpen = false) {
  const [client, clientSide, s1] = await socketPair(clientHalfOpen);
  const [upstreamSide, upstream, s2] = await socketPair();
  servers.push(s1, s2);
  const tunnel = new Tunnel(clientSide, upstreamSide);
  tunnel.start(Buffer.alloc(0), Buffer.alloc(0));
  const received: Buffer[] = [];
  client.on('data', (chunk: Buffer) => received.push(chunk));
  const clientClosed = new Promise((resolve) => client.once('close', resolve));
  return { client, upstream, tunnel, received, clientClosed };
}

describe('Tunnel', () => {
  it('relays bytes both ways', async () => {
    const { client, upstream, received } = await tunnelSetup();
    const fromClient = new Promise<Buffer>((resolve) => upstream.once('data', resolve));
    client.write('ping');
    expect(String(await fromClient)).toBe('ping');
    upstream.write('pong');
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(received).toString()).toBe('pong');
    client.destroy();
    upstream.destroy();
  });

  it('finishes the frame in flight, then sends a 1001 close frame and nothing after it', async () => {
    const { client, upstream, tunnel, received, clientClosed } = await tunnelSetup();
    const first = frame(Buffer.alloc(100, 1));
    upstream.write(first.subarray(0, 40));
    await new Promise((r) => setTimeout(r, 30));
    const done = tunnel.goAway();
    upstream.write(Buffer.concat([first.subarray(40), frame(Buffer.from('never'))]));
    client.on('end', () => client.end());
    await clientClosed;
    await done;
    const all = Buffer.concat(received);
    expect(all.subarray(0, first.length).equals(first)).toBe(true);
    expect([...all.subarray(first.length)]).toEqual([0x88, 0x02, 0x03, 0xe9]);
    upstream.destroy();
  });

  it('drops a client that does not answer the close handshake', async () => {
    const { client, tunnel, upstream } = await tunnelSetup(true);
    const ended = new Promise((resolve) => client.once('end', resolve));
    const started = Date.now();
    await tunnel.goAway();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await ended;
    client.destroy();
    upstream.destroy();
  });
});
