import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.ts';

/**
 * What a public-only Gatehouse keeps in memory: the built `gatehouse serve` with a routes file,
 * started as the image starts it, lists every module it loaded (through a preloaded hook) and
 * the size of its young generation once ready. Each library named here was measured as a few MB
 * of every idle instance's private memory (bench/README.md, "Experiments"); loading one of them
 * again at start fails this test, as does a young generation grown during start.
 */

const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist/cli/main.js');

const HOOK = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => {
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  writeFileSync(process.env.MODULES_FILE, JSON.stringify({ loaded, builtins: process.moduleLoadList, newSpaceMB: newSpace.space_size / 2 ** 20 }));
});
`;

async function waitReady(url: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('gatehouse exited before it was ready');
    const ready = await fetch(url).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200`);
}

describe('a public-only Gatehouse at idle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-idle-modules-'));
  let report: { loaded: string[]; builtins: string[]; newSpaceMB: number };

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` first');
    const hook = join(dir, 'hook.mjs');
    writeFileSync(hook, HOOK);
    const routes = join(dir, 'routes.yaml');
    writeFileSync(routes, 'routes:\n  - from: http://app.idle.test\n    to: http://127.0.0.1:9\n    public: true\n');
    const adminPort = await freePort();
    const modulesFile = join(dir, 'modules.json');
    const child = spawn(process.execPath, ['--import', hook, MAIN, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        // The image's young-generation cap: the start must not grow the young generation to it.
        NODE_OPTIONS: '--max-semi-space-size=8',
        GATEHOUSE_CONFIG: routes,
        GATEHOUSE_DATA_DIR: dir,
        GATEHOUSE_LISTEN: `127.0.0.1:${await freePort()}`,
        GATEHOUSE_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
        GATEHOUSE_LABEL_PREFIX: `ghidle${process.pid}`,
        DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
        MODULES_FILE: modulesFile,
      },
      stdio: 'ignore',
    });
    let exited = false;
    const done = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    try {
      await waitReady(`http://127.0.0.1:${adminPort}/healthz`, () => exited);
      // A scrape of /metrics is part of idle life; it must not load a metrics library either.
      expect((await fetch(`http://127.0.0.1:${adminPort}/metrics`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await done;
    }
    report = JSON.parse(readFileSync(modulesFile, 'utf8')) as typeof report;
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const packagesLoaded = () => new Set(report.loaded.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter((name) => name !== undefined));

  it('loads the request path and nothing it never calls', () => {
    const packages = packagesLoaded();
    expect(packages.has('fastify')).toBe(true);
    expect(packages.has('undici')).toBe(true);
    for (const name of ['prom-client', '@opentelemetry/api', 'ajv', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'openid-client', 'jose', 'oidc-provider', 'pino-pretty', 'qrcode', '@simplewebauthn/server', 'ioredis', 'ws']) {
      expect(packages.has(name), `${name} is loaded at start`).toBe(false);
    }
  });

  // Node's bundled undici comes in through an ES import of node:http (util/node-http.ts says why).
  it("loads undici's dispatcher only: not its fetch, cache, cookie or WebSocket layers, nor Node's bundled copy", () => {
    const undiciFiles = report.loaded.filter((url) => url.includes('/node_modules/undici/'));
    expect(undiciFiles.some((url) => url.endsWith('/undici/lib/dispatcher/agent.js'))).toBe(true);
    expect(undiciFiles.filter((url) => /\/undici\/(index\.js|lib\/web\/)/.test(url))).toEqual([]);
    expect(report.builtins.filter((name) => name.includes('deps/undici'))).toEqual([]);
  });

  it('keeps the young generation far below its cap once started', () => {
    // 16 MB (two 8 MB semi-spaces) is what the start used to grow it to; 1–2 MB semi-spaces now.
    expect(report.newSpaceMB).toBeLessThanOrEqual(4);
  });
});
