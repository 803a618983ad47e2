import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RoutesFileWatcher, watchRoutesFile } from '../../src/config/watch-routes-file.ts';
import type { TranslationResult } from '../../src/routes/spec.ts';

const routesYaml = (...hosts: string[]) =>
  `routes:\n${hosts.map((h, i) => `  - from: https://${h}\n    to: http://127.0.0.1:${9000 + i}\n    allow: "*"\n`).join('')}`;

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const quietly = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('watchRoutesFile (real files)', () => {
  let dir: string;
  let file: string;
  let watcher: RoutesFileWatcher | null;
  let loads: TranslationResult[];
  let errors: string[];

  const start = async (options: { debounceMs?: number } = {}) => {
    watcher = await watchRoutesFile(file, {
      logger: pino({ level: 'silent' }),
      onLoad: (result) => loads.push(result),
      onError: (message) => errors.push(message),
      ...options,
    });
    return watcher;
  };
  const hosts = (result: TranslationResult | undefined) => result?.specs.map((s) => s.hosts[0]);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-routes-'));
    file = path.join(dir, 'gatehouse.yml');
    watcher = null;
    loads = [];
    errors = [];
  });

  afterEach(async () => {
    await watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the file before the factory resolves', async () => {
    await writeFile(file, routesYaml('a.example.com'));
    await start();
    expect(loads.map(hosts)).toEqual([['a.example.com']]);
    expect(errors).toEqual([]);
  });

  it('follows in-place writes, atomic renames, broken saves and fixes', async () => {
    await writeFile(file, routesYaml('a.example.com'));
    await start();

    await writeFile(file, routesYaml('a.example.com', 'b.example.com'));
    await waitFor(() => loads.length === 2, 'the in-place write');
    expect(hosts(loads[1])).toEqual(['a.example.com', 'b.example.com']);

    // What editors and `mv` do: write a temporary file, then rename it over the original.
    const temporary = path.join(dir, '.gatehouse.yml.tmp');
    await writeFile(temporary, routesYaml('c.example.com'));
    await rename(temporary, file);
    await waitFor(() => loads.length === 3, 'the atomic rename');
    expect(hosts(loads[2])).toEqual(['c.example.com']);

    await writeFile(file, 'routes:\n  - from: https://d.example.com\n    to: [http://x\n');
    await waitFor(() => errors.length === 1, 'the broken save to be reported');
    expect(errors[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:1: `));
    await quietly(300);
    expect(loads).toHaveLength(3);

    await writeFile(file, routesYaml('d.example.com'));
    await waitFor(() => loads.length === 4, 'the fixed save');
    expect(hosts(loads[3])).toEqual(['d.example.com']);
    expect(errors).toHaveLength(1);
  });

  it('a fix that restores the last good content is loaded again', async () => {
    await writeFile(file, routesYaml('a.example.com'));
    await start();
    await writeFile(file, 'routes: [\n');
    await waitFor(() => errors.length === 1, 'the broken save');
    await writeFile(file, routesYaml('a.example.com'));
    await waitFor(() => loads.length === 2, 'the restored file');
    expect(hosts(loads[1])).toEqual(['a.example.com']);
  });

  it('a file missing at start is reported once, then loaded when it appears', async () => {
    await start();
    expect(loads).toEqual([]);
    expect(errors).toEqual([`${file}: the file does not exist (it will be loaded when it appears)`]);

    await writeFile(path.join(dir, 'unrelated.txt'), 'x');
    await quietly(300);
    expect(errors).toHaveLength(1);

    await writeFile(file, routesYaml('late.example.com'));
    await waitFor(() => loads.length === 1, 'the file to appear');
    expect(hosts(loads[0])).toEqual(['late.example.com']);
  });

  it('a deleted file is an error; the caller keeps what it had', async () => {
    await writeFile(file, routesYaml('a.example.com'));
    await start();
    await unlink(file);
    await waitFor(() => errors.length === 1, 'the deletion');
    expect(errors[0]).toContain('does not exist');
    expect(loads).toHaveLength(1);
  });

  it('a burst of writes is read once, after it settles', async () => {
    await writeFile(file, routesYaml('a.example.com'));
    await start({ debounceMs: 150 });
    for (let i = 0; i < 5; i++) await writeFile(file, routesYaml(`burst${i}.example.com`));
    await waitFor(() => loads.length >= 2, 'the burst');
    await quietly(400);
    expect(loads.length).toBe(2);
    expect(hosts(loads[1])).toEqual(['burst4.example.com']);
  });

  it('reload() reports the current file even when nothing changed; close() stops watching', async () => {
    await writeFile(file, routesYaml('a.example.com'));
    const w = await start();
    await w.reload();
    expect(loads).toHaveLength(2);
    await w.close();
    watcher = null;
    await writeFile(file, routesYaml('after-close.example.com'));
    await quietly(400);
    expect(loads).toHaveLength(2);
  });
});
