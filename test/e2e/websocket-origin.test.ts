import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { ALICE, gateFor } from '../helpers/gates.ts';
import { waitFor } from '../helpers/http.ts';
import { spec, startProxy, table, type Harness } from '../integration/proxy/support.ts';

/**
 * Two apps behind one Gatehouse are same-site (app.sib.test and evil.sib.test), so the browser
 * sends the user's cookie for one on a websocket that a page of the other opens. Gatehouse must
 * refuse that handshake by its Origin; the app's own pages must still connect.
 */
const SIGNED_IN = 'demo_session=ok';

describe('websocket Origin in a real browser', () => {
  let browser: Browser;
  let upstream: Server;
  let gh: Harness;
  let handshakes = 0;

  beforeAll(async () => {
    upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>page</title><p>page</p>');
    });
    new WebSocketServer({ server: upstream }).on('connection', (socket) => {
      handshakes++;
      socket.on('message', (data) => socket.send(`echo:${String(data)}`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const signedInOnly = { public: false, allow: [{ kind: 'any' as const }], deny: [], bypass: [], corsPreflight: false };
    gh = await startProxy({
      table: table(spec({ origin, hosts: ['app.sib.test'], policy: signedInOnly }), spec({ name: 'evil', origin, hosts: ['evil.sib.test'] })),
      // Stands in for the session cookie: whoever carries it is alice.
      gate: gateFor((req) => (req.headers.cookie?.includes(SIGNED_IN) ? ALICE : null)),
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** Opens a websocket from the page and reports whether it opened and what came back. */
  const openFrom = (target: string) =>
    `new Promise((resolve) => {
      const ws = new WebSocket(${JSON.stringify(target)});
      ws.onopen = () => ws.send('hi');
      ws.onmessage = (event) => { resolve({ opened: true, message: String(event.data) }); ws.close(); };
      ws.onerror = () => resolve({ opened: false, message: null });
    })`;

  async function signedInPage(at: string) {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'demo_session', value: 'ok', url: `http://app.sib.test:${gh.port}/` }]);
    const page = await context.newPage();
    await page.goto(at);
    return { context, page };
  }

  it("connects from the app's own page", async () => {
    const { context, page } = await signedInPage(`http://app.sib.test:${gh.port}/`);
    try {
      const result = await page.evaluate(openFrom(`ws://app.sib.test:${gh.port}/live`));
      expect(result).toEqual({ opened: true, message: 'echo:hi' });
    } finally {
      await context.close();
    }
  });

  it('refuses a websocket that a sibling app\'s page opens with the user\'s cookie, before the app hears of it', async () => {
    const { context, page } = await signedInPage(`http://evil.sib.test:${gh.port}/`);
    try {
      const before = handshakes;
      const result = await page.evaluate(openFrom(`ws://app.sib.test:${gh.port}/live`));
      expect(result).toEqual({ opened: false, message: null });
      expect(handshakes).toBe(before);
      const refused = await waitFor(
        () => gh.logLines().find((line) => line.websocket === true && line.host === 'app.sib.test' && line.status === 403),
        'the refused upgrade in the access log',
      );
      expect(refused).toBeDefined();
    } finally {
      await context.close();
    }
  });
});
