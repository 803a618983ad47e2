import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResponse, rawRequest, spec, startEcho, startProxy, table, type Echo, type Harness } from './support.ts';

describe('proxy: malformed framing and slow clients', () => {
  let echo: Echo;
  let gh: Harness;

  beforeAll(async () => {
    echo = await startEcho();
    gh = await startProxy({ table: table(spec({ origin: echo.origin })), env: { GATEHOUSE_HEADERS_TIMEOUT: '500ms' } });
  });
  afterAll(async () => {
    await gh.close();
    await echo.close();
  });

  it.each([
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n'],
    ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
    ['an obs-fold continuation line', 'GET / HTTP/1.1\r\nHost: app.test\r\nX-Iap-User: a\r\n b\r\n\r\n'],
  ])('rejects %s with 400 and forwards nothing', async (_name, text) => {
    const before = echo.received.length;
    const res = await rawRequest(gh.port, text);
    expect(res.status).toBe(400);
    expect(res.body).toContain('Gatehouse');
    expect(echo.received.length).toBe(before);
    expect(echo.received.some((r) => r.url === '/smuggled')).toBe(false);
  });

  it('answers 408 and closes the connection when headers trickle in too slowly', async () => {
    const socket = net.connect(gh.port, '127.0.0.1');
    const started = Date.now();
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
    });
    expect(parseResponse(raw).status).toBe(408);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
