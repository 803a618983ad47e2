import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAcmeJson } from '../../../src/tls/acme-json.ts';
import { scanCertificateDir } from '../../../src/tls/dir-source.ts';
import { createTestCa } from '../../helpers/test-ca.ts';

const ca = createTestCa();
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the certificate folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-tls-scan-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function put(path: string, text: string): Promise<void> {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }

  it('finds the layouts other tools write, each under its own source and name', async () => {
    const pairs = {
      side: ca.issue({ names: ['side.test'] }),
      dumper: ca.issue({ names: ['dumper.test'] }),
      certbot: ca.issue({ names: ['certbot.test'] }),
      plain: ca.issue({ names: ['plain.test'] }),
      subdir: ca.issue({ names: ['subdir.test'] }),
    };
    await put('side.crt', pairs.side.certPem);
    await put('side.key', pairs.side.keyPem);
    await put('dump/certs/dumper.test.crt', pairs.dumper.certPem);
    await put('dump/private/dumper.test.key', pairs.dumper.keyPem);
    await put('dump/private/letsencrypt.key', 'the ACME account key, not a certificate key');
    await put('live/certbot.test/fullchain.pem', pairs.certbot.certPem + ca.certPem);
    await put('live/certbot.test/cert.pem', pairs.certbot.certPem);
    await put('live/certbot.test/privkey.pem', pairs.certbot.keyPem);
    await put('plain/cert.pem', pairs.plain.certPem);
    await put('plain/privkey.pem', pairs.plain.keyPem);
    await put('subdir.test/certificate.crt', pairs.subdir.certPem);
    await put('subdir.test/privatekey.key', pairs.subdir.keyPem);
    await put('.hidden/copy.crt', pairs.side.certPem);

    const scan = await scanCertificateDir(dir);
    expect(scan.failures).toEqual([]);
    expect(scan.fatal).toBeUndefined();
    const found = Object.fromEntries(scan.candidates.map((c) => [c.source, { name: c.name, cert: c.certPem, key: c.keyPem }]));
    expect(Object.keys(found).sort()).toEqual([
      'dir:dump/certs/dumper.test.crt',
      'dir:live/certbot.test/fullchain.pem',
      'dir:plain/cert.pem',
      'dir:side.crt',
      'dir:subdir.test/certificate.crt',
    ]);
    expect(found['dir:side.crt']).toEqual({ name: 'side', cert: pairs.side.certPem, key: pairs.side.keyPem });
    expect(found['dir:dump/certs/dumper.test.crt']).toEqual({ name: 'dumper.test', cert: pairs.dumper.certPem, key: pairs.dumper.keyPem });
    // fullchain.pem wins over cert.pem: clients need the intermediate.
    expect(found['dir:live/certbot.test/fullchain.pem']?.cert).toContain(ca.certPem.trim());
    expect(found['dir:live/certbot.test/fullchain.pem']?.name).toBe('certbot.test');
    expect(found['dir:subdir.test/certificate.crt']?.name).toBe('subdir.test');
  });

  it('follows symlinks (certbot live/ points into archive/, Kubernetes secrets into ..data/)', async () => {
    const pair = ca.issue({ names: ['linked.test'] });
    await put('..data/tls.crt', pair.certPem);
    await put('..data/tls.key', pair.keyPem);
    await symlink(join(dir, '..data/tls.crt'), join(dir, 'tls.crt'));
    await symlink(join(dir, '..data/tls.key'), join(dir, 'tls.key'));
    const scan = await scanCertificateDir(dir);
    expect(scan.candidates.map((c) => [c.source, c.certPem])).toEqual([['dir:tls.crt', pair.certPem]]);
  });

  it('reports a certificate without its key, naming where the key was expected', async () => {
    await put('lonely.crt', ca.issue({ names: ['lonely.test'] }).certPem);
    await put('certs/orphan.test.crt', ca.issue({ names: ['orphan.test'] }).certPem);
    await put('half/fullchain.pem', ca.issue({ names: ['half.test'] }).certPem);
    const scan = await scanCertificateDir(dir);
    expect(scan.candidates).toEqual([]);
    const bySource = Object.fromEntries(scan.failures.map((f) => [f.source, f.reason]));
    expect(bySource['dir:lonely.crt']).toBe('no private key found; expected lonely.key beside it');
    expect(bySource['dir:certs/orphan.test.crt']).toBe('no private key found; expected orphan.test.key beside it or ../private/orphan.test.key (or .pem)');
    expect(bySource['dir:half/fullchain.pem']).toMatch(/expected privkey.pem in .*half/);
  });

  it('reports a missing folder as a whole, marked missing so its certificates count as absent', async () => {
    const scan = await scanCertificateDir(join(dir, 'not-there'));
    expect(scan.candidates).toEqual([]);
    expect(scan.fatal?.reason).toMatch(/does not exist/);
    expect(scan.fatal?.missing).toBe(true);
  });

  it("reads traefik-certs-dumper's output with other extensions (--crt-ext, --key-ext, with and without --domain-subdir)", async () => {
    const flat = ca.issue({ names: ['flat.test'] });
    const sub = ca.issue({ names: ['sub.test'] });
    await put('certs/flat.test.pem', flat.certPem);
    await put('private/flat.test.key', flat.keyPem);
    await put('private/letsencrypt.key', 'the ACME account key');
    await put('sub.test/certificate.pem', sub.certPem);
    await put('sub.test/privatekey.pem', sub.keyPem);
    const scan = await scanCertificateDir(dir);
    expect(scan.failures).toEqual([]);
    expect(scan.candidates.map((c) => [c.source, c.name, c.certPem, c.keyPem]).sort()).toEqual([
      ['dir:certs/flat.test.pem', 'flat.test', flat.certPem, flat.keyPem],
      ['dir:sub.test/certificate.pem', 'sub.test', sub.certPem, sub.keyPem],
    ]);
  });

  it('says plainly when certificate files are there but in no layout it reads', async () => {
    await put('site/server.pem', ca.issue({ names: ['odd.test'] }).certPem);
    await put('site/server-key.pem', 'key');
    const scan = await scanCertificateDir(dir);
    expect(scan.candidates).toEqual([]);
    expect(scan.failures).toEqual([
      {
        source: 'dir:',
        location: dir,
        reason: expect.stringMatching(/^found site\/server-key\.pem, site\/server\.pem but no certificate in a layout Gatehouse reads; expected NAME\.crt \+ NAME\.key, /),
      },
    ]);
  });

  it('is quiet about a folder with nothing in it, or only the ACME account key', async () => {
    expect(await scanCertificateDir(dir)).toEqual({ candidates: [], failures: [] });
    await put('private/letsencrypt.key', 'the ACME account key');
    await mkdir(join(dir, 'certs'));
    expect(await scanCertificateDir(dir)).toEqual({ candidates: [], failures: [] });
  });
});

