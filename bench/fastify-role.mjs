// Fastify's cost per request, on one pinned core, in the shapes Gatehouse could use it:
//   node-http        plain node:http listener (the floor)
//   front+fastify    node:http front: proxy requests answered raw, only own endpoints handed to Fastify
//   fastify-hijack   Fastify as a shell: every request hijacked in onRequest (Gatehouse today)
//   fastify-route    a real Fastify route answering with reply.send
// Each server answers 13 bytes; wrk (-t1 -c50) runs on CPU 0, the server on CPU 1.
// Usage: node bench/fastify-role.mjs [seconds=8] [repetitions=3]
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const seconds = Number(process.argv[2] ?? 8);
const repetitions = Number(process.argv[3] ?? 3);
const BODY = 'hello, world\n';

const SERVERS = {
  'node-http': `
    const http = require('node:http');
    http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 }); res.end(${JSON.stringify(BODY)}); })
      .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('up'));`,
  'front+fastify': `
    const http = require('node:http');
    const Fastify = require('fastify');
    let fastifyHandler;
    const app = Fastify({ serverFactory: (handler) => { fastifyHandler = handler; return http.createServer((req, res) => {
      // The raw catch-all: anything not for Gatehouse's own hosts/paths never enters Fastify.
      if (req.headers.host === 'auth.example' || req.url.startsWith('/.iap/')) return fastifyHandler(req, res);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 }); res.end(${JSON.stringify(BODY)});
    }); } });
    app.get('/.iap/user', (_req, reply) => reply.send({ signedIn: false }));
    app.ready().then(() => app.server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('up')));`,
  'fastify-hijack': `
    const Fastify = require('fastify');
    const app = Fastify();
    app.addHook('onRequest', (request, reply, done) => { reply.hijack(); reply.raw.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 }); reply.raw.end(${JSON.stringify(BODY)}); });
    app.all('*', (_req, reply) => reply.send('never'));
    app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => console.log('up'));`,
  'fastify-route': `
    const Fastify = require('fastify');
    const app = Fastify();
    app.all('*', (_req, reply) => { reply.header('content-type', 'text/plain'); return reply.send(${JSON.stringify(BODY)}); });
    app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }).then(() => console.log('up'));`,
};

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function start(name, port) {
  // taskset execs node, so the child's pid is the server's.
  const child = spawn('taskset', ['-c', '1', process.execPath, '-e', SERVERS[name]], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => { if (String(chunk).includes('up')) resolve(); });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return child;
}

function wrk(port, duration) {
  const out = execFileSync('taskset', ['-c', '0', 'wrk', '-t1', '-c50', `-d${duration}s`, `http://127.0.0.1:${port}/app/path`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const total = Number(/(\d+) requests in/.exec(out)[1]);
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  return { rps, total };
}

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const results = Object.fromEntries(Object.keys(SERVERS).map((n) => [n, []]));
const names = Object.keys(SERVERS);
let port = 18600;
for (let rep = 0; rep < repetitions; rep++) {
  // Rotating order, so drift in the machine's load spreads over every variant.
  for (const name of [...names.slice(rep % names.length), ...names.slice(0, rep % names.length)]) {
    const child = await start(name, ++port);
    wrk(port, 2); // warm-up
    const nodePid = child.pid;
    const ticks0 = cpuTicks(nodePid);
    const { rps, total } = wrk(port, seconds);
    const cpuUs = ((cpuTicks(nodePid) - ticks0) / ticksPerSecond) * 1e6 / total;
    results[name].push({ rps, cpuUs });
    child.kill();
    await sleep(200);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| Server shape | req/s (median) | min–max | CPU µs/req (median) |');
console.log('|---|---:|---:|---:|');
for (const name of names) {
  const rps = results[name].map((r) => r.rps);
  const cpu = results[name].map((r) => r.cpuUs);
  console.log(`| ${name} | ${Math.round(median(rps)).toLocaleString('en')} | ${Math.round(Math.min(...rps)).toLocaleString('en')}–${Math.round(Math.max(...rps)).toLocaleString('en')} | ${median(cpu).toFixed(1)} |`);
}
