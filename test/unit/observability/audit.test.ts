import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditEvent } from '../../../src/observability/audit.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refusal = (path: string): AuditEvent => ({
  event: 'refused',
  via: 'proxy',
  route: 'compose:nas/wiki/default',
  host: 'wiki.example.com',
  method: 'GET',
  path,
  user: 'bob@example.com',
  sub: 'bob',
  reason: 'denied',
  entry: 'group:kids',
  ip: '192.0.2.7',
  requestId: 'r1',
});

const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('audit stream', () => {
  it('writes each event as one JSON line with its time, and counts it', async () => {
    const counted: string[] = [];
    const file = join(dir, 'data', 'audit.jsonl');
    const audit = createAuditLog({ file, now: () => Date.UTC(2026, 0, 2, 3, 4, 5), onRecord: (event) => counted.push(event), onError: (error) => expect.fail(error.message) });
    audit.record({ event: 'sign_in', user: 'bob@example.com', sub: 'bob' });
    audit.record(refusal('/admin'));
    audit.record({ event: 'sign_out', user: 'bob@example.com', sub: 'bob', host: 'wiki.example.com' });
    await audit.flush();
    expect(await lines(file)).toEqual([
      { time: '2026-01-02T03:04:05.000Z', event: 'sign_in', user: 'bob@example.com', sub: 'bob' },
      { time: '2026-01-02T03:04:05.000Z', ...refusal('/admin') },
      { time: '2026-01-02T03:04:05.000Z', event: 'sign_out', user: 'bob@example.com', sub: 'bob', host: 'wiki.example.com' },
    ]);
    expect(counted).toEqual(['sign_in', 'refused', 'sign_out']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps the latest refusals for the status page, newest first and bounded', async () => {
    const audit = createAuditLog({ file: join(dir, 'audit.jsonl'), now: Date.now, recentRefusals: 3, onError: (error) => expect.fail(error.message) });
    for (let i = 0; i < 5; i += 1) audit.record(refusal(`/p${i}`));
    audit.record({ event: 'sign_in', user: 'a', sub: 'a' });
    expect(audit.recentRefusals().map((r) => (r.event === 'refused' ? r.path : r.event))).toEqual(['/p4', '/p3', '/p2']);
    await audit.close();
  });

  it('rotates past its size, keeping one previous file', async () => {
    const file = join(dir, 'audit.jsonl');
    const audit = createAuditLog({ file, now: Date.now, maxBytes: 1000, onError: (error) => expect.fail(error.message) });
    for (let i = 0; i < 30; i += 1) {
      audit.record(refusal(`/page-${i}`));
      await audit.flush();
    }
    const current = await lines(file);
    const previous = await lines(`${file}.1`);
    expect((await stat(file)).size).toBeLessThanOrEqual(1000);
    expect(previous.length).toBeGreaterThan(0);
    // The newest event is in the current file, and nothing in between was lost.
    expect(current.at(-1)?.path).toBe('/page-29');
    const kept = [...previous, ...current].map((line) => line.path);
    expect(kept).toEqual(kept.slice().sort((a, b) => Number(String(a).split('-')[1]) - Number(String(b).split('-')[1])));
  });

  it('reports a data dir it cannot write to, and keeps going', async () => {
    const errors: string[] = [];
    const blocker = join(dir, 'not-a-dir');
    await (await import('node:fs/promises')).writeFile(blocker, 'x');
    const audit = createAuditLog({ file: join(blocker, 'audit.jsonl'), now: Date.now, onError: (error) => errors.push(error.message) });
    audit.record({ event: 'sign_in', user: 'a', sub: 'a' });
    await audit.flush();
    expect(errors[0]).toMatch(/cannot write the audit stream/);
    expect(() => audit.record({ event: 'sign_in', user: 'b', sub: 'b' })).not.toThrow();
    await audit.close();
  });
});
