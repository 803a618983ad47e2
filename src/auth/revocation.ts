import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GatehouseError } from '../errors.ts';
import { ensureDataDir, replaceFile } from '../util/data-files.ts';
import type { ExpiringMap } from '../state/index.ts';

/**
 * Signed-out session ids. A sealed cookie stays valid until its `exp`, so sign-out has to be
 * remembered until then: in memory for the request path, in `<dataDir>/revoked.json`
 * (sid → exp in seconds) across restarts. Expired entries are dropped on load and
 * periodically.
 */
export interface RevocationList {
  /** `exp` is the session's expiry in seconds; revoking an expired session does nothing. */
  revoke(sid: string, exp: number): void;
  isRevoked(sid: string): boolean;
  /** Drops expired entries; returns how many were dropped. */
  prune(): number;
  readonly size: number;
  /** Resolves once every revoke so far is on disk. */
  flush(): Promise<void>;
  /** Stops the periodic prune and writes pending changes. */
  close(): Promise<void>;
}

const RevokedFile = z.record(z.string(), z.number());
const PRUNE_EVERY_MS = 10 * 60_000;

export interface RevocationOptions {
  dataDir: string;
  /** Milliseconds since the epoch. */
  now?: () => number;
  pruneEveryMs?: number;
  /** Told about a failed save; the list keeps working in memory. */
  onError?: (error: GatehouseError) => void;
}

export function openRevocationList(options: RevocationOptions): RevocationList {
  const now = options.now ?? Date.now;
  const path = join(options.dataDir, 'revoked.json');
  const revoked = load(path, now());
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;

  const prune = (): number => {
    const nowSeconds = now() / 1000;
    let dropped = 0;
    for (const [sid, exp] of revoked) {
      if (exp <= nowSeconds) {
        revoked.delete(sid);
        dropped++;
      }
    }
    if (dropped > 0) scheduleWrite();
    return dropped;
  };

  // Writes are chained so they land in order; each writes the whole (small) current map. A
  // failed write is reported (onError, then flush) instead of rejecting unobserved.
  let failure: GatehouseError | undefined;
  function scheduleWrite(): void {
    if (dirty) return;
    dirty = true;
    writing = writing.then(async () => {
      dirty = false;
      try {
        ensureDataDir(options.dataDir);
        await replaceFile(path, `${JSON.stringify(Object.fromEntries(revoked))}\n`);
      } catch (error) {
        failure = new GatehouseError('INTERNAL', `${path}: cannot save signed-out sessions`, { cause: error });
        options.onError?.(failure);
      }
    });
  }

  async function flush(): Promise<void> {
    await writing;
    if (failure !== undefined) {
      const error = failure;
      failure = undefined;
      throw error;
    }
  }

  const timer = setInterval(prune, options.pruneEveryMs ?? PRUNE_EVERY_MS);
  timer.unref();

  return {
    revoke(sid, exp) {
      if (exp * 1000 <= now()) return;
      if (revoked.get(sid) === exp) return;
      revoked.set(sid, exp);
      scheduleWrite();
    },
    isRevoked: (sid) => revoked.has(sid),
    prune,
    get size() {
      return revoked.size;
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

function load(path: string, nowMs: number): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new GatehouseError('CONFIG_INVALID', `${path}: cannot read the signed-out sessions file`, { cause: error });
  }
  let parsed: z.infer<typeof RevokedFile>;
  try {
    parsed = RevokedFile.parse(JSON.parse(text));
  } catch (error) {
    // Starting without the list would silently bring signed-out sessions back to life.
    throw new GatehouseError(
      'CONFIG_INVALID',
      `${path}: not a JSON object of session id → expiry; fix it, or delete it to start over (sessions signed out earlier then stay valid until they expire)`,
      { cause: error },
    );
  }
  const nowSeconds = nowMs / 1000;
  return new Map(Object.entries(parsed).filter(([, exp]) => exp > nowSeconds));
}

/**
 * The same list shared by several replicas (GATEHOUSE_REDIS_URL): the map keeps a copy in this
 * process, so `isRevoked` never waits on Redis, and every replica hears of a sign-out within
 * milliseconds. Expired entries leave Redis on their own.
 */
export function sharedRevocationList(map: ExpiringMap<number>, now: () => number = Date.now): RevocationList {
  return {
    revoke(sid, exp) {
      if (exp * 1000 <= now() || map.get(sid) === exp) return;
      map.set(sid, exp, exp * 1000);
    },
    isRevoked: (sid) => map.has(sid),
    prune: () => 0,
    get size() {
      return map.size;
    },
    flush: () => map.flush(),
    close: () => map.flush().catch(() => undefined),
  };
}

export const parseRevocation = (stored: unknown): number | undefined => (typeof stored === 'number' && Number.isFinite(stored) ? stored : undefined);
