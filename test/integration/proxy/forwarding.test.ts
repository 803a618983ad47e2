import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import { echoed, rawGet, rawHeaderValues, rawRequest, spec, startEcho, startProxy, table, topLevelKeys, type Echo, type Harness } from './support.ts';

describe('proxy: forwarding, Host modes and paths', () => {
  let echo: Echo;
  let gh: Harness;

  beforeAll(async () => {
    echo = await startEcho();
    gh = await startProxy({
      table: table(
        spec({ name: 'root', origin: echo.origin }),
        spec({ name: 'strip', origin: echo.origin, path: '/strip', stripPath: true }),
        spec({ name: 'upstream-host', origin: echo.origin, hosts: ['up.test'], hostHeader: { mode: 'upstream' } }),
        spec({ name: 'literal-host', origin: echo.origin, hosts: ['lit.test'], hostHeader: { mode: 'literal', host: 'internal.example:8443' } }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    await echo.close();
  });

  it('forwards method, normalised path and the original query, and returns the upstream answer', async () => {
    const res = await http(gh.port, 'app.test', '/a/./b/../c?x=1&y=%2F', { method: 'PATCH', body: 'hello' });
    expect(res.status).toBe(200);
    const got = echoed(res);
    expect(got.method).toBe('PATCH');
    expect(got.url).toBe('/a/c?x=1&y=%2F');
    expect(got.bodyBytes).toBe(5);
  });

  it('preserves the client Host (with port) by default', async () => {
    const got = echoed(await http(gh.port, 'App.Test:8080', '/'));
    expect(rawHeaderValues(got, 'host')).toEqual(['App.Test:8080']);
  });

  it('sends the upstream origin host:port in upstream mode, and the literal value in literal mode', async () => {
    expect(rawHeaderValues(echoed(await http(gh.port, 'up.test', '/')), 'host')).toEqual([`127.0.0.1:${echo.port}`]);
    expect(rawHeaderValues(echoed(await http(gh.port, 'lit.test', '/')), 'host')).toEqual(['internal.example:8443']);
  });

  it('removes the route prefix with strip_path and keeps a leading slash', async () => {
    expect(echoed(await http(gh.port, 'app.test', '/strip/x/y?q=1')).url).toBe('/x/y?q=1');
    expect(echoed(await http(gh.port, 'app.test', '/strip')).url).toBe('/');
    expect(echoed(await http(gh.port, 'app.test', '/strip/')).url).toBe('/');
    // Not the prefix on a segment boundary: the root route takes it, unstripped.
    expect(echoed(await http(gh.port, 'app.test', '/stripped')).url).toBe('/stripped');
  });

  it('matches hosts case-insensitively, ignoring the port and a trailing dot', async () => {
    expect((await http(gh.port, 'APP.test.:9999', '/')).status).toBe(200);
  });

  it('forwards WebDAV-style methods and answers HEAD without a body', async () => {
    expect(echoed(await http(gh.port, 'app.test', '/dav', { method: 'PROPFIND' })).method).toBe('PROPFIND');
    const head = await http(gh.port, 'app.test', '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('forwards a GET body untouched (some APIs search with GET + body)', async () => {
    const res = await rawRequest(gh.port, 'GET /search HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{"q":1}');
    const got = echoed(res);
    expect(got.bodyBytes).toBe(7);
  });

  it('streams bodies with odd content types byte for byte (nothing is parsed)', async () => {
    const body = '{"a": 1,   "b": [1,2]}';
    const res = await http(gh.port, 'app.test', '/json', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json; charset=utf-8; x' },
    });
    const got = echoed(res);
    expect(got.bodyBytes).toBe(Buffer.byteLength(body));
    expect(rawHeaderValues(got, 'content-type')).toEqual(['application/json; charset=utf-8; x']);
    const bad = await http(gh.port, 'app.test', '/json', { method: 'POST', body: 'x', headers: { 'content-type': '//bogus//' } });
    expect(bad.status).toBe(200);
  });

  it('returns X-Request-Id on every response and ignores a client-sent one from an untrusted peer', async () => {
    const ok = await http(gh.port, 'app.test', '/', { headers: { 'x-request-id': 'spoofed-id' } });
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await http(gh.port, 'nowhere.test', '/');
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses absolute-form targets, "*" and duplicate or invalid Host headers with 400', async () => {
    const absolute = await rawRequest(gh.port, 'GET http://app.test/ HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    expect(absolute.status).toBe(400);
    const star = await rawRequest(gh.port, 'OPTIONS * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    expect(star.status).toBe(400);
    const twice = await rawRequest(gh.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nHost: other.test\r\nConnection: close\r\n\r\n');
    expect(twice.status).toBe(400);
    expect(twice.body).toContain('more than one Host header');
    const invalid = await rawGet(gh.port, '/', [], 'app.test/evil');
    expect(invalid.status).toBe(400);
    const none = await rawRequest(gh.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(none.status).toBe(400);
    const noneHttp11 = await rawRequest(gh.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(noneHttp11.status).toBe(400);
    expect(noneHttp11.body).toContain('no Host header');
    expect(echo.received.some((r) => r.url === 'http://app.test/')).toBe(false);
  });

  it('refuses ambiguous paths with a branded 400 page before any upstream contact', async () => {
    const before = echo.received.length;
    for (const path of ['/a%2Fb', '/a%5cb', '/%zz', '/%c0%ae%c0%ae/x', '/a\\b', '/..;/admin']) {
      const res = await rawGet(gh.port, path, []);
      expect(res.status, path).toBe(400);
      expect(res.body, path).toContain('Gatehouse');
      expect(res.headers['x-request-id'], path).toBeTruthy();
    }
    expect(echo.received.length).toBe(before);
  });

  it('refuses TRACE with 405 and never forwards it', async () => {
    const before = echo.received.length;
    const res = await http(gh.port, 'app.test', '/', { method: 'TRACE' });
    expect(res.status).toBe(405);
    expect(echo.received.length).toBe(before);
  });

  it('answers 404 "no app at this address" as HTML, or JSON when asked', async () => {
    const page = await http(gh.port, 'nowhere.test', '/x');
    expect(page.status).toBe(404);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('No app at this address');
    expect(page.body).toContain(String(page.headers['x-request-id']));
    const json = await http(gh.port, 'nowhere.test', '/x', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(JSON.parse(json.body)).toEqual({
      error: 'not_found',
      status: 404,
      message: 'No app at this address',
      requestId: json.headers['x-request-id'],
    });
  });

  it('removes hop-by-hop headers from the upstream response', async () => {
    const hop = await startEcho((_req, res) => {
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('x-drop-me', 'secret');
      res.setHeader('connection', 'x-drop-me');
      res.setHeader('x-kept', 'yes');
      res.end('ok');
    });
    gh.setTable(table(spec({ name: 'hop', origin: hop.origin })));
    try {
      const res = await rawGet(gh.port, '/', []);
      expect(res.status).toBe(200);
      expect(res.headers['x-kept']).toBe('yes');
      expect(res.headers['x-drop-me']).toBeUndefined();
      expect(res.headers['keep-alive']).toBeUndefined();
    } finally {
      gh.setTable(table(spec({ name: 'root', origin: echo.origin })));
      await hop.close();
    }
  });

  it('writes one access-log line per request without query or headers, and counts it in metrics', async () => {
    await http(gh.port, 'app.test', '/logged?token=abc', { headers: { cookie: 'session=secret', authorization: 'Bearer t' } });
    const line = gh.logLines().find((l) => l.mod === 'access' && l.path === '/logged');
    expect(line).toMatchObject({ method: 'GET', host: 'app.test', status: 200, route: 'container:root/default' });
    expect(typeof line?.ms).toBe('number');
    expect(line?.clientIp).toBe('127.0.0.1');
    const all = JSON.stringify(gh.logLines());
    expect(all).not.toContain('token=abc');
    expect(all).not.toContain('secret');
    expect(all).not.toContain('Bearer');
    const metrics = await gh.metrics.registry.getSingleMetricAsString('gatehouse_requests_total');
    expect(metrics).toMatch(/gatehouse_requests_total\{route="container:root\/default",status="200"\} \d+/);
    expect(metrics).toMatch(/gatehouse_requests_total\{route="none",status="404"\} \d+/);
  });

  it('writes no key twice in any log line (JSON readers keep only one of them)', async () => {
    await http(gh.port, 'app.test', '/twice');
    await http(gh.port, 'nowhere.test', '/');
    const lines = gh.rawLogLines();
    expect(lines.some((line) => line.includes('"path":"/twice"'))).toBe(true);
    const repeated = lines.flatMap((line) => {
      const keys = topLevelKeys(line);
      return keys.filter((key, i) => keys.indexOf(key) !== i).map((key) => `${key} in ${line}`);
    });
    expect(repeated).toEqual([]);
  });
});
