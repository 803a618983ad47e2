import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ExpiringMap } from '../state/index.ts';
import { hashPassword, parsePhc, verifyPhc } from '../util/phc.ts';
import { Session } from './session.ts';

/**
 * App passwords: per user, named, random secrets for clients that cannot use a browser (git,
 * WebDAV, CalDAV, scripts). Only an argon2id hash of each is kept; the secret is shown once,
 * when it is made. The text a user pastes carries the password's id in clear
 * (`gh_<id>_<secret>`), so checking one costs one hash, never one per password the user has.
 *
 * argon2 is slow on purpose (~150 ms), and git makes several requests per clone: a secret that
 * verified is remembered for a short while by its SHA-256 (never the secret itself), and
 * forgotten at once when its password is revoked.
 */

export const AppPasswordOwner = Session.pick({ sub: true, email: true, emailVerified: true, name: true, groups: true, claims: true }).extend({
  /** Set for users of the built-in provider: their current entry in the users file decides (disabled, groups). */
  builtin: z.boolean(),
});
export type AppPasswordOwner = z.infer<typeof AppPasswordOwner>;

export const AppPasswordRecord = z.object({
  id: z.string(),
  name: z.string(),
  hash: z.string(),
  /** Route hosts it may be used on; empty: every route that accepts app passwords. */
  hosts: z.array(z.string()),
  /** Milliseconds since the epoch. */
  created: z.number(),
  owner: AppPasswordOwner,
});
export type AppPasswordRecord = z.infer<typeof AppPasswordRecord>;

/** What the self-service page lists: never the hash. */
export type AppPasswordInfo = Pick<AppPasswordRecord, 'id' | 'name' | 'hosts' | 'created'>;

export interface AppPasswords {
  /** The secret is returned here and never again. */
  create(owner: AppPasswordOwner, name: string, hosts: readonly string[]): Promise<{ id: string; secret: string }>;
  list(sub: string): AppPasswordInfo[];
  /** True when the user had this password. */
  revoke(sub: string, id: string): boolean;
  /** The password this secret belongs to, or null (unknown, revoked, wrong). */
  verify(secret: string): Promise<AppPasswordRecord | null>;
  /** Whether this text is shaped like an app password at all (cheap; no lookup). */
  looksLike(secret: string): boolean;
}

export interface AppPasswordOptions {
  store: ExpiringMap<AppPasswordRecord>;
  now: () => number;
  /** How long a verified secret is remembered; default 60 s. */
  cacheMs?: number;
  /** argon2 parameters (tests lower them). */
  hash?: (secret: string) => Promise<string>;
}

const TOKEN = /^gh_([a-z2-7]{10})_([a-z2-7]{32})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const MAX_PASSWORDS_PER_USER = 50;
export const MAX_NAME_LENGTH = 64;
const CACHE_LIMIT = 1_000;
// App passwords do not expire on their own; the store needs a date, so: far away.
const NEVER = Date.UTC(9999, 0, 1);

export function openAppPasswords(options: AppPasswordOptions): AppPasswords {
  const { store, now } = options;
  const cacheMs = options.cacheMs ?? 60_000;
  const hash = options.hash ?? ((secret: string) => hashPassword(secret));
  const verified = new Map<string, { id: string; until: number }>();

  function forget(id: string): void {
    for (const [key, entry] of verified) if (entry.id === id) verified.delete(key);
  }

  return {
    async create(owner, name, hosts) {
      const id = randomText(10);
      const secret = `gh_${id}_${randomText(32)}`;
      store.set(id, { id, name: name.slice(0, MAX_NAME_LENGTH), hash: await hash(secret), hosts: [...hosts], created: now(), owner }, NEVER);
      await store.flush();
      return { id, secret };
    },
    list(sub) {
      const mine: AppPasswordInfo[] = [];
      for (const [, record] of store.entries()) if (record.owner.sub === sub) mine.push({ id: record.id, name: record.name, hosts: record.hosts, created: record.created });
      return mine.sort((a, b) => a.created - b.created);
    },
    revoke(sub, id) {
      const record = store.get(id);
      if (record === undefined || record.owner.sub !== sub) return false;
      store.delete(id);
      forget(id);
      return true;
    },
    looksLike: (secret) => TOKEN.test(secret),
    async verify(secret) {
      const match = TOKEN.exec(secret);
      if (match === null) return null;
      const record = store.get(match[1]!);
      if (record === undefined) return null;
      const key = createHash('sha256').update(secret).digest('base64url');
      const hit = verified.get(key);
      if (hit !== undefined && hit.id === record.id && hit.until > now()) return record;
      const parsed = parsePhc(record.hash);
      if (!parsed.ok || !(await verifyPhc(secret, parsed.value))) return null;
      // Revoked while the hash was computed: no.
      if (store.get(record.id) === undefined) return null;
      if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value as string);
      verified.set(key, { id: record.id, until: now() + cacheMs });
      return record;
    },
  };
}

export function parseAppPasswordRecord(stored: unknown): AppPasswordRecord | undefined {
  const parsed = AppPasswordRecord.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

/** Uniform over 32 letters and digits: 5 bits each, from a byte's low bits (256 is a multiple of 32). */
function randomText(length: number): string {
  return [...randomBytes(length)].map((byte) => ALPHABET[byte & 31]).join('');
}
