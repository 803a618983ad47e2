import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { waitFor } from '../helpers/http.ts';
import { startEcho, type Echo } from './proxy/support.ts';

/**
 * Pomerium's own ways of handing over routes, used unchanged with a real Gatehouse and a real
 * upstream: the POLICY variable (base64 of a bare list), a config.yaml with its global settings
 * and the older policy: key, and `gatehouse routes` on the same setup.
 */
const run = promisify(execFile);
const b64 = (text: string) => Buffer.from(text).toString('base64');

let echo: Echo;
let dir: string;
let configFile: string;
let env: Record<string, string>;

beforeAll(async () => {
  echo = await startEcho();
  dir = await mkdtemp(join(tmpdir(), 'gh-pomerium-'));
  configFile = join(dir, 'config.yaml');
  await writeFile(
    configFile,
    `cookie_name: _pomerium
shared_secret: do-not-echo-me
log_level: debug
policy:
  - from: https://from-file.corp.example
    to: ${echo.origin}
    allow_public_unauthenticated_access: true
`,
  );
  // Seed 002's way: the policy file, base64-encoded into POLICY.
  const policy = `- from: https://from-env.corp.example\n  to: ${echo.origin}\n  allow_public_unauthenticated_access: true\n`;
  env = { GATEHOUSE_CONFIG: configFile, POLICY: b64(policy), GATEHOUSE_LABEL_PREFIX: `ghpom${process.pid}` };
});
afterAll(async () => {
  await echo.close();
  await rm(dir, { recursive: true, force: true });
});

function get(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/hello', headers: { host, 'x-forwarded-proto': 'https' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('routes from Pomerium configuration', () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startTestGatehouse(env);
  });
  afterAll(async () => {
    await gh.stop();
  });

  it('serves the routes of POLICY and of the policy: key together', async () => {
    await waitFor(async () => ((await get(gh.proxyPort, 'from-env.corp.example')) === 200 ? true : undefined), 'the POLICY route');
    expect(await get(gh.proxyPort, 'from-file.corp.example')).toBe(200);
    expect(echo.received.at(-1)?.url).toBe('/hello');
    expect(gh.logs.find((l) => l.msg === 'routes loaded from the POLICY variable')).toMatchObject({ routes: 1, issues: 0 });
  });

  it('logs each Pomerium global setting once, as mapped or ignored, without its value, and rejects nothing', () => {
    const notes = gh.logs.filter((l) => String(l.msg).startsWith('Pomerium setting'));
    expect(notes.map((l) => [l.setting, l.outcome, l.level])).toEqual([
      ['log_level', 'mapped', 30],
      ['cookie_name', 'ignored', 40],
      ['shared_secret', 'ignored', 40],
    ]);
    expect(JSON.stringify(gh.logs)).not.toContain('do-not-echo-me');
    expect(gh.logs.filter((l) => String(l.msg).startsWith('route rejected'))).toEqual([]);
  });
});

describe('gatehouse routes', () => {
  const routes = (extra: Record<string, string>) =>
    run(process.execPath, ['dist/cli/main.js', 'routes', '--json'], { env: { ...process.env, ...extra } }).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it('exits 0 when every route loaded and the only remarks are mapped or ignored Pomerium settings', async () => {
    const result = await routes(env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { routes: Array<{ urls: string[]; sources: unknown }>; rejected: unknown[] };
    expect(report.rejected).toEqual([]);
    expect(report.routes.flatMap((r) => r.urls).sort()).toEqual(['https://from-env.corp.example/', 'https://from-file.corp.example/']);
    expect(result.stderr).toContain(`gatehouse routes: Pomerium setting ${configFile}: cookie_name ignored: Gatehouse names its own cookies`);
    expect(result.stderr).toContain(`gatehouse routes: Pomerium setting ${configFile}: log_level read as GATEHOUSE_LOG_LEVEL`);
    expect(result.stderr).not.toContain('do-not-echo-me');
  });

  it('exits 1 when a route is refused, naming it', async () => {
    const broken = `- from: https://broken.corp.example\n  to: ${echo.origin}\n  allowed_users: [not-an-email@]\n`;
    const result = await routes({ POLICY: b64(broken), GATEHOUSE_LABEL_PREFIX: env.GATEHOUSE_LABEL_PREFIX as string });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { rejected: Array<{ message: string }> };
    expect(report.rejected.map((r) => r.message)).toEqual([expect.stringMatching(/^POLICY:3:3: policy\[0\]\.allowed_users/)]);
  });

  it('refuses a POLICY that is not base64 with one line saying what to do', async () => {
    const result = await routes({ POLICY: '- from: https://a.corp.example', GATEHOUSE_LABEL_PREFIX: env.GATEHOUSE_LABEL_PREFIX as string });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected base64 of the policy YAML or JSON, as Pomerium reads it (e.g. POLICY=$(base64 -w0 policy.yaml))');
  });
});
