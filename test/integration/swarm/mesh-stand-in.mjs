// A layer-4 balancer in a container on the stack's "apps" network, in front of a Swarm service's
// tasks, for kernels without IPVS (then Swarm's routing mesh and virtual IPs do not forward at
// all). Like the mesh it forwards bytes: each new connection on :8080 goes to the next running
// task in turn, looked up in Swarm's DNS (tasks.SERVICE) at that moment, with no retry; when either
// side fails, both sides are closed. :8081, :8082, … reach the first, second, … task by address
// (sorted), so a test can ask one replica directly.
//   docker run --network STACK_apps -e TARGET=tasks.STACK_gatehouse -e TARGET_PORT=8080 -e PINNED=3 node mesh-stand-in.mjs
import { lookup } from 'node:dns/promises';
import { connect, createServer } from 'node:net';

const target = process.env.TARGET;
const targetPort = Number(process.env.TARGET_PORT ?? 8080);
const pinned = Number(process.env.PINNED ?? 0);
let next = 0;

async function tasks() {
  const found = await lookup(target, { all: true, family: 4 });
  return found.map((entry) => entry.address).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function listen(port, pick) {
  createServer({ noDelay: true }, (client) => {
    client.on('error', () => client.destroy());
    tasks().then(
      (addresses) => {
        const address = pick(addresses);
        if (address === undefined) return client.destroy();
        const upstream = connect({ host: address, port: targetPort, noDelay: true });
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream).pipe(client);
      },
      () => client.destroy(),
    );
  }).listen(port, '0.0.0.0');
}

listen(8080, (addresses) => addresses[next++ % addresses.length]);
for (let index = 0; index < pinned; index += 1) listen(8081 + index, (addresses) => addresses[index]);
process.on('SIGTERM', () => process.exit(0));
