import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGatehouseError } from '../../../src/errors.ts';
import { openFileState, openMemoryState } from '../../../src/state/index.ts';

const parseNumber = (stored: unknown) => (typeof stored === 'number' ? stored : undefined);

let dir: string;
let time: number;
const now = () => time;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-state-'));
  time = 1_700_000_000_000;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('file state', () => {
  it('keeps entries across a reopen, and drops the ones that expired meanwhile', async () => {
    const first = openFileState({ dir, now });
    const map = first.map('counts', { maxEntries: 10, parse: parseNumber });
    map.set('short', 1, time + 1_000);
    map.set('long', 2, time + 60_000);
    expect(map.add('long', 3, time + 60_000)).toBe(false);
    await first.close();
    expect((await stat(join(dir, 'counts.json'))).mode & 0o777).toBe(0o600);

    time += 5_000;
    const second = openFileState({ dir, now }).map('counts', { maxEntries: 10, parse: parseNumber });
    expect(second.get('short')).toBeUndefined();
    expect(second.get('long')).toBe(2);
    expect(second.size).toBe(1);
  });

  it('has every change on disk once flush resolves', async () => {
    const state = openFileState({ dir, now, writeDelayMs: 60_000 });
    const map = state.map('used', { maxEntries: 10, parse: parseNumber });
    expect(map.add('jti-1', 1, time + 60_000)).toBe(true);
    await map.flush();
    const stored = JSON.parse(await readFile(join(dir, 'used.json'), 'utf8')) as { entries: unknown[] };
    expect(stored.entries).toEqual([['jti-1', 1, time + 60_000]]);
    await state.close();
  });

  it('refuses to start over a damaged file, naming it and what to do', async () => {
    await writeFile(join(dir, 'used.json'), '{"format":1,"entries":[["a"]]}');
    try {
      openFileState({ dir, now }).map('used', { maxEntries: 10, parse: parseNumber });
      expect.unreachable();
    } catch (error) {
      expect(isGatehouseError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain(join(dir, 'used.json'));
      expect((error as Error).message).toContain('delete it to start over');
    }
    await writeFile(join(dir, 'other.json'), 'not json');
    expect(() => openFileState({ dir, now }).map('other', { maxEntries: 10, parse: parseNumber })).toThrow(/not a Gatehouse state file/);
  });

  it('drops stored values that no longer parse, keeping the rest', async () => {
    await writeFile(join(dir, 'used.json'), JSON.stringify({ format: 1, entries: [['a', 'text', time + 1000], ['b', 2, time + 1000]] }));
    const map = openFileState({ dir, now }).map('used', { maxEntries: 10, parse: parseNumber });
    expect([...map.entries()]).toEqual([['b', 2]]);
  });

  it('refuses map names that are not plain', () => {
    expect(() => openFileState({ dir, now }).map('../escape', { maxEntries: 10, parse: parseNumber })).toThrow(/not plain/);
  });
});

describe('bounded maps', () => {
  it('when full, drop the expired first, then those that expire soonest', () => {
    const map = openMemoryState({ now }).map('bounded', { maxEntries: 10, parse: parseNumber });
    map.set('long-lived', 0, time + 3_600_000);
    for (let i = 0; i < 9; i += 1) map.set(`short-${i}`, i, time + 1_000 + i);
    for (let i = 0; i < 50; i += 1) map.set(`flood-${i}`, i, time + 10_000);
    expect(map.size).toBeLessThanOrEqual(10);
    expect(map.get('long-lived')).toBe(0);
  });

  it('never store what has already expired, and forget entries when they expire', () => {
    const map = openMemoryState({ now }).map('expiry', { maxEntries: 10, parse: parseNumber });
    map.set('past', 1, time);
    expect(map.has('past')).toBe(false);
    expect(map.add('soon', 1, time + 10)).toBe(true);
    time += 10;
    expect(map.get('soon')).toBeUndefined();
    expect(map.add('soon', 2, time + 10)).toBe(true);
  });
});
