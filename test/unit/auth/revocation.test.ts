import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRevocationList, type RevocationList } from '../../../src/auth/revocation.ts';
import { isGatehouseError } from '../../../src/errors.ts';
import { NOW, NOW_S } from './fixtures.ts';

const dirs: string[] = [];
const lists: RevocationList[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-revoked-'));
  dirs.push(dir);
  return dir;
}
function open(dataDir: string, clock: { now: number }, pruneEveryMs?: number): RevocationList {
  const list = openRevocationList({ dataDir, now: () => clock.now, ...(pruneEveryMs ? { pruneEveryMs } : {}) });
  lists.push(list);
  return list;
}
afterEach(async () => {
  for (const list of lists.splice(0)) await list.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('revocation list', () => {
  it('remembers revoked ids in memory at once', () => {
    const list = open(tempDir(), { now: NOW });
    expect(list.isRevoked('a')).toBe(false);
    list.revoke('a', NOW_S + 60);
    expect(list.isRevoked('a')).toBe(true);
    expect(list.isRevoked('b')).toBe(false);
  });

  it('persists to revoked.json (0600) and reloads after a restart', async () => {
    const dataDir = tempDir();
    const clock = { now: NOW };
    const list = open(dataDir, clock);
    list.revoke('a', NOW_S + 60);
    list.revoke('b', NOW_S + 120);
    await list.flush();
    const path = join(dataDir, 'revoked.json');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ a: NOW_S + 60, b: NOW_S + 120 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await list.close();
    const reopened = open(dataDir, clock);
    expect(reopened.isRevoked('a')).toBe(true);
    expect(reopened.isRevoked('b')).toBe(true);
  });

  it('drops expired entries on load', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'revoked.json'), JSON.stringify({ old: NOW_S - 1, live: NOW_S + 10 }));
    const list = open(dataDir, { now: NOW });
    expect(list.isRevoked('old')).toBe(false);
    expect(list.isRevoked('live')).toBe(true);
    expect(list.size).toBe(1);
  });

  it('prunes expired entries and saves the smaller list', async () => {
    const dataDir = tempDir();
    const clock = { now: NOW };
    const list = open(dataDir, clock);
    list.revoke('short', NOW_S + 10);
    list.revoke('long', NOW_S + 100);
    clock.now = NOW + 10_000;
    expect(list.prune()).toBe(1);
    expect(list.isRevoked('short')).toBe(false);
    expect(list.isRevoked('long')).toBe(true);
    await list.flush();
    expect(JSON.parse(readFileSync(join(dataDir, 'revoked.json'), 'utf8'))).toEqual({ long: NOW_S + 100 });
  });

  it('prunes periodically', async () => {
    const clock = { now: NOW };
    const list = open(tempDir(), clock, 20);
    list.revoke('short', NOW_S + 1);
    clock.now = NOW + 2_000;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(list.size).toBe(0);
  });

  it('ignores revoking an already expired session', async () => {
    const dataDir = tempDir();
    const list = open(dataDir, { now: NOW });
    list.revoke('gone', NOW_S);
    expect(list.isRevoked('gone')).toBe(false);
    await list.flush();
    expect(() => statSync(join(dataDir, 'revoked.json'))).toThrow();
  });

  it('keeps every revoke of a burst on disk', async () => {
    const dataDir = tempDir();
    const list = open(dataDir, { now: NOW });
    for (let i = 0; i < 50; i++) list.revoke(`sid-${i}`, NOW_S + 60);
    await list.flush();
    expect(Object.keys(JSON.parse(readFileSync(join(dataDir, 'revoked.json'), 'utf8')))).toHaveLength(50);
  });

  it('refuses to start from a corrupt file (signed-out sessions must not come back)', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'revoked.json'), '{"a": "not a number"}');
    let error: unknown;
    try {
      open(dataDir, { now: NOW });
    } catch (caught) {
      error = caught;
    }
    expect(isGatehouseError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('revoked.json');
  });

  it('reports a failed save through flush and onError, and keeps working in memory', async () => {
    const dataDir = tempDir();
    const errors: unknown[] = [];
    const list = openRevocationList({ dataDir, now: () => NOW, onError: (e) => errors.push(e) });
    lists.push(list);
    // A directory where the file should go: the rename fails even for root.
    mkdirSync(join(dataDir, 'revoked.json'));
    list.revoke('a', NOW_S + 60);
    await expect(list.flush()).rejects.toThrow(/revoked\.json: cannot save signed-out sessions/);
    expect(errors).toHaveLength(1);
    expect(isGatehouseError(errors[0], 'INTERNAL')).toBe(true);
    // The failure was reported once; later saves are attempted again.
    rmSync(join(dataDir, 'revoked.json'), { recursive: true });
    list.revoke('b', NOW_S + 60);
    await list.flush();
    expect(Object.keys(JSON.parse(readFileSync(join(dataDir, 'revoked.json'), 'utf8')))).toEqual(['a', 'b']);
    expect(list.isRevoked('a')).toBe(true);
  });
});
