import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSharedState, type SharedState } from '../../../src/state/index.ts';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.ts';

/** Two replicas' shared state on one real redis-server. */
let redis: RedisServer;
let a: SharedState;
let b: SharedState;
const parseNumber = (stored: unknown) => (typeof stored === 'number' ? stored : undefined);
const options = { maxEntries: 1000, parse: parseNumber };

beforeAll(async () => {
  redis = await startRedisServer();
  a = await openSharedState({ url: redis.url, prefix: 'test:' });
  b = await openSharedState({ url: redis.url, prefix: 'test:' });
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await redis?.close();
});

describe('shared expiring maps', () => {
  it('a change on one replica reaches the other, and a new replica loads it', async () => {
    const mapA = a.map('revoked', options);
    const mapB = b.map('revoked', options);
    mapA.set('sid-1', 42, Date.now() + 60_000);
    await mapA.flush();
    await vi.waitFor(() => expect(mapB.get('sid-1')).toBe(42), { timeout: 1_000, interval: 5 });
    const c = await openSharedState({ url: redis.url, prefix: 'test:' });
    try {
      const mapC = c.map('revoked', options);
      expect(mapC.has('sid-1')).toBe(false);
      await c.resync();
      expect(mapC.get('sid-1')).toBe(42);
    } finally {
      await c.close();
    }
    mapB.delete('sid-1');
    await mapB.flush();
    await vi.waitFor(() => expect(mapA.has('sid-1')).toBe(false), { timeout: 1_000, interval: 5 });
  });

  it('other prefixes do not see each other', async () => {
    const other = await openSharedState({ url: redis.url, prefix: 'other:' });
    try {
      a.map('revoked', options).set('sid-p', 1, Date.now() + 60_000);
      await a.map('revoked', options).flush();
      const map = other.map('revoked', options);
      await other.resync();
      expect(map.has('sid-p')).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('add claims a key once over all replicas: the second claim fails at flush', async () => {
    const usedA = a.map('used', options);
    const usedB = b.map('used', options);
    expect(usedA.add('handoff-1', 1, Date.now() + 60_000)).toBe(true);
    // B has not heard of it yet if it adds at once; the claim in Redis decides.
    const addedOnB = usedB.add('handoff-1', 1, Date.now() + 60_000);
    await usedA.flush();
    if (addedOnB) await expect(usedB.flush()).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    // Once heard, B refuses locally too.
    await vi.waitFor(() => expect(usedB.has('handoff-1')).toBe(true), { timeout: 1_000, interval: 5 });
    expect(usedB.add('handoff-1', 1, Date.now() + 60_000)).toBe(false);
  });

  it('reports a lost claim to every flush that covers it, and never to a later one', async () => {
    const usedA = a.map('claims', options);
    const usedB = b.map('claims', options);
    // B cannot have heard of A's claim: both happen in the same tick.
    expect(usedA.add('replayed', 1, Date.now() + 60_000)).toBe(true);
    expect(usedB.add('replayed', 1, Date.now() + 60_000)).toBe(true);
    expect(usedB.add('fresh', 1, Date.now() + 60_000)).toBe(true);
    const outcome = (flush: Promise<void>) => flush.then(() => 'stored', (error: { code?: string }) => error.code);
    const [onA, first, second] = await Promise.all([outcome(usedA.flush()), outcome(usedB.flush()), outcome(usedB.flush())]);
    // One replica won the claim; on B, whichever request's flush ran first, both see B's outcome.
    expect([onA, first].sort()).toEqual(['STATE_CONFLICT', 'stored']);
    expect(second).toBe(first);
    expect(usedB.add('later', 1, Date.now() + 60_000)).toBe(true);
    await expect(usedB.flush()).resolves.toBeUndefined();
  });

  it('entries expire in Redis with their expiry', async () => {
    const map = a.map('short', options);
    map.set('k', 1, Date.now() + 150);
    await map.flush();
    await vi.waitFor(
      async () => {
        const fresh = await openSharedState({ url: redis.url, prefix: 'test:' });
        try {
          const copy = fresh.map('short', options);
          await fresh.resync();
          expect(copy.has('k')).toBe(false);
        } finally {
          await fresh.close();
        }
      },
      { timeout: 3_000, interval: 100 },
    );
  });

  it('values that do not parse are dropped', async () => {
    const strings = a.map('mixed', { maxEntries: 10, parse: (v: unknown) => v });
    strings.set('x', 'text', Date.now() + 60_000);
    await strings.flush();
    const numbers = b.map('mixed', options);
    await b.resync();
    expect(numbers.has('x')).toBe(false);
  });
});

describe('shared files', () => {
  it('two replicas that each generated a secret end with the first one stored', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'gh-share-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'gh-share-b-'));
    const resultA = await a.shareFiles(dirA, ['idp/key'], async () => writeIfMissing(join(dirA, 'idp'), 'A'));
    expect(resultA.taken).toEqual([]);
    // B generated its own before seeing A's: it takes A's.
    const resultB = await b.shareFiles(dirB, ['idp/key'], async () => writeIfMissing(join(dirB, 'idp'), 'B'));
    expect(resultB.taken).toEqual([]);
    // Two first starts at once: D generates its own while E stores first; D takes E's.
    const dirD = mkdtempSync(join(tmpdir(), 'gh-share-d-'));
    const dirE = mkdtempSync(join(tmpdir(), 'gh-share-e-'));
    const resultD = await b.shareFiles(dirD, ['idp/key2'], async () => {
      writeAt(join(dirD, 'idp/key2'), 'D');
      await a.shareFiles(dirE, ['idp/key2'], async () => writeAt(join(dirE, 'idp/key2'), 'E'));
    });
    expect(resultD.taken).toEqual(['idp/key2']);
    expect(readFileSync(join(dirD, 'idp/key2'), 'utf8')).toBe('E');
    expect(readFileSync(join(dirB, 'idp/key'), 'utf8')).toBe('A');
    const dirC = mkdtempSync(join(tmpdir(), 'gh-share-c-'));
    writeIfMissing(join(dirC, 'idp'), 'C');
    const resultC = await b.shareFiles(dirC, ['idp/key'], async () => undefined);
    expect(readFileSync(join(dirC, 'idp/key'), 'utf8')).toBe('A');
    expect(resultC.taken).toEqual([]);
  });
});

function writeAt(path: string, content: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

function writeIfMissing(dir: string, content: string): void {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'key'))) writeFileSync(join(dir, 'key'), content);
}

