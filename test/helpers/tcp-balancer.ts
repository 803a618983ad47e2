import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP load balancer in front of several Gatehouse replicas, as the Swarm routing mesh or any
 * layer-4 balancer would be: each new connection goes to the next replica in turn, or to the
 * one the test pins. Send `Connection: close` so each request opens a new connection.
 */
export interface TcpBalancer {
  readonly port: number;
  /** Every connection to this replica (index into the ports given) until `roundRobin()`. */
  pin(index: number): void;
  roundRobin(): void;
  /** Replica index of each connection so far, in order. */
  readonly served: number[];
  close(): Promise<void>;
}

export async function startTcpBalancer(ports: readonly number[]): Promise<TcpBalancer> {
  let pinned: number | null = null;
  let next = 0;
  const served: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const index = pinned ?? next++ % ports.length;
    served.push(index);
    const upstream = connect(ports[index]!, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    pin: (index) => void (pinned = index),
    roundRobin: () => void (pinned = null),
    served,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
