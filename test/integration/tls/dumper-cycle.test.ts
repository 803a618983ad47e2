import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/http.ts';
import { createTestCa, type IssuedCertificate } from '../../helpers/test-ca.ts';
import { spec, startEcho, table, type Echo } from '../proxy/support.ts';
import { handshake, startTlsProxy, type TlsHarness } from './support.ts';

/**
 * traefik-certs-dumper with its clean option empties the output folder, then writes every
 * certificate again. Gatehouse must keep presenting the last good certificate through that
 * gap, however long it lasts, and drop a name only once it has been gone for the grace period.
 */
const ca = createTestCa();
const pairs: Record<string, IssuedCertificate> = { 'app.test': ca.issue({ names: ['app.test'] }), 'other.test': ca.issue({ names: ['other.test'] }) };

let echo: Echo;
beforeAll(async () => {
  echo = await startEcho();
});
afterAll(async () => {
  await echo.close();
});

/** What the dumper writes (its default layout): certs/DOMAIN.crt, private/DOMAIN.key, private/letsencrypt.key. */
async function dump(dir: string): Promise<void> {
  await mkdir(join(dir, 'certs'), { recursive: true });
  await mkdir(join(dir, 'private'), { recursive: true });
  for (const [domain, pair] of Object.entries(pairs)) {
    await writeFile(join(dir, 'certs', `${domain}.crt`), pair.certPem);
    await writeFile(join(dir, 'private', `${domain}.key`), pair.keyPem, { mode: 0o600 });
  }
  await writeFile(join(dir, 'private', 'letsencrypt.key'), '-----BEGIN EC PRIVATE KEY-----\nthe ACME account key\n-----END EC PRIVATE KEY-----\n');
}

/** The dumper's clean step: every entry of the output folder removed, the folder itself kept. */
async function clean(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
}

interface Loop {
  /** Handshakes finished so far. */
  count(): number;
  stop(): Promise<{ ok: number; failures: string[] }>;
}

/** Verified handshakes, one after another over both names, until stopped (bounded in count and time). */
function handshakeLoop(port: number): Loop {
  let stopped = false;
  let ok = 0;
  const failures: string[] = [];
  const names = Object.keys(pairs);
  const done = (async () => {
    const deadline = Date.now() + 60_000;
    for (let i = 0; !stopped && i < 20_000 && Date.now() < deadline; i += 1) {
      const name = names[i % names.length] as string;
      try {
        const result = await handshake(port, name, ca.certPem);
        if (result.authorized && result.fingerprint256 === pairs[name]?.fingerprint256) ok += 1;
        else failures.push(`${name}: ${result.authorizationError ?? `presented ${result.fingerprint256}`}`);
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return {
    count: () => ok + failures.length,
    async stop() {
      stopped = true;
      await done;
      return { ok, failures };
    },
  };
}

describe('a dumper folder emptied and rewritten', () => {
  let dir: string;
  let gh: TlsHarness;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-tls-dumper-'));
    await dump(dir);
  });
  afterEach(async () => {
    await gh?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const lines = (msg: RegExp) => () => gh.logLines().filter((line) => msg.test(String(line.msg)));
  const gone = lines(/^certificate files for .* are gone/);
  const back = lines(/^certificate files are back/);

  it('never fails a handshake through the clean cycle, and takes the rewritten files back without reloading them', async () => {
    gh = await startTlsProxy({ table: table(spec({ origin: echo.origin, hosts: ['app.test'] })), env: { GATEHOUSE_TLS_DIR: dir } });
    const loop = handshakeLoop(gh.httpsPort);
    await waitFor(() => (loop.count() >= 20 ? true : undefined), 'handshakes before the cycle');

    await clean(dir);
    // The watcher has seen the empty folder and rescanned it (well past its debounce): both are reported gone...
    await waitFor(() => (gone().length >= 2 ? true : undefined), 'the empty folder to be rescanned');
    // ...and handshakes go on against it for a while.
    const atEmpty = loop.count();
    await waitFor(() => (loop.count() >= atEmpty + 30 ? true : undefined), 'handshakes while the folder is empty');
    await dump(dir);
    await waitFor(() => (back().length >= 2 ? true : undefined), 'the rewritten files to be seen');
    const afterBack = loop.count();
    await waitFor(() => (loop.count() >= afterBack + 10 ? true : undefined), 'handshakes after the cycle');

    const result = await loop.stop();
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThanOrEqual(70);
    expect(gone().map((line) => line.source).sort()).toEqual(['dir:certs/app.test.crt', 'dir:certs/other.test.crt']);
    expect(gone()[0]?.level).toBe(30);
    // The same files came back: no certificate was loaded again, none dropped, and at no point was the listener without one.
    const messages = gh.logLines().map((line) => String(line.msg));
    expect(messages.filter((msg) => msg === 'certificate loaded')).toHaveLength(2);
    expect(messages.filter((msg) => /no longer served|no usable TLS certificate/.test(msg))).toEqual([]);
    expect(gh.certificates.list().map((c) => c.names[0]).sort()).toEqual(['app.test', 'other.test']);
  });

  it('keeps serving when the whole folder is removed and made again (older dumper versions)', async () => {
    gh = await startTlsProxy({ table: table(spec({ origin: echo.origin, hosts: ['app.test'] })), env: { GATEHOUSE_TLS_DIR: dir } });
    const loop = handshakeLoop(gh.httpsPort);
    await rm(dir, { recursive: true, force: true });
    await waitFor(() => (gone().length >= 2 ? true : undefined), 'the missing folder to be noticed');
    const atEmpty = loop.count();
    await waitFor(() => (loop.count() >= atEmpty + 20 ? true : undefined), 'handshakes while the folder is missing');
    await dump(dir);
    await waitFor(() => (back().length >= 2 ? true : undefined), 'the folder to be read again');
    const result = await loop.stop();
    expect(result.failures).toEqual([]);
  });

  it('drops a name that stays absent past the grace period, with a warning, and serves the rest', async () => {
    gh = await startTlsProxy({
      table: table(spec({ origin: echo.origin, hosts: ['app.test'] })),
      env: { GATEHOUSE_TLS_DIR: dir, GATEHOUSE_TLS_ABSENT_GRACE: '400ms', GATEHOUSE_TLS_DEFAULT_CERT: 'other.test' },
    });
    await unlink(join(dir, 'certs', 'app.test.crt'));
    await unlink(join(dir, 'private', 'app.test.key'));
    const missed = await waitFor(() => gone()[0], 'the absence to be noticed');
    // Inside the grace period it is still presented.
    expect(gh.certificates.list().map((c) => c.names[0]).sort()).toEqual(['app.test', 'other.test']);

    // No file event follows: the grace period running out on its own must drop it.
    const dropped = await waitFor(() => lines(/^certificate for app\.test no longer served/)()[0], 'the drop warning');
    expect(dropped.level).toBe(40);
    expect(dropped.msg).toMatch(/its files have been gone for \d+ s \(longer than the grace period for absent certificates\)/);
    expect(dropped.source).toBe('dir:certs/app.test.crt');
    expect(Date.parse(String(dropped.time)) - Date.parse(String(missed.time))).toBeGreaterThanOrEqual(400);
    expect(gh.certificates.list().map((c) => c.names[0])).toEqual(['other.test']);
    expect((await handshake(gh.httpsPort, 'app.test')).fingerprint256).toBe(pairs['other.test']?.fingerprint256);
  });
});
