import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSharedState, type SharedState } from '../../../src/state/index.ts';
import { createSharedProviderStore } from '../../../src/idp/shared-adapter.ts';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.ts';

/** oidc-provider's adapter interface over Redis, on two replicas' connections to one real redis-server. */
let redis: RedisServer;
let a: SharedState;
let b: SharedState;

beforeAll(async () => {
  redis = await startRedisServer();
  a = await openSharedState({ url: redis.url, prefix: 'adapter:' });
  b = await openSharedState({ url: redis.url, prefix: 'adapter:' });
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await redis?.close();
});

describe('the shared provider adapter', () => {
  it('finds on one replica what the other stored, by id, uid and user code', async () => {
    const one = createSharedProviderStore(a.documents).adapter('Session');
    const two = createSharedProviderStore(b.documents).adapter('Session');
    await one.upsert('sess-1', { uid: 'uid-1', accountId: 'alice', loginTs: 100 }, 60);
    expect(await two.find('sess-1')).toEqual({ uid: 'uid-1', accountId: 'alice', loginTs: 100 });
    expect(await two.findByUid('uid-1')).toEqual({ uid: 'uid-1', accountId: 'alice', loginTs: 100 });
    expect(await two.findByUid('uid-2')).toBeUndefined();
    const device = createSharedProviderStore(a.documents).adapter('DeviceCode');
    await device.upsert('dc-1', { userCode: 'ABCD-EFGH' }, 60);
    expect(await createSharedProviderStore(b.documents).adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toEqual({ userCode: 'ABCD-EFGH' });
    await two.destroy('sess-1');
    expect(await one.find('sess-1')).toBeUndefined();
    expect(await one.findByUid('uid-1')).toBeUndefined();
  });

  it('marks a code consumed once, seen by both replicas', async () => {
    const one = createSharedProviderStore(a.documents, { now: () => 1_000_000 }).adapter('AuthorizationCode');
    const two = createSharedProviderStore(b.documents, { now: () => 2_000_000 }).adapter('AuthorizationCode');
    await one.upsert('code-1', { grantId: 'g-1' }, 60);
    await Promise.all([one.consume('code-1'), two.consume('code-1')]);
    const seen = await two.find('code-1');
    expect([1_000, 2_000]).toContain(seen?.consumed);
    expect(await one.find('code-1')).toEqual(seen);
  });

  it('revokes every token of a grant, and expires entries with their lifetime', async () => {
    const store = createSharedProviderStore(a.documents);
    await store.adapter('Grant').upsert('g-2', { accountId: 'bob' }, 60);
    await store.adapter('AccessToken').upsert('at-1', { grantId: 'g-2' }, 60);
    await store.adapter('RefreshToken').upsert('rt-1', { grantId: 'g-2' }, 60);
    await store.adapter('AccessToken').upsert('at-other', { grantId: 'g-3' }, 60);
    await createSharedProviderStore(b.documents).adapter('AccessToken').revokeByGrantId('g-2');
    expect(await store.adapter('AccessToken').find('at-1')).toBeUndefined();
    expect(await store.adapter('RefreshToken').find('rt-1')).toBeUndefined();
    expect(await store.adapter('Grant').find('g-2')).toBeUndefined();
    expect(await store.adapter('AccessToken').find('at-other')).toEqual({ grantId: 'g-3' });
    await store.adapter('AccessToken').upsert('short', {}, 0.2);
    await expect.poll(() => store.adapter('AccessToken').find('short'), { timeout: 3_000, interval: 50 }).toBeUndefined();
  });

  it('ends the provider session of one sign-in with its grants, on any replica', async () => {
    const store = createSharedProviderStore(a.documents);
    await store.adapter('Session').upsert('s-a', { accountId: 'carol', loginTs: 10, authorizations: { gatehouse: { grantId: 'g-a' } } }, 60);
    await store.adapter('Session').upsert('s-b', { accountId: 'carol', loginTs: 20, authorizations: { gatehouse: { grantId: 'g-b' } } }, 60);
    await store.adapter('AccessToken').upsert('at-a', { grantId: 'g-a' }, 60);
    await store.adapter('AccessToken').upsert('at-b', { grantId: 'g-b' }, 60);
    expect(await createSharedProviderStore(b.documents).endSession('carol', 10)).toBe(1);
    expect(await store.adapter('Session').find('s-a')).toBeUndefined();
    expect(await store.adapter('AccessToken').find('at-a')).toBeUndefined();
    expect(await store.adapter('Session').find('s-b')).toBeDefined();
    expect(await store.adapter('AccessToken').find('at-b')).toBeDefined();
  });

  it('bounds the interactions one client address holds; another address keeps its own', async () => {
    let client = '192.0.2.1';
    const adapter = createSharedProviderStore(a.documents, { maxInteractionsPerClient: 2, clientOf: () => client }).adapter('Interaction');
    await adapter.upsert('victim', { n: 0 }, 60);
    client = '198.51.100.7';
    for (let i = 0; i < 10; i += 1) await adapter.upsert(`flood-${i}`, { n: i }, 60);
    expect(await adapter.find('victim')).toEqual({ n: 0 });
    expect(await adapter.find('flood-0')).toBeUndefined();
    expect(await adapter.find('flood-9')).toEqual({ n: 9 });
  });

  it('bounds the interactions of all addresses together: a flood from many addresses cannot fill Redis', async () => {
    let client = '';
    const adapter = createSharedProviderStore(b.documents, { maxInteractionsPerClient: 2, maxInteractions: 5, clientOf: () => client }).adapter('Interaction');
    for (let i = 0; i < 12; i += 1) {
      client = `2001:db8:${i}::/64`;
      await adapter.upsert(`spread-${i}`, { n: i }, 60 + i);
    }
    const kept = await Promise.all(Array.from({ length: 12 }, async (_, i) => (await adapter.find(`spread-${i}`)) !== undefined));
    expect(kept.filter(Boolean)).toHaveLength(5);
    // The latest (longest to live) are kept.
    expect(kept.slice(7)).toEqual([true, true, true, true, true]);
  });
});
