import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoed, startEcho, type Echo } from './support.ts';

const MB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Streams `total` bytes of a deterministic pattern; never holds more than one chunk. */
function upload(
  port: number,
  total: number,
  chunked: boolean,
  onProgress: (sent: number) => void = () => {},
): Promise<{ status: number; body: string; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const headers: Record<string, string> = { host: 'app.test', 'content-type': 'application/octet-stream' };
    if (!chunked) headers['content-length'] = String(total);
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/upload', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), sha256: hash.digest('hex') }));
    });
    req.on('error', reject);
    let sent = 0;
    let seed = 1;
    const pump = () => {
      while (sent < total) {
        const size = Math.min(CHUNK, total - sent);
        const chunk = Buffer.allocUnsafe(size);
        for (let i = 0; i < size; i += 4) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          chunk.writeUInt32LE(seed, i);
        }
        hash.update(chunk);
        sent += size;
        onProgress(sent);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

/** The proxy runs in its own process so its memory can be watched apart from client and upstream. */
function startProxyProcess(origin: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./fixtures/proxy-process.ts', import.meta.url));
  const child = spawn(process.execPath, [script], { env: { ...process.env, UPSTREAM_ORIGIN: origin }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /port=(\d+)/.exec(out)?.[1];
      if (port) resolve({ child, port: Number(port) });
    });
    child.once('exit', (code) => reject(new Error(`proxy process exited early (${code})`)));
  });
}

describe('proxy: request bodies stream through', () => {
  let echo: Echo;
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    echo = await startEcho();
    ({ child, port } = await startProxyProcess(echo.origin));
    // Warm up pools, JIT and the heap so the baseline is the proxy at work, not at rest.
    await upload(port, 50 * MB, false);
  });
  afterAll(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await echo.close();
  });

  for (const chunked of [false, true]) {
    it(`streams a 50 MB ${chunked ? 'chunked' : 'fixed-length'} upload byte for byte, without buffering it in the proxy`, async () => {
      const pid = child.pid as number;
      const baseline = rssOf(pid);
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(pid));
      }, 10);
      try {
        const result = await upload(port, 50 * MB, chunked);
        expect(result.status).toBe(200);
        const got = echoed(result);
        expect(got.bodyBytes).toBe(50 * MB);
        expect(got.sha256).toBe(result.sha256);
      } finally {
        clearInterval(sampler);
      }
      console.log(`proxy RSS: baseline ${(baseline / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB`);
      // Holding the body would add 50 MB; streaming keeps growth to socket buffers and young garbage.
      expect(peak - baseline).toBeLessThan(40 * MB);
    });
  }

  it('applies backpressure: a client cannot push more than a few buffers ahead of a stalled upstream', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowReader = await new Promise<Server>((resolve) => {
      const server = createServer(async (req, res) => {
        req.pause();
        await gate;
        const hash = createHash('sha256');
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
        });
        req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
        req.resume();
      });
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
    const slowPort = (slowReader.address() as AddressInfo).port;
    const proc = await startProxyProcess(`http://127.0.0.1:${slowPort}`);
    try {
      let written = 0;
      const done = upload(proc.port, 50 * MB, false, (n) => (written = n));
      await new Promise((r) => setTimeout(r, 1_500));
      const aheadWhileStalled = written;
      console.log(`client got ${(aheadWhileStalled / MB).toFixed(1)} MB ahead of the stalled upstream`);
      release();
      const result = await done;
      expect(aheadWhileStalled).toBeLessThan(24 * MB);
      expect(JSON.parse(result.body)).toEqual({ bytes: 50 * MB, sha256: result.sha256 });
    } finally {
      const exited = new Promise((resolve) => proc.child.once('exit', resolve));
      proc.child.kill('SIGTERM');
      await exited;
      slowReader.closeAllConnections();
      await new Promise((r) => slowReader.close(r));
    }
  });
});
