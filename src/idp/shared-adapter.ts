import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { SharedDocuments } from '../state/index.ts';

/**
 * The built-in provider's storage when several replicas share Redis: sessions, grants,
 * interactions, codes and tokens are documents every replica reads, so a sign-in begun on one
 * replica finishes on another, and a sign-out ends the provider session everywhere. Each
 * document expires with the lifetime oidc-provider gives it. As in memory-adapter.ts, one
 * client address holds a bounded number of interactions (its oldest go first), so a flood from
 * one address evicts only itself.
 */
export interface ProviderStore {
  readonly adapter: AdapterFactory;
  /** Stored entries, and interactions among them (zero when they are kept in Redis: not counted there). */
  counts(): { entries: number; interactions: number };
  /** Ends the provider sessions of this account begun at this time (seconds), with their grants and tokens; returns how many. */
  /** Ends the account's sessions: the one signed in at `loginTs`, or every one when it is null. */
  endSession(accountId: string, loginTs: number | null): number | Promise<number>;
}

export interface SharedAdapterOptions {
  now?: () => number;
  maxInteractionsPerClient?: number;
  /** Interactions kept at once, over all clients. */
  maxInteractions?: number;
  /** The client address of the request being served. */
  clientOf?: () => string | undefined;
}

const INTERACTION = 'Interaction';

export function createSharedProviderStore(documents: SharedDocuments, options: SharedAdapterOptions = {}): ProviderStore {
  const now = options.now ?? Date.now;
  const perClient = options.maxInteractionsPerClient ?? 20;
  const total = options.maxInteractions ?? 10_000;

  async function revokeGrant(grantId: string): Promise<void> {
    await documents.destroyGroup(`grant:${grantId}`);
    await documents.destroy('Grant', grantId);
  }

  const adapter: AdapterFactory = (model: string): Adapter => ({
    async upsert(id, payload, expiresIn) {
      const indexes: Record<string, string> = {};
      if (typeof payload.uid === 'string') indexes.uid = payload.uid;
      if (typeof payload.userCode === 'string') indexes.userCode = payload.userCode;
      const groups: string[] = [];
      if (typeof payload.grantId === 'string') groups.push(`grant:${payload.grantId}`);
      if (model === 'Session' && typeof payload.accountId === 'string') groups.push(`account:${payload.accountId}`);
      await documents.put({
        kind: model,
        id,
        payload: { ...payload },
        ttlSeconds: typeof expiresIn === 'number' ? expiresIn : undefined,
        indexes,
        groups,
        ...(model === INTERACTION ? { owner: { name: options.clientOf?.() ?? 'unknown', max: perClient, maxTotal: total } } : {}),
      });
    },
    find: async (id) => (await documents.get(model, id)) as AdapterPayload | undefined,
    findByUid: async (uid) => (await documents.find(model, 'uid', uid)) as AdapterPayload | undefined,
    findByUserCode: async (userCode) => (await documents.find(model, 'userCode', userCode)) as AdapterPayload | undefined,
    async consume(id) {
      await documents.consume(model, id, Math.floor(now() / 1000));
    },
    destroy: (id) => documents.destroy(model, id),
    revokeByGrantId: revokeGrant,
  });

  return {
    adapter,
    counts: () => ({ entries: 0, interactions: 0 }),
    async endSession(accountId, loginTs) {
      let ended = 0;
      for (const { kind, id } of await documents.members(`account:${accountId}`)) {
        if (kind !== 'Session') continue;
        const session = (await documents.get(kind, id)) as { accountId?: unknown; loginTs?: unknown; authorizations?: Record<string, { grantId?: unknown }> } | undefined;
        if (session === undefined || session.accountId !== accountId || (loginTs !== null && session.loginTs !== loginTs)) continue;
        for (const { grantId } of Object.values(session.authorizations ?? {})) if (typeof grantId === 'string') await revokeGrant(grantId);
        await documents.destroy(kind, id);
        ended += 1;
      }
      return ended;
    },
  };
}
