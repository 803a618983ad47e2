import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import type http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/http.ts';
import { createTestCa, type IssuedCertificate } from '../../helpers/test-ca.ts';
import { spec, startEcho, table, type Echo } from '../proxy/support.ts';
import { h2Connect, h2Request, handshake, startTlsProxy, writePair, type TlsHarness } from './support.ts';

/** Certificates change on disk while Gatehouse serves: renewals, broken writes, removals. */
const ca = createTestCa();
const DAY = 86_400_000;

let echo: Echo;
beforeAll(async () => {
  echo = await startEcho();
});
afterAll(async () => {
  await echo.close();
});

function servedFor(gh: TlsHarness, name: string) {
  return async () => (await handshake(gh.httpsPort, name)).fingerprint256;
}

function skipLines(gh: TlsHarness) {
  return gh.logLines().filter((line) => String(line.msg).startsWith('certificate skipped'));
}

describe('certificate folder: reload without restart', () => {
  let dir: string;
  let gh: TlsHarness;
  let first: IssuedCertificate;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-tls-reload-'));
    first = ca.issue({ names: ['app.test'] });
    await writePair(dir, 'app.crt', 'app.key', first);
    await writePair(dir, 'other.crt', 'other.key', ca.issue({ names: ['other.test'] }));
    gh = await startTlsProxy({ table: table(spec({ origin: echo.origin, hosts: ['app.test'] })), env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_TLS_DEFAULT_CERT: 'other', GATEHOUSE_TLS_ABSENT_GRACE: '300ms' } });
  });
  afterEach(async () => {
    await gh.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('presents a replaced certificate at the next handshake while an open connection keeps working', async () => {
    expect(await servedFor(gh, 'app.test')()).toBe(first.fingerprint256);
    const session: http2.ClientHttp2Session = await h2Connect(gh.httpsPort, 'app.test', ca.certPem);
    try {
      expect((await h2Request(session, { ':path': '/before', ':authority': 'app.test' })).status).toBe(200);

      const renewed = ca.issue({ names: ['app.test'], notAfter: new Date(Date.now() + 89 * DAY) });
      // The way most tools replace files: write aside, then rename over the old one.
      await writeFile(join(dir, 'app.key.tmp'), renewed.keyPem);
      await writeFile(join(dir, 'app.crt.tmp'), renewed.certPem);
      await rename(join(dir, 'app.key.tmp'), join(dir, 'app.key'));
      await rename(join(dir, 'app.crt.tmp'), join(dir, 'app.crt'));

      await waitFor(async () => ((await servedFor(gh, 'app.test')()) === renewed.fingerprint256 ? true : undefined), 'the renewed certificate');
      // The session opened before the reload was not dropped and still carries requests.
      expect(session.closed || session.destroyed).toBe(false);
      expect((await h2Request(session, { ':path': '/after', ':authority': 'app.test' })).status).toBe(200);
      expect(echo.received.at(-1)?.url).toBe('/after');
      expect(gh.logLines().some((line) => line.msg === 'certificate loaded' && line.source === 'dir:app.crt' && String(line.file).includes('app.crt'))).toBe(true);
    } finally {
      session.close();
    }
  });

  it('keeps the old certificate when the new file does not parse, and logs the file and the reason', async () => {
    await writeFile(join(dir, 'app.crt'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const line = await waitFor(() => skipLines(gh).find((l) => String(l.file).includes(join(dir, 'app.crt'))), 'the skip log line');
    expect(line.reason).toMatch(/does not parse/);
    expect(line.level).toBe(40);
    expect(line.keptCertificate).toMatchObject({ names: ['app.test'] });
    expect(await servedFor(gh, 'app.test')()).toBe(first.fingerprint256);
    expect(gh.certificates.skipped()).toEqual([{ location: expect.stringContaining('app.crt'), reason: expect.stringMatching(/does not parse/) }]);
    expect(await gh.metrics.registry.getSingleMetricAsString('gatehouse_tls_certificates_skipped')).toMatch(/gatehouse_tls_certificates_skipped 1/);
  });

  it('keeps the old certificate when the new one does not match its key', async () => {
    await writeFile(join(dir, 'app.crt'), ca.issue({ names: ['app.test'] }).certPem);
    const line = await waitFor(() => skipLines(gh).find((l) => String(l.reason).includes('does not match its private key')), 'the mismatch log line');
    expect(String(line.file)).toContain('app.crt');
    expect(await servedFor(gh, 'app.test')()).toBe(first.fingerprint256);
  });

  it('skips an expired certificate: its name gets the default instead', async () => {
    const expired = ca.issue({ names: ['old.test'], notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
    await writePair(dir, 'old.crt', 'old.key', expired);
    const line = await waitFor(() => skipLines(gh).find((l) => String(l.file).includes('old.crt')), 'the expired log line');
    expect(line.reason).toMatch(/expired on/);
    const defaultCert = gh.certificates.list().find((c) => c.default);
    expect(defaultCert?.names).toEqual(['other.test']);
    expect(await servedFor(gh, 'old.test')()).not.toBe(expired.fingerprint256);
  });

  it('adds a new pair, and stops serving a deleted one once the grace period for absent files is over', async () => {
    const added = ca.issue({ names: ['new.test'] });
    await writePair(dir, 'live/new.test/fullchain.pem', 'live/new.test/privkey.pem', added);
    await waitFor(async () => ((await servedFor(gh, 'new.test')()) === added.fingerprint256 ? true : undefined), 'the added certificate');
    await unlink(join(dir, 'app.crt'));
    await unlink(join(dir, 'app.key'));
    await waitFor(async () => ((await servedFor(gh, 'app.test')()) !== first.fingerprint256 ? true : undefined), 'the removed certificate to go');
    expect(gh.certificates.list().map((c) => c.names[0]).sort()).toEqual(['new.test', 'other.test']);
  });
});

describe("Traefik's acme.json", () => {
  let dir: string;
  let file: string;
  let gh: TlsHarness;
  const one = ca.issue({ names: ['one.test'] });
  const two = ca.issue({ names: ['*.two.test'] });

  function acme(entries: Record<string, Array<{ main: string; pair: IssuedCertificate }>>): string {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    return JSON.stringify(
      Object.fromEntries(
        Object.entries(entries).map(([resolver, certs]) => [
          resolver,
          {
            Account: { Email: 'admin@example.test', Registration: { body: { status: 'valid' }, uri: 'https://acme.invalid/acct/1' }, PrivateKey: 'MIIJ', KeyType: '4096' },
            Certificates: certs.map(({ main, pair }) => ({ domain: { main }, certificate: b64(pair.certPem + ca.certPem), key: b64(pair.keyPem), Store: 'default' })),
          },
        ]),
      ),
      null,
      2,
    );
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-tls-acme-'));
    file = join(dir, 'acme.json');
    await writeFile(file, acme({ letsencrypt: [{ main: 'one.test', pair: one }], cloudflare: [{ main: '*.two.test', pair: two }] }), { mode: 0o600 });
    gh = await startTlsProxy({ table: table(spec({ origin: echo.origin, hosts: ['one.test'] })), env: { GATEHOUSE_TLS_ACME_JSON: file } });
  });
  afterAll(async () => {
    await gh.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the certificates of every resolver in the file', async () => {
    const a = await handshake(gh.httpsPort, 'one.test', ca.certPem);
    const b = await handshake(gh.httpsPort, 'www.two.test', ca.certPem);
    expect([a.fingerprint256, a.authorized]).toEqual([one.fingerprint256, true]);
    expect([b.fingerprint256, b.authorized]).toEqual([two.fingerprint256, true]);
    expect(gh.certificates.list().map((c) => c.source).sort()).toEqual(['acme:cloudflare/*.two.test', 'acme:letsencrypt/one.test']);
  });

  it('keeps serving through a half-written file and picks up the renewal Traefik writes next', async () => {
    await writeFile(file, '{"letsencrypt": {"Certificates": [');
    await waitFor(() => skipLines(gh).find((l) => String(l.reason).includes('not valid JSON')), 'the broken-file log line');
    expect((await handshake(gh.httpsPort, 'one.test')).fingerprint256).toBe(one.fingerprint256);
    expect((await handshake(gh.httpsPort, 'www.two.test')).fingerprint256).toBe(two.fingerprint256);

    const renewed = ca.issue({ names: ['one.test'] });
    await writeFile(file, acme({ letsencrypt: [{ main: 'one.test', pair: renewed }], cloudflare: [{ main: '*.two.test', pair: two }] }));
    await waitFor(async () => ((await handshake(gh.httpsPort, 'one.test')).fingerprint256 === renewed.fingerprint256 ? true : undefined), 'the renewed certificate');
    expect((await handshake(gh.httpsPort, 'www.two.test')).fingerprint256).toBe(two.fingerprint256);
  });
});
