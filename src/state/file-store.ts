import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatehouseError } from '../errors.ts';
import { ensurePrivateDir, replaceFile } from '../util/atomic-file.ts';
import { MAP_NAME, type ExpiringMap, type MapOptions, type StateStore } from './expiring-map.ts';
import { createMemoryMap, type MemoryMap, type Stored } from './memory-map.ts';

/**
 * The state store on one machine: each map in `<dir>/<name>.json`, replaced atomically after
 * changes (a short delay gathers bursts into one write), loaded at start with expired entries
 * dropped. A file that cannot be read stops the start with a message naming it: starting
 * without it would forget used sign-in links and locks without anyone noticing.
 */

export interface FileStateOptions {
  dir: string;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Delay that gathers changes into one write; default 50 ms. */
  writeDelayMs?: number;
  /** Told about a failed save; the maps keep working in memory. */
  onError?: (error: GatehouseError) => void;
}

const FORMAT = 1;

export function openFileState(options: FileStateOptions): StateStore {
  const now = options.now ?? Date.now;
  const delay = options.writeDelayMs ?? 50;
  const maps = new Map<string, { map: MemoryMap<unknown>; save: () => Promise<void> }>();
  let closed = false;

  function open<V>(name: string, mapOptions: MapOptions<V>): ExpiringMap<V> {
    const existing = maps.get(name);
    if (existing !== undefined) return existing.map as unknown as ExpiringMap<V>;
    if (!MAP_NAME.test(name)) throw new GatehouseError('INTERNAL', `state map name "${name}" is not plain lowercase`);
    const path = join(options.dir, `${name}.json`);
    let writing: Promise<void> = Promise.resolve();
    let pending = false;
    let timer: NodeJS.Timeout | undefined;
    let failure: GatehouseError | undefined;

    const write = (): Promise<void> => {
      timer = undefined;
      writing = writing.then(async () => {
        if (!pending) return;
        pending = false;
        try {
          ensurePrivateDir(options.dir);
          const entries = map.snapshot().map(([key, entry]) => [key, entry.value, entry.expiresAt]);
          await replaceFile(path, `${JSON.stringify({ format: FORMAT, entries })}\n`);
        } catch (error) {
          failure = new GatehouseError('INTERNAL', `${path}: cannot save ${name}`, { cause: error });
          options.onError?.(failure);
        }
      });
      return writing;
    };

    const save = async (): Promise<void> => {
      if (timer !== undefined) clearTimeout(timer);
      await write();
      if (failure !== undefined) {
        const error = failure;
        failure = undefined;
        throw error;
      }
    };

    const map: MemoryMap<V> = createMemoryMap<V>({
      maxEntries: mapOptions.maxEntries,
      now,
      onChange() {
        pending = true;
        if (timer === undefined && !closed) {
          timer = setTimeout(write, mapOptions.writeDelayMs ?? delay);
          timer.unref();
        }
      },
      flush: save,
    });
    map.load(load(path, mapOptions.parse));
    maps.set(name, { map: map as MemoryMap<unknown>, save });
    return map;
  }

  return {
    map: open,
    async close() {
      closed = true;
      await Promise.all([...maps.values()].map(({ save }) => save()));
    },
  };
}

function load<V>(path: string, parse: (stored: unknown) => V | undefined): Array<[string, Stored<V>]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new GatehouseError('CONFIG_INVALID', `${path}: cannot read this state file (${(error as NodeJS.ErrnoException).code ?? 'error'}); make it readable by Gatehouse`, { cause: error });
  }
  const problem = `${path}: not a Gatehouse state file; delete it to start over (used sign-in links and sign-in locks it held are then forgotten)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GatehouseError('CONFIG_INVALID', problem, { cause: error });
  }
  const entries = (parsed as { format?: unknown; entries?: unknown } | null)?.entries;
  if ((parsed as { format?: unknown } | null)?.format !== FORMAT || !Array.isArray(entries)) throw new GatehouseError('CONFIG_INVALID', problem);
  const result: Array<[string, Stored<V>]> = [];
  for (const item of entries) {
    if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== 'string' || typeof item[2] !== 'number') throw new GatehouseError('CONFIG_INVALID', problem);
    const value = parse(item[1]);
    if (value !== undefined) result.push([item[0], { value, expiresAt: item[2] }]);
  }
  return result;
}
