import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from '../../helpers/http.ts';
import { docker } from '../../helpers/images.ts';
import { rawRequest, spec, startProxy, table, type Harness } from './support.ts';

/**
 * Upstream responses are read as leniently as nginx and Caddy read them (header lines may end
 * in LF alone), client requests stay strict, and every upstream failure is logged with its
 * cause and shown as refused, timed out or a bad response.
 */

interface RawUpstream {
  readonly origin: string;
  /** Request heads received, one per request (a connection may carry several). */
  readonly requests: string[];
  close(): Promise<void>;
}

/** A raw TCP upstream: `answer` writes whatever bytes it likes for each request head. */
async function rawUpstream(answer: (socket: Socket, head: string, body: string) => void): Promise<RawUpstream> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.slice(end + 4, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        requests.push(head);
        answer(socket, head, body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** LF-only header lines, as busybox httpd's CGI relays them. */
function lfOnly(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\nContent-Type: text/plain\nX-From: lf-app\n${extra}Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

function warnings(gh: Harness, requestId: string | string[] | undefined): Record<string, unknown>[] {
  return gh.logLines().filter((line) => line.requestId === requestId && String(line.msg).startsWith('upstream request failed'));
}

describe('upstream responses', () => {
  const upstreams: RawUpstream[] = [];
  let gh: Harness;
  let lf: RawUpstream;
  let lfPost: RawUpstream;
  let lfClose: RawUpstream;
  let ambiguous: RawUpstream;
  let garbage: RawUpstream;
  let hangUp: RawUpstream;
  let silent: RawUpstream;
  let crlf: RawUpstream;
  let refusedPort: number;

  beforeAll(async () => {
    lf = await rawUpstream((socket, head) => socket.write(lfOnly(`hello from ${head.split(' ')[1]}\n`)));
    lfPost = await rawUpstream((socket, _head, body) => socket.write(lfOnly(`got ${body}\n`)));
    // HTTP/1.0 style: no length, the body ends when the connection closes.
    lfClose = await rawUpstream((socket) => socket.end('HTTP/1.0 200 OK\nContent-Type: text/plain\n\nuntil close\n'));
    ambiguous = await rawUpstream((socket) => socket.end('HTTP/1.1 200 OK\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n'));
    garbage = await rawUpstream((socket) => socket.end('HELLO THERE\r\n\r\n'));
    hangUp = await rawUpstream((socket) => socket.destroy());
    silent = await rawUpstream(() => undefined);
    crlf = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n'));
    upstreams.push(lf, lfPost, lfClose, ambiguous, garbage, hangUp, silent, crlf);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    refusedPort = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    gh = await startProxy({
      table: table(
        spec({ name: 'lf', hosts: ['lf.test'], origin: lf.origin }),
        spec({ name: 'lf-post', hosts: ['lf-post.test'], origin: lfPost.origin }),
        spec({ name: 'lf-close', hosts: ['lf-close.test'], origin: lfClose.origin }),
        spec({ name: 'ambiguous', hosts: ['ambiguous.test'], origin: ambiguous.origin }),
        spec({ name: 'garbage', hosts: ['garbage.test'], origin: garbage.origin }),
        spec({ name: 'hang-up', hosts: ['hang-up.test'], origin: hangUp.origin }),
        spec({ name: 'silent', hosts: ['silent.test'], origin: silent.origin, timeoutMs: 300 }),
        spec({ name: 'crlf', hosts: ['crlf.test'], origin: crlf.origin }),
        spec({ name: 'refused', hosts: ['refused.test'], origin: `http://127.0.0.1:${refusedPort}` }),
      ),
    });
  });
  afterAll(async () => {
    await gh.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  describe('LF-only header lines', () => {
    it('relays a GET, status, headers and body, from the first request on', async () => {
      const first = await http(gh.port, 'lf.test', '/one');
      expect(first.status).toBe(200);
      expect(first.body).toBe('hello from /one\n');
      expect(first.headers['x-from']).toBe('lf-app');
      expect(first.headers['content-type']).toBe('text/plain');
      // The strict parser refused the first answer; the GET was sent again through the lenient one.
      expect(lf.requests.filter((head) => head.startsWith('GET /one ')).length).toBe(2);
      const second = await http(gh.port, 'lf.test', '/two');
      expect(second.body).toBe('hello from /two\n');
      // Known now: sent once, on a connection of its own that asks to be closed.
      const twos = lf.requests.filter((head) => head.startsWith('GET /two '));
      expect(twos.length).toBe(1);
      expect(twos[0]).toMatch(/\r\nconnection: close/i);
    });

    it('relays a response whose body ends when the connection closes', async () => {
      const res = await http(gh.port, 'lf-close.test', '/');
      expect(res.status).toBe(200);
      expect(res.body).toBe('until close\n');
      const again = await http(gh.port, 'lf-close.test', '/');
      expect(again.body).toBe('until close\n');
    });

    it('does not send a POST twice: the first answers 502 "bad response", later ones go through with their body', async () => {
      const first = await http(gh.port, 'lf-post.test', '/submit', { method: 'POST', body: 'one' });
      expect(first.status).toBe(502);
      expect(first.body).toContain('sent an answer Gatehouse could not read');
      expect(lfPost.requests.length).toBe(1);
      const [warning] = warnings(gh, first.headers['x-request-id']);
      expect(warning).toMatchObject({ route: 'container:lf-post/default', cause: 'bad_response', codes: ['HTTPParserError'] });
      expect(String(warning?.reason)).toContain('expected CR');
      const second = await http(gh.port, 'lf-post.test', '/submit', { method: 'POST', body: 'two' });
      expect(second.status).toBe(200);
      expect(second.body).toBe('got two\n');
      expect(lfPost.requests.length).toBe(2);
    });

    it('still refuses framing two parsers could read two ways (Content-Length with chunked)', async () => {
      const res = await http(gh.port, 'ambiguous.test', '/');
      expect(res.status).toBe(502);
      expect(res.body).toContain('could not read');
      expect(warnings(gh, res.headers['x-request-id'])[0]).toMatchObject({ cause: 'bad_response', codes: ['GATEHOUSE_AMBIGUOUS_FRAMING'] });
    });

    it('leaves CRLF upstreams on the pooled strict path', async () => {
      for (let i = 0; i < 3; i++) expect((await http(gh.port, 'crlf.test', '/')).body).toBe('ok\n');
      expect(crlf.requests.length).toBe(3);
      expect(crlf.requests.some((head) => /\r\nconnection: close/i.test(head))).toBe(false);
    });

    it('client requests stay strict: LF-only request lines are refused with 400', async () => {
      const before = lf.requests.length;
      const res = await rawRequest(gh.port, 'GET /strict HTTP/1.1\nHost: lf.test\nConnection: close\n\n');
      expect(res.status).toBe(400);
      expect(lf.requests.length).toBe(before);
    });
  });

  describe('failure kinds: logged with a cause code, named on the page', () => {
    it('refused', async () => {
      const res = await http(gh.port, 'refused.test', '/');
      expect(res.status).toBe(502);
      expect(res.body).toContain('refused the connection');
      expect(warnings(gh, res.headers['x-request-id'])[0]).toMatchObject({ cause: 'refused', codes: expect.arrayContaining(['ECONNREFUSED']) });
      const json = await http(gh.port, 'refused.test', '/', { headers: { accept: 'application/json' } });
      expect(JSON.parse(json.body)).toMatchObject({ error: 'upstream_refused', status: 502 });
    });

    it('timed out', async () => {
      const res = await http(gh.port, 'silent.test', '/');
      expect(res.status).toBe(504);
      expect(res.body).toContain('took too long');
      expect(warnings(gh, res.headers['x-request-id'])[0]).toMatchObject({ cause: 'timed_out', codes: ['UND_ERR_HEADERS_TIMEOUT'] });
    });

    it('a bad response: not HTTP at all', async () => {
      const res = await http(gh.port, 'garbage.test', '/');
      expect(res.status).toBe(502);
      expect(res.body).toContain('could not read');
      expect(warnings(gh, res.headers['x-request-id'])[0]).toMatchObject({ cause: 'bad_response', codes: ['HTTPParserError'] });
      const json = await http(gh.port, 'garbage.test', '/', { headers: { accept: 'application/json' } });
      expect(JSON.parse(json.body)).toMatchObject({ error: 'upstream_bad_response', status: 502 });
    });

    it('a bad response: the app hangs up without answering', async () => {
      const res = await http(gh.port, 'hang-up.test', '/');
      expect(res.status).toBe(502);
      expect(res.body).toContain('could not read');
      const [warning] = warnings(gh, res.headers['x-request-id']);
      expect(warning?.cause).toBe('bad_response');
      expect((warning?.codes as string[]).length).toBeGreaterThan(0);
    });
  });
});

/** busybox httpd relays a CGI script's header lines as the script wrote them: here, LF only. */
describe('a real busybox httpd CGI with LF-only headers', () => {
  let dir: string;
  let container: string;
  let gh: Harness;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-lf-cgi-'));
    await mkdir(join(dir, 'cgi-bin'));
    await writeFile(join(dir, 'index.html'), 'static\n');
    await writeFile(join(dir, 'cgi-bin', 'lf'), `#!/bin/sh\nprintf 'Content-Type: text/plain\\nX-Cgi: yes\\n\\n'\necho "cgi says $REQUEST_METHOD $REQUEST_URI"\n`);
    await chmod(join(dir, 'cgi-bin', 'lf'), 0o755);
    container = await docker('run', '-d', '--rm', '-p', '127.0.0.1::8080', '-v', `${dir}:/www:ro`, 'busybox:local', 'httpd', '-f', '-p', '8080', '-h', '/www');
    const port = Number((await docker('port', container, '8080/tcp')).split('\n')[0]?.split(':').pop());
    await waitFor(async () => ((await http(port, 'x', '/').catch(() => null))?.status === 200 ? true : undefined), 'busybox httpd', 30_000, 100);
    gh = await startProxy({ table: table(spec({ name: 'nas', hosts: ['nas.test'], origin: `http://127.0.0.1:${port}` })) });
  });
  afterAll(async () => {
    await gh?.close();
    if (container) await docker('rm', '-f', container).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('is proxied, as nginx and Caddy proxy it', async () => {
    for (const path of ['/cgi-bin/lf?a=1', '/cgi-bin/lf?a=2']) {
      const res = await http(gh.port, 'nas.test', path);
      expect(res.status).toBe(200);
      expect(res.headers['x-cgi']).toBe('yes');
      expect(res.body).toBe(`cgi says GET ${path}\n`);
    }
    // The static files of the same server still come through.
    expect((await http(gh.port, 'nas.test', '/')).body).toBe('static\n');
  });
});
