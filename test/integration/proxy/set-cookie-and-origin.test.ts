import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { rawGet, spec, startProxy, table, type Harness } from './support.ts';

/**
 * A hostile app behind Gatehouse: it answers with Set-Cookie for Gatehouse's own cookie names
 * (session fixation), on plain responses and on the websocket handshake.
 */
const PLANTED = [
  'gatehouse_session=forged; Path=/',
  '__Host-gatehouse_session=forged; Path=/; Secure',
  '__HOST-GATEHOUSE_SESSION=forged; Path=/; Secure',
  '__Secure-Gatehouse_Session=forged; Path=/; Secure',
  '=gatehouse_session=forged; Path=/',
  'gatehouse_session.0=forged; Path=/',
];
const OWN = ['theme=dark; Path=/', 'app_session=abc; Path=/; HttpOnly'];

describe('proxy: a hostile upstream and hostile pages', () => {
  let server: Server;
  let gh: Harness;
  let handshakes = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('set-cookie', [...PLANTED, ...OWN]);
      res.end('hello');
    });
    const wss = new WebSocketServer({ server });
    wss.on('headers', (headers) => {
      for (const cookie of [...PLANTED, ...OWN]) headers.push(`Set-Cookie: ${cookie}`);
    });
    wss.on('connection', (socket) => {
      handshakes++;
      socket.on('message', (data) => socket.send(data));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gh = await startProxy({
      table: table(
        spec({ origin }),
        spec({ name: 'dash', hosts: ['board.test'], origin, wsOrigins: ['http://dashboard.test:8080'] }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("drops the upstream's Set-Cookie for Gatehouse's cookie names in every prefix and case, and keeps the app's own", async () => {
    const res = await rawGet(gh.port, '/', []);
    expect(res.status).toBe(200);
    const setCookies = res.raw.split('\r\n').filter((line) => /^set-cookie:/i.test(line)).map((line) => line.slice(line.indexOf(':') + 1).trim());
    expect(setCookies).toEqual(OWN);
  });

  function open(host: string, origin?: string): Promise<{ status: number; setCookies: string[] }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gh.port}/`, { headers: { host }, ...(origin === undefined ? {} : { origin }) });
      ws.once('upgrade', (res) => {
        const raw = res.headers['set-cookie'] ?? [];
        ws.close();
        resolve({ status: 101, setCookies: raw });
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? -1, setCookies: [] });
        res.resume();
      });
      ws.once('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
    });
  }

  it("drops them from the upstream's websocket handshake too", async () => {
    const result = await open('app.test');
    expect(result.status).toBe(101);
    expect(result.setCookies).toEqual(OWN);
  });

  it.each([
    ['another site', 'http://evil.test'],
    ['a sibling app behind the same Gatehouse', 'http://board.test'],
    ['Origin: null', 'null'],
    ['the same host on another port', 'http://app.test:8081'],
    ['the same host over another scheme', 'https://app.test'],
  ])('refuses a websocket opened from %s (403) before the upstream hears of it', async (_what, origin) => {
    const before = handshakes;
    expect((await open('app.test', origin)).status).toBe(403);
    expect(handshakes).toBe(before);
  });

  it('accepts the route\'s own origin, an origin the route lists, and clients that send no Origin', async () => {
    expect((await open('app.test', 'http://app.test')).status).toBe(101);
    expect((await open('app.test')).status).toBe(101);
    expect((await open('board.test', 'http://dashboard.test:8080')).status).toBe(101);
    expect((await open('board.test', 'http://dashboard.test')).status).toBe(403);
  });
});
