import https from 'node:https'; (globalThis as any).__https = https;
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';

const upstream = http.createServer((req, res) => { res.setHeader('content-type','application/json'); res.end(JSON.stringify({ host: req.headers.host, url: req.url, headers: req.headers })); });
await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r));
const up = `http://127.0.0.1:${(upstream.address() as any).port}`;

let handler!: http.RequestListener;
const app = Fastify({ serverFactory: (h) => { handler = h; return http.createServer(h); } });
await app.register(replyFrom, {});
app.addHook('onRequest', async (request, reply) => {
  const raw: any = request.raw;
  console.log('req', raw.httpVersion, raw.url, raw.headers, raw.rawHeaders, 'enc', raw.socket?.encrypted, raw.socket?.remoteAddress, typeof reply.raw.writableFinished);
  if (raw.url === '/page') { reply.header('connection', 'close'); return reply.code(200).send('page'); }
  reply.from(up + raw.url, { rewriteRequestHeaders: (_r: any, h: any) => ({ ...h, host: 'upstream.test' }), rewriteHeaders: (h: any) => ({ ...h, connection: 'close' }) });
  return reply;
});
app.get('/*', () => 'x');
await app.listen({ port: 0, host: '127.0.0.1' });
const h2 = http2.createServer({}, handler);
const front = tls.createServer({ key: readFileSync('/tmp/gh-tls-exp/key.pem'), cert: readFileSync('/tmp/gh-tls-exp/cert.pem'), ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
  console.log('alpn', socket.alpnProtocol);
  if (socket.alpnProtocol === 'h2') h2.emit('connection', socket); else app.server.emit('connection', socket);
});
await new Promise<void>(r => front.listen(0, '127.0.0.1', r));
const port = (front.address() as any).port;
const client = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername: 'app.test' });
for (const path of ['/page', '/x?y=1']) {
  await new Promise<void>((resolve) => {
    const req = client.request({ ':path': path, ':authority': 'app.test:9443' });
    req.on('response', (h) => console.log('h2 response', h));
    let body = ''; req.on('data', (c) => body += c); req.on('end', () => { console.log('body', body); resolve(); });
    req.on('error', (e) => { console.log('h2 err', e); resolve(); });
    req.end();
  });
}
client.close();
await new Promise<void>((resolve) => {
  const { request } = await_import();
  function await_import() { return require_https(); }
  function require_https() { return { request: (globalThis as any).__https.request }; }
  request({ host: '127.0.0.1', port, path: '/x', servername: 'app.test', rejectUnauthorized: false, headers: { host: 'app.test' } }, (res: any) => { let b=''; res.on('data', (c:any)=>b+=c); res.on('end', ()=>{ console.log('h1', res.statusCode, res.headers, b.slice(0,80)); resolve(); }); }).end();
});
process.exit(0);
