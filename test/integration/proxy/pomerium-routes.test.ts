import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../../src/config/routes-file.ts';
import { buildRouteTable, type RouteTable } from '../../../src/routes/index.ts';
import { http } from '../../helpers/http.ts';
import { createTestCa } from '../../helpers/test-ca.ts';
import { echoed, startEcho, startProxy, type Echo, type Harness } from './support.ts';

/**
 * Routes from a Pomerium file through a real proxy to real upstreams: Pomerium's Host and path
 * rewrites, response headers, timeouts, weighted `to` lists, `from` ports, RE2 routes, and the
 * upstream TLS options against an HTTPS server with a test CA that asks for a client certificate.
 */

function tableOf(yaml: string): RouteTable {
  const parsed = parseRoutesFile(yaml, 'config.yaml');
  if (!parsed.ok) throw new Error(parsed.error);
  expect(parsed.result.issues.map((i) => i.message)).toEqual([]);
  return buildRouteTable(parsed.result.specs, [], { closed: parsed.result.closed ?? [], owners: new Map() });
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('Pomerium routes through the proxy', () => {
  let a: Echo;
  let b: Echo;
  let silent: Echo;
  let tlsUpstream: HttpsServer;
  let tlsOrigin: string;
  let dir: string;
  let caPem: string;
  let gh: Harness;
  let initial: RouteTable;

  beforeAll(async () => {
    a = await startEcho();
    b = await startEcho();
    // Never answers: the route's timeout must end the wait.
    silent = await startEcho(() => undefined);
    const serverCa = createTestCa('Upstream CA');
    const clientCa = createTestCa('Client CA');
    const serverCert = serverCa.issue({ names: ['backend.internal'] });
    const clientCert = clientCa.issue({ names: ['gatehouse.client'], commonName: 'gatehouse.client' });
    caPem = serverCa.certPem;
    dir = mkdtempSync(join(tmpdir(), 'gh-pomerium-tls-'));
    writeFileSync(join(dir, 'ca.pem'), serverCa.certPem);
    writeFileSync(join(dir, 'client.pem'), clientCert.certPem);
    writeFileSync(join(dir, 'client-key.pem'), clientCert.keyPem);
    tlsUpstream = createHttpsServer({ key: serverCert.keyPem, cert: serverCert.certPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: true }, (req: IncomingMessage, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`hello ${peer.subject?.CN ?? 'nobody'} via ${req.headers.host}`);
    });
    await new Promise<void>((resolve) => tlsUpstream.listen(0, '127.0.0.1', resolve));
    tlsOrigin = `https://127.0.0.1:${(tlsUpstream.address() as AddressInfo).port}`;
    const tlsRoute = (host: string, extra: string) =>
      `  - from: http://${host}\n    to: ${tlsOrigin}\n    allow_public_unauthenticated_access: true\n${extra}`;
    const clientFiles = `    tls_client_cert_file: ${join(dir, 'client.pem')}\n    tls_client_key_file: ${join(dir, 'client-key.pem')}\n`;
    initial = tableOf(`routes:
  - from: http://app.test
    to: ${a.origin}
    allow_public_unauthenticated_access: true
    set_response_headers: { X-Frame-Options: DENY }
  - from: http://app.test
    to: ${b.origin}
    prefix: /api
    prefix_rewrite: /v2
    preserve_host_header: true
    allow_public_unauthenticated_access: true
  - from: http://app.test
    to: ${b.origin}
    allow_public_unauthenticated_access: true
    regex: "^/items/[0-9]+$"
    regex_rewrite_pattern: "^/items/([0-9]+)$"
    regex_rewrite_substitution: "/item?id=\\\\1"
    host_rewrite: items.internal
  - from: http://hdr.test
    to: ${a.origin}
    allow_public_unauthenticated_access: true
    host_rewrite_header: X-Target-Host
  - from: http://slow.test
    to: ${silent.origin}
    allow_public_unauthenticated_access: true
    timeout: 1s
  - from: http://weighted.test
    to: ["${a.origin},3", "${b.origin},1"]
    allow_public_unauthenticated_access: true
  - from: http://port.test:8443
    to: ${a.origin}
    allow_public_unauthenticated_access: true
${tlsRoute('tls.test', `    tls_server_name: backend.internal\n    tls_custom_ca: ${b64(caPem)}\n${clientFiles}`)}
${tlsRoute('cafile.test', `    tls_server_name: backend.internal\n    tls_custom_ca_file: ${join(dir, 'ca.pem')}\n${clientFiles}`)}
${tlsRoute('noca.test', `    tls_server_name: backend.internal\n${clientFiles}`)}
${tlsRoute('noname.test', `    tls_custom_ca: ${b64(caPem)}\n${clientFiles}`)}
${tlsRoute('noclient.test', `    tls_server_name: backend.internal\n    tls_custom_ca: ${b64(caPem)}\n`)}
${tlsRoute('skip.test', `    tls_skip_verify: true\n${clientFiles}`)}
`);
    gh = await startProxy({ table: initial });
  });

  afterAll(async () => {
    await gh?.close();
    await Promise.all([a?.close(), b?.close(), silent?.close()]);
    tlsUpstream?.closeAllConnections();
    await new Promise((resolve) => tlsUpstream?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the to host as Host and sets the route's response headers", async () => {
    const response = await http(gh.port, 'app.test', '/page');
    expect(response.status).toBe(200);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(echoed(response).headers.host).toBe(new URL(a.origin).host);
  });

  it('rewrites the prefix of a sub-route written after the host-wide route, keeping the client Host', async () => {
    const response = await http(gh.port, 'app.test', '/api/users?x=1');
    expect(response.status).toBe(200);
    const received = echoed(response);
    expect(received.url).toBe('/v2/users?x=1');
    expect(received.headers.host).toBe('app.test');
    expect(b.received.at(-1)?.url).toBe('/v2/users?x=1');
  });

  it('matches an RE2 route on the whole path, rewrites the path by substitution and sets a fixed Host', async () => {
    const response = await http(gh.port, 'app.test', '/items/42');
    const received = echoed(response);
    expect(received.url).toBe('/item?id=42');
    expect(received.headers.host).toBe('items.internal');
    // Not a full match: the host-wide route.
    expect(echoed(await http(gh.port, 'app.test', '/items/42/x')).url).toBe('/items/42/x');
  });

  it("takes Host from the client's header with host_rewrite_header", async () => {
    expect(echoed(await http(gh.port, 'hdr.test', '/', { headers: { 'x-target-host': 'chosen.internal' } })).headers.host).toBe('chosen.internal');
    expect(echoed(await http(gh.port, 'hdr.test', '/')).headers.host).toBe(new URL(a.origin).host);
  });

  it('ends a wait for response headers at the route timeout with 504', async () => {
    const response = await http(gh.port, 'slow.test', '/');
    expect(response.status).toBe(504);
  });

  it('spreads requests over a weighted to list by weight', async () => {
    const before = { a: a.received.length, b: b.received.length };
    for (let i = 0; i < 8; i++) expect((await http(gh.port, 'weighted.test', `/w${i}`)).status).toBe(200);
    expect([a.received.length - before.a, b.received.length - before.b]).toEqual([6, 2]);
  });

  it('serves a from with a port on that authority only', async () => {
    expect((await http(gh.port, 'port.test:8443', '/')).status).toBe(200);
    expect((await http(gh.port, 'port.test', '/')).status).toBe(404);
    expect((await http(gh.port, 'port.test:9443', '/')).status).toBe(404);
  });

  it('connects with the custom CA, server name and client certificate, inline or from files', async () => {
    for (const host of ['tls.test', 'cafile.test']) {
      const response = await http(gh.port, host, '/');
      expect(response.status, host).toBe(200);
      expect(response.body).toBe(`hello gatehouse.client via ${new URL(tlsOrigin).host}`);
    }
  });

  it('refuses the upstream (502) without the CA, with the wrong name, or without the client certificate', async () => {
    for (const host of ['noca.test', 'noname.test', 'noclient.test']) {
      expect((await http(gh.port, host, '/')).status, host).toBe(502);
    }
  });

  it('reads TLS files afresh once a table without the setting was in use (agents are not kept past their routes)', async () => {
    const caFile = join(dir, 'rotating-ca.pem');
    writeFileSync(caFile, caPem);
    const withCa = tableOf(`routes:
  - from: http://rotate.test
    to: ${tlsOrigin}
    allow_public_unauthenticated_access: true
    tls_server_name: backend.internal
    tls_custom_ca_file: ${caFile}
    tls_client_cert_file: ${join(dir, 'client.pem')}
    tls_client_key_file: ${join(dir, 'client-key.pem')}
`);
    const without = tableOf(`routes:\n  - from: http://rotate.test\n    to: ${a.origin}\n    allow_public_unauthenticated_access: true\n`);
    gh.setTable(withCa);
    expect((await http(gh.port, 'rotate.test', '/')).status).toBe(200);
    // Another CA in the same file: the agent made for the first table still trusts the old one...
    writeFileSync(caFile, createTestCa('Another CA').certPem);
    expect((await http(gh.port, 'rotate.test', '/')).status).toBe(200);
    // ...until a generation without that setting retires it; the next one reads the file again.
    gh.setTable(without);
    expect((await http(gh.port, 'rotate.test', '/')).status).toBe(200);
    gh.setTable(withCa);
    expect((await http(gh.port, 'rotate.test', '/')).status).toBe(502);
    gh.setTable(initial);
  });

  it('skips verification with tls_skip_verify, still presenting the client certificate', async () => {
    const response = await http(gh.port, 'skip.test', '/');
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^hello gatehouse\.client/);
  });
});
