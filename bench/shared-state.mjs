import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Shared state through a real redis-server (Debian's), using the built code in dist/: how long a
 * sign-out made on one replica takes to be seen by another (revoke on A → `isRevoked` true on
 * B, polled every 0.1 ms), and how long the claim of a used sign-in link takes (`add` + `flush`,
 * one SET NX round trip). The signed-in path itself issues no Redis command at all (see
 * test/integration/shared-state/replicas.test.ts, which counts them).
 *
 *   npm run build && node bench/shared-state.mjs [count]
 */

const root = resolve(import.meta.dirname, '..');
const count = Number(process.argv[2] ?? 500);
const { openSharedState } = await import(pathToFileURL(join(root, 'dist/state/index.js')).href);

const port = await new Promise((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => done(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'gh-bench-redis-'));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
const open = () => openSharedState({ url, prefix: 'bench:' });
let a;
for (let attempt = 0; a === undefined; attempt += 1) {
  try {
    a = await open();
  } catch (error) {
    if (attempt > 50) throw error;
    await new Promise((done) => setTimeout(done, 100));
  }
}
const b = await open();
const parse = (value) => (typeof value === 'number' ? value : undefined);
const revokedA = a.map('revocations', { maxEntries: 1_000_000, parse });
const revokedB = b.map('revocations', { maxEntries: 1_000_000, parse });
const usedA = a.map('used-handoffs', { maxEntries: 100_000, parse });

const seen = [];
for (let i = 0; i < count; i += 1) {
  const sid = `sid-${i}`;
  const start = process.hrtime.bigint();
  revokedA.set(sid, 1, Date.now() + 3_600_000);
  while (!revokedB.has(sid)) await new Promise((done) => setTimeout(done, 0));
  seen.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const claims = [];
for (let i = 0; i < count; i += 1) {
  const start = process.hrtime.bigint();
  usedA.add(`link-${i}`, 1, Date.now() + 600_000);
  await usedA.flush();
  claims.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const pct = (values, p) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))].toFixed(2);
console.log(JSON.stringify({
  signOutSeenOnOtherReplicaMs: { p50: pct(seen, 50), p95: pct(seen, 95), max: pct(seen, 100) },
  usedLinkClaimMs: { p50: pct(claims, 50), p95: pct(claims, 95), max: pct(claims, 100) },
  count,
}));
await Promise.all([a.close(), b.close()]);
redis.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