describe('shared documents', () => {
  it('stores, finds by index, consumes once, groups and bounds per owner', async () => {
    const docs = a.documents;
    await docs.put({ kind: 'Session', id: 's1', payload: { accountId: 'alice', uid: 'u1' }, ttlSeconds: 60, indexes: { uid: 'u1' }, groups: ['account:alice'] });
    expect(await b.documents.get('Session', 's1')).toEqual({ accountId: 'alice', uid: 'u1' });
    expect(await b.documents.find('Session', 'uid', 'u1')).toEqual({ accountId: 'alice', uid: 'u1' });
    expect(await b.documents.members('account:alice')).toEqual([{ kind: 'Session', id: 's1' }]);
    await docs.put({ kind: 'AuthorizationCode', id: 'c1', payload: { grantId: 'g1' }, ttlSeconds: 60, groups: ['grant:g1'] });
    expect(await docs.consume('AuthorizationCode', 'c1', 100)).toBe(true);
    expect(await b.documents.consume('AuthorizationCode', 'c1', 101)).toBe(false);
    expect(await b.documents.get('AuthorizationCode', 'c1')).toEqual({ grantId: 'g1', consumed: 100 });
    await b.documents.destroyGroup('grant:g1');
    expect(await docs.get('AuthorizationCode', 'c1')).toBeUndefined();
    await docs.destroy('Session', 's1');
    expect(await docs.find('Session', 'uid', 'u1')).toBeUndefined();
    for (let i = 0; i < 5; i++) await docs.put({ kind: 'Interaction', id: `i${i}`, payload: { n: i }, ttlSeconds: 60, owner: { name: '10.0.0.1', max: 3, maxTotal: 100 } });
    await docs.put({ kind: 'Interaction', id: 'other', payload: {}, ttlSeconds: 60, owner: { name: '10.0.0.2', max: 3, maxTotal: 100 } });
    const kept = await Promise.all(['i0', 'i1', 'i2', 'i3', 'i4', 'other'].map(async (id) => (await docs.get('Interaction', id)) !== undefined));
    expect(kept).toEqual([false, false, true, true, true, true]);
  });
});

describe('when Redis goes away and comes back', () => {
  it('keeps the copies, fails flush, then writes what waited and reloads what it missed', async () => {
    const mapA = a.map('outage', options);
    const mapB = b.map('outage', options);
    mapA.set('before', 1, Date.now() + 60_000);
    await mapA.flush();
    await vi.waitFor(() => expect(mapB.has('before')).toBe(true), { timeout: 1_000, interval: 5 });
    await redis.stop();
    await vi.waitFor(() => expect(a.available()).toBe(false), { timeout: 5_000, interval: 20 });
    expect(a.status().state).toBe('unreachable');
    // The copies answer as before.
    expect(mapA.get('before')).toBe(1);
    mapA.set('during', 2, Date.now() + 60_000);
    await expect(mapA.flush()).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    expect(mapA.get('during')).toBe(2);
    await redis.start();
    await vi.waitFor(() => expect(b.available() && a.available()).toBe(true), { timeout: 10_000, interval: 50 });
    // What A wrote while Redis was away reaches B (written on reconnect, then B's reload or the message).
    await vi.waitFor(() => expect(mapB.get('during')).toBe(2), { timeout: 10_000, interval: 50 });
  });
});

describe('when Redis goes away while a replica loads the shared state', () => {
  it('the load fails with a message naming GATEHOUSE_REDIS_URL, not the client error', async () => {
    const server = await startRedisServer();
    const starting = await openSharedState({ url: server.url, prefix: 'starting:' });
    try {
      starting.map('revocations', options);
      await server.stop();
      await vi.waitFor(() => expect(starting.available()).toBe(false), { timeout: 5_000, interval: 20 });
      const failure = await starting.resync().then(() => null, (error: unknown) => error);
      expect(failure).toMatchObject({ code: 'STATE_UNAVAILABLE' });
      expect((failure as Error).message).toMatch(/^GATEHOUSE_REDIS_URL: Redis went away while the shared state was loading \(.+\); start it, or unset GATEHOUSE_REDIS_URL/);
      expect((failure as Error).message).not.toContain(server.url);
    } finally {
      await starting.close();
      await server.close();
    }
  });
});