describe("Traefik's acme.json", () => {
  const one = ca.issue({ names: ['one.test', 'www.one.test'] });
  const two = ca.issue({ names: ['*.two.test'] });

  it('reads every resolver in the file, with the PEM decoded', () => {
    const file = {
      letsencrypt: {
        Account: { Email: 'admin@example.test', Registration: {}, PrivateKey: 'x', KeyType: '4096' },
        Certificates: [{ domain: { main: 'one.test', sans: ['www.one.test'] }, certificate: b64(one.certPem + ca.certPem), key: b64(one.keyPem), Store: 'default' }],
      },
      'dns-cloudflare': {
        Account: null,
        Certificates: [{ domain: { main: '*.two.test' }, certificate: b64(two.certPem), key: b64(two.keyPem), Store: 'default' }],
      },
      empty: { Account: { Email: '' }, Certificates: null },
    };
    const scan = parseAcmeJson(JSON.stringify(file), '/letsencrypt/acme.json');
    expect(scan.failures).toEqual([]);
    expect(scan.candidates.map((c) => [c.source, c.name, c.location])).toEqual([
      ['acme:letsencrypt/one.test', 'one.test', '/letsencrypt/acme.json (resolver "letsencrypt", domain one.test)'],
      ['acme:dns-cloudflare/*.two.test', '*.two.test', '/letsencrypt/acme.json (resolver "dns-cloudflare", domain *.two.test)'],
    ]);
    expect(scan.candidates[0]?.certPem).toBe(one.certPem + ca.certPem);
    expect(scan.candidates[1]?.keyPem).toBe(two.keyPem);
  });

  it('treats an empty file as no certificates yet, and broken JSON as the whole file unreadable', () => {
    expect(parseAcmeJson('', 'acme.json')).toEqual({ candidates: [], failures: [] });
    expect(parseAcmeJson('{}', 'acme.json')).toEqual({ candidates: [], failures: [] });
    expect(parseAcmeJson('{"letsencrypt": {"Certif', 'acme.json').fatal?.reason).toMatch(/not valid JSON/);
  });

  it('says plainly when the file is no Traefik store it knows, naming the file and the formats expected', () => {
    for (const text of ['[]', '"text"', '{"certs": [1, 2], "keys": {"a": "b"}}', '{"apiVersion": "v1", "kind": "Secret"}']) {
      const scan = parseAcmeJson(text, '/data/acme.json');
      expect(scan.candidates).toEqual([]);
      expect(scan.fatal?.location).toBe('/data/acme.json');
      expect(scan.fatal?.reason).toMatch(/^not a Traefik certificate store Gatehouse knows: .*; expected Traefik v2\/v3 .*Traefik v1\.7 .*Traefik v1 before 1\.7/);
      expect(scan.fatal?.missing).toBeUndefined();
    }
    expect(parseAcmeJson('{"certs": [1], "keys": 2}', 'acme.json').fatal?.reason).toContain('none of its keys ("certs", "keys") holds "Certificates" or "Account"');
  });

  it('reports an entry without its certificate or key, and a key that is no resolver beside real ones', () => {
    const scan = parseAcmeJson(
      JSON.stringify({ le: { Certificates: [{ domain: { main: 'x.test' }, certificate: '' }, { certificate: 'x', key: 'y' }] }, stray: { DomainsCertificate: {} }, odd: 'text' }),
      'acme.json',
    );
    expect(scan.fatal).toBeUndefined();
    expect(scan.failures.map((f) => [f.source, f.location, f.reason])).toEqual([
      ['acme:le/x.test', 'acme.json (resolver "le", domain x.test)', 'expected domain.main, certificate and key'],
      ['acme:le/#1', 'acme.json (resolver "le", entry 1)', 'expected domain.main, certificate and key'],
      ['acme:stray', 'acme.json (key "stray")', 'not a certificate resolver (expected {"Account": …, "Certificates": […]} like the other keys)'],
      ['acme:odd', 'acme.json (key "odd")', 'not a certificate resolver (expected {"Account": …, "Certificates": […]} like the other keys)'],
    ]);
  });

  it('reads a resolver named "Certificates" or "Account" as a v2/v3 resolver', () => {
    const entry = { domain: { main: 'one.test' }, certificate: b64(one.certPem), key: b64(one.keyPem) };
    for (const resolver of ['Certificates', 'Account']) {
      const scan = parseAcmeJson(JSON.stringify({ [resolver]: { Account: null, Certificates: [entry] } }), 'acme.json');
      expect(scan.failures).toEqual([]);
      expect(scan.candidates.map((c) => c.source)).toEqual([`acme:${resolver}/one.test`]);
    }
  });

  describe('Traefik v1', () => {
    const account = { Email: 'admin@example.test', Registration: { body: { status: 'valid' }, uri: 'https://acme.invalid/acct/1' }, PrivateKey: 'MIIJ', KeyType: '4096' };

    it('reads v1.7 (Account, Certificates with Domain.Main/SANs and base64 Certificate/Key)', () => {
      const file = {
        Account: account,
        Certificates: [
          { Domain: { Main: 'one.test', SANs: ['www.one.test'] }, Certificate: b64(one.certPem + ca.certPem), Key: b64(one.keyPem) },
          { Domain: { Main: '*.two.test', SANs: null }, Certificate: b64(two.certPem), Key: b64(two.keyPem) },
        ],
        HTTPChallenges: {},
        TLSChallenges: {},
      };
      const scan = parseAcmeJson(JSON.stringify(file), '/etc/traefik/acme.json');
      expect(scan.failures).toEqual([]);
      expect(scan.fatal).toBeUndefined();
      expect(scan.candidates.map((c) => [c.source, c.name, c.location])).toEqual([
        ['acme:one.test', 'one.test', '/etc/traefik/acme.json (Traefik v1, domain one.test)'],
        ['acme:*.two.test', '*.two.test', '/etc/traefik/acme.json (Traefik v1, domain *.two.test)'],
      ]);
      expect(scan.candidates[0]?.certPem).toBe(one.certPem + ca.certPem);
      expect(scan.candidates[0]?.keyPem).toBe(one.keyPem);
      expect(scan.candidates[1]?.certPem).toBe(two.certPem);
    });

    it('matches field names regardless of case, as Traefik (Go) reads them', () => {
      // The spelling traefik-certs-dumper's own v1 fixture uses.
      const file = { Certificates: [{ domain: { main: 'one.test' }, certificate: b64(one.certPem), key: b64(one.keyPem), Store: 'default' }] };
      expect(parseAcmeJson(JSON.stringify(file), 'acme.json').candidates.map((c) => [c.source, c.keyPem])).toEqual([['acme:one.test', one.keyPem]]);
    });

    it('treats a v1.7 file without certificates yet as empty', () => {
      expect(parseAcmeJson(JSON.stringify({ Account: account, Certificates: null, HTTPChallenges: {}, TLSChallenges: {} }), 'acme.json')).toEqual({ candidates: [], failures: [] });
      expect(parseAcmeJson(JSON.stringify({ Account: account }), 'acme.json')).toEqual({ candidates: [], failures: [] });
    });

    it('reads v1 before 1.7 (the account itself, with DomainsCertificate.Certs)', () => {
      const file = {
        ...account,
        DomainsCertificate: {
          Certs: [
            {
              Domains: { Main: 'one.test', SANs: ['www.one.test'] },
              Certificate: { Domain: 'one.test', CertURL: 'https://acme.invalid/cert/1', CertStableURL: '', PrivateKey: b64(one.keyPem), Certificate: b64(one.certPem) },
            },
            { Domains: { Main: 'broken.test' }, Certificate: null },
          ],
        },
        ChallengeCerts: {},
      };
      const scan = parseAcmeJson(JSON.stringify(file), 'acme.json');
      expect(scan.candidates.map((c) => [c.source, c.certPem, c.keyPem])).toEqual([['acme:one.test', one.certPem, one.keyPem]]);
      expect(scan.failures.map((f) => [f.source, f.reason])).toEqual([['acme:broken.test', 'expected Domains.Main, Certificate.Certificate and Certificate.PrivateKey']]);
    });
  });
});
