import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import type { AccessGate } from '../../../src/proxy/index.ts';
import { ALICE } from '../../helpers/gates.ts';
import { sleep, spec, startEcho, startProxy, table, type Echo } from './support.ts';

describe('proxy: table swaps and graceful shutdown', () => {
  let a: Echo;
  let b: Echo;

  beforeAll(async () => {
    a = await startEcho(async (req, res) => {
      if (req.url === '/slow') await sleep(600);
      res.end('A');
    });
    b = await startEcho((_req, res) => {
      res.end('B');
    });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  /** A gate that signs alice in, but only once the test lets it: the swap lands mid-decision. */
  function pausedGate() {
    let entered!: () => void;
    let release!: () => void;
    const inIdentify = new Promise<void>((resolve) => (entered = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const gate: AccessGate = {
      async identify() {
        entered();
        await released;
        return ALICE;
      },
      refuse: (_req, _route, decision) => ({ kind: 'respond', status: 403, body: decision.reason }),
    };
    return { gate, inIdentify, release };
  }
  const aliceOnly = { public: false, allow: [{ kind: 'email' as const, email: 'alice@corp.example' }], deny: [], bypass: [], corsPreflight: false };
  const aliceDenied = { ...aliceOnly, deny: [{ kind: 'email' as const, email: 'alice@corp.example' }] };

  it('keeps an in-flight request on the table it started with, even when the swap lands mid-decision', async () => {
    const paused = pausedGate();
    const gh = await startProxy({ table: table(spec({ origin: a.origin, hostHeader: { mode: 'preserve' }, policy: aliceOnly })), gate: paused.gate });
    try {
      const readsBefore = gh.tableReads();
      const inFlight = http(gh.port, 'app.test', '/slow');
      await paused.inIdentify;
      // Published while the gate is still deciding: same host, different app, different Host mode.
      gh.setTable(table(spec({ name: 'other', origin: b.origin, hostHeader: { mode: 'literal', host: 'b.internal' } })));
      paused.release();
      const first = await inFlight;
      expect(first.body).toBe('A');
      expect(a.received.at(-1)?.headers.host).toBe('app.test');
      expect(gh.tableReads() - readsBefore).toBe(1);
      expect((await http(gh.port, 'app.test', '/')).body).toBe('B');
      expect(b.received.at(-1)?.headers.host).toBe('b.internal');
    } finally {
      await gh.close();
    }
  });

  it("decides a request on the policy of the table it started with: a publish mid-request changes the next request's decision, not this one's", async () => {
    const paused = pausedGate();
    const gh = await startProxy({ table: table(spec({ origin: a.origin, policy: aliceOnly })), gate: paused.gate });
    try {
      const readsBefore = gh.tableReads();
      const inFlight = http(gh.port, 'app.test', '/');
      await paused.inIdentify;
      // The same route, now denying alice, is published while the request is being identified.
      gh.setTable(table(spec({ origin: a.origin, policy: aliceDenied })));
      paused.release();
      const first = await inFlight;
      expect(first.status).toBe(200);
      expect(first.body).toBe('A');
      // One read of the route store for the whole request, whatever the passes below did.
      expect(gh.tableReads() - readsBefore).toBe(1);
      const next = await http(gh.port, 'app.test', '/');
      expect(next.status).toBe(403);
      expect(next.body).toBe('denied');
      expect(gh.tableReads() - readsBefore).toBe(2);
    } finally {
      await gh.close();
    }
  });

  it('lets a request that is already streaming finish against its upstream after its route is removed', async () => {
    const gh = await startProxy({ table: table(spec({ origin: a.origin })) });
    try {
      const inFlight = http(gh.port, 'app.test', '/slow');
      await sleep(150);
      gh.setTable(table());
      expect((await http(gh.port, 'app.test', '/')).status).toBe(404);
      expect((await inFlight).body).toBe('A');
    } finally {
      await gh.close();
    }
  });

  it('records a request the client abandoned as 499', async () => {
    const gh = await startProxy({ table: table(spec({ origin: a.origin })) });
    try {
      const req = request({ host: '127.0.0.1', port: gh.port, path: '/slow', headers: { host: 'app.test' }, agent: false });
      req.on('error', () => {});
      req.end();
      await sleep(150);
      req.destroy();
      await sleep(100);
      const line = gh.logLines().find((l) => l.mod === 'access' && l.path === '/slow');
      expect(line).toMatchObject({ status: 499, route: 'container:app/default' });
    } finally {
      await gh.close();
    }
  });

  it('drains in-flight requests on close: readiness flips first, new connections are refused, the request completes', async () => {
    const gh = await startProxy({ table: table(spec({ origin: a.origin })) });
    const inFlight = http(gh.port, 'app.test', '/slow');
    await sleep(150);
    expect(gh.proxy.closing).toBe(false);
    const closed = gh.close();
    expect(gh.proxy.closing).toBe(true);
    await sleep(20);
    await expect(http(gh.port, 'app.test', '/')).rejects.toThrow(/ECONNREFUSED/);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('A');
    expect(res.headers.connection).toBe('close');
    const started = Date.now();
    await closed;
    // Drained well before the 2 s grace: close does not wait out the deadline needlessly.
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('cuts requests still running at the end of the grace period', async () => {
    const hang = await startEcho(async (_req, res) => {
      await sleep(5_000);
      res.end('too late');
    });
    const gh = await startProxy({ table: table(spec({ origin: hang.origin })), env: { GATEHOUSE_SHUTDOWN_GRACE: '300ms' } });
    try {
      const inFlight = http(gh.port, 'app.test', '/').then(
        (r) => r.status,
        () => 'cut',
      );
      await sleep(100);
      const started = Date.now();
      await gh.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await inFlight).toBe('cut');
    } finally {
      await hang.close();
    }
  });
});
