import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/http.ts';
import { createTestCa, type IssuedCertificate } from '../../helpers/test-ca.ts';
import { spec, startEcho, table, type Echo } from '../proxy/support.ts';
import { handshake, startTlsProxy, type TlsHarness } from './support.ts';

/** Traefik v1 stores, served through the real HTTPS listener, and a file in no known format. */
const ca = createTestCa();
const b64 = (text: string) => Buffer.from(text).toString('base64');
const account = { Email: 'admin@example.test', Registration: { body: { status: 'valid' }, uri: 'https://acme.invalid/acct/1' }, PrivateKey: 'MIIJ', KeyType: '4096' };

function v17(certs: Array<{ main: string; sans?: string[]; pair: IssuedCertificate }>): string {
  return JSON.stringify({
    Account: account,
    Certificates: certs.map(({ main, sans, pair }) => ({ Domain: { Main: main, SANs: sans ?? null }, Certificate: b64(pair.certPem + ca.certPem), Key: b64(pair.keyPem) })),
    HTTPChallenges: {},
    TLSChallenges: {},
  });
}

let echo: Echo;
beforeAll(async () => {
  echo = await startEcho();
});
afterAll(async () => {
  await echo.close();
});

describe('Traefik v1 acme.json', () => {
  let dir: string;
  let file: string;
  let gh: TlsHarness;
  const one = ca.issue({ names: ['one.test', 'www.one.test'] });
  const two = ca.issue({ names: ['*.two.test'] });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-tls-acme1-'));
    file = join(dir, 'acme.json');
  });
  afterEach(async () => {
    await gh?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string> = {}) =>
    startTlsProxy({ table: table(spec({ origin: echo.origin, hosts: ['one.test'] })), env: { GATEHOUSE_TLS_ACME_JSON: file, ...env } });

  it('serves the certificates of a v1.7 file, and a domain Traefik removes only after the grace period', async () => {
    await writeFile(file, v17([{ main: 'one.test', sans: ['www.one.test'], pair: one }, { main: '*.two.test', pair: two }]), { mode: 0o600 });
    gh = await start({ GATEHOUSE_TLS_ABSENT_GRACE: '300ms' });
    const a = await handshake(gh.httpsPort, 'www.one.test', ca.certPem);
    const b = await handshake(gh.httpsPort, 'app.two.test', ca.certPem);
    expect([a.fingerprint256, a.authorized]).toEqual([one.fingerprint256, true]);
    expect([b.fingerprint256, b.authorized]).toEqual([two.fingerprint256, true]);
    expect(gh.certificates.list().map((c) => [c.source, c.location]).sort()).toEqual([
      ['acme:*.two.test', `${file} (Traefik v1, domain *.two.test)`],
      ['acme:one.test', `${file} (Traefik v1, domain one.test)`],
    ]);

    await writeFile(file, v17([{ main: 'one.test', sans: ['www.one.test'], pair: one }]));
    await waitFor(() => gh.logLines().find((line) => String(line.msg).startsWith('certificate for *.two.test no longer served')), 'the removed domain to be dropped');
    expect(gh.certificates.list().map((c) => c.source)).toEqual(['acme:one.test']);
  });

  it('serves the certificates of a file from Traefik before 1.7 (DomainsCertificate)', async () => {
    const legacy = {
      ...account,
      DomainsCertificate: {
        Certs: [{ Domains: { Main: 'one.test', SANs: ['www.one.test'] }, Certificate: { Domain: 'one.test', CertURL: '', CertStableURL: '', PrivateKey: b64(one.keyPem), Certificate: b64(one.certPem) } }],
      },
      ChallengeCerts: {},
    };
    await writeFile(file, JSON.stringify(legacy));
    gh = await start();
    const a = await handshake(gh.httpsPort, 'one.test', ca.certPem);
    expect([a.fingerprint256, a.authorized]).toEqual([one.fingerprint256, true]);
  });

  it('says plainly when the file is in no format it knows, and keeps serving what it had', async () => {
    await writeFile(file, v17([{ main: 'one.test', pair: one }]));
    gh = await start();
    await writeFile(file, JSON.stringify({ certificates: { 'one.test': { crt: 'x', key: 'y' } } }));
    const line = await waitFor(() => gh.logLines().find((l) => String(l.msg).startsWith('certificate skipped') && String(l.reason).startsWith('not a Traefik certificate store')), 'the unknown-format line');
    expect(line.file).toBe(file);
    expect(line.level).toBe(40);
    expect(String(line.msg)).toContain(`certificate skipped: ${file}: not a Traefik certificate store Gatehouse knows`);
    expect(String(line.reason)).toMatch(/expected Traefik v2\/v3 .*, Traefik v1\.7 .* or Traefik v1 before 1\.7/);
    expect((await handshake(gh.httpsPort, 'one.test')).fingerprint256).toBe(one.fingerprint256);
  });
});
