import { createHash } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { ExpiringMap } from '../state/index.ts';

/**
 * Passkeys (WebAuthn credentials) of built-in users: registered on the self-service page,
 * used on the sign-in page alone (a discoverable credential names its user) or after the
 * password as a second factor. The relying party is the sign-in host itself and the origin
 * must be exactly the sign-in origin. Only public keys are stored, keyed by credential id, in
 * the state store (`passkeys`). Each ceremony's challenge is kept here for five minutes and
 * used once.
 */

export interface StoredPasskey {
  /** Credential id, base64url. */
  id: string;
  /** The users file key, lowercased. */
  user: string;
  /** The user's email when registered, lowercased: a user re-created under the same name with another email does not inherit it. */
  email: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  /** Milliseconds since the epoch. */
  created: number;
  lastUsed: number | null;
}

export type PasskeyInfo = Pick<StoredPasskey, 'id' | 'name' | 'created' | 'lastUsed'>;

export interface Passkeys {
  list(username: string): PasskeyInfo[];
  registrationOptions(user: { username: string; name: string }): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Null when registered, else what went wrong. */
  register(user: { username: string; email: string }, response: unknown, name: string): Promise<string | null>;
  remove(username: string, id: string): boolean;
  /** Options for a sign-in ceremony keyed by `ceremony` (the interaction); for one user when given (second factor). */
  authenticationOptions(ceremony: string, username?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** The user the passkey belongs to, or null; `username` set: it must be theirs. */
  authenticate(ceremony: string, response: unknown, username?: string): Promise<{ username: string; email: string; userVerified: boolean } | null>;
}

export interface PasskeyOptions {
  store: ExpiringMap<StoredPasskey>;
  /** `https://auth.example.com` (or `http://auth.localhost:port`). */
  origin: string;
  now: () => number;
}

const CEREMONY_MS = 5 * 60_000;
const MAX_PENDING = 10_000;
const MAX_PER_USER = 20;
const NEVER = Date.UTC(9999, 0, 1);
const MAX_NAME_LENGTH = 64;

export function createPasskeys(options: PasskeyOptions): Passkeys {
  const { store, now } = options;
  const rpID = new URL(options.origin).hostname;
  const challenges = new Map<string, { challenge: string; until: number }>();

  function keep(key: string, challenge: string): void {
    if (challenges.size >= MAX_PENDING) {
      for (const [k, v] of challenges) if (v.until <= now()) challenges.delete(k);
      if (challenges.size >= MAX_PENDING) challenges.delete(challenges.keys().next().value as string);
    }
    challenges.set(key, { challenge, until: now() + CEREMONY_MS });
  }
  function take(key: string): string | null {
    const entry = challenges.get(key);
    challenges.delete(key);
    return entry !== undefined && entry.until > now() ? entry.challenge : null;
  }
  const mine = (username: string): StoredPasskey[] => {
    const user = username.toLowerCase();
    return [...store.entries()].map(([, passkey]) => passkey).filter((passkey) => passkey.user === user);
  };

  return {
    list: (username) => mine(username).map(({ id, name, created, lastUsed }) => ({ id, name, created, lastUsed })).sort((a, b) => a.created - b.created),

    async registrationOptions(user) {
      const created = await generateRegistrationOptions({
        rpName: 'Gatehouse',
        rpID,
        userName: user.username,
        userDisplayName: user.name,
        // Stable per user, and not the name itself.
        userID: createHash('sha256').update(`gatehouse-user:${user.username.toLowerCase()}`).digest().subarray(0, 16),
        attestationType: 'none',
        excludeCredentials: mine(user.username).map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      keep(`register:${user.username.toLowerCase()}`, created.challenge);
      return created;
    },

    async register({ username, email }, response, name) {
      const challenge = take(`register:${username.toLowerCase()}`);
      if (challenge === null) return 'the registration took too long or was not started here; try again';
      if (mine(username).length >= MAX_PER_USER) return `at most ${MAX_PER_USER} passkeys per user; remove one first`;
      let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verified = await verifyRegistrationResponse({ response: response as RegistrationResponseJSON, expectedChallenge: challenge, expectedOrigin: options.origin, expectedRPID: rpID, requireUserVerification: true });
      } catch (error) {
        return `the passkey could not be verified (${(error as Error).message})`;
      }
      if (!verified.verified) return 'the passkey could not be verified';
      const { credential } = verified.registrationInfo;
      if (store.get(credential.id) !== undefined) return 'this passkey is already registered';
      const label = name.trim().slice(0, MAX_NAME_LENGTH) || 'Passkey';
      store.set(
        credential.id,
        { id: credential.id, user: username.toLowerCase(), email: email.toLowerCase(), publicKey: Buffer.from(credential.publicKey).toString('base64url'), counter: credential.counter, transports: [...(credential.transports ?? [])], name: label, created: now(), lastUsed: null },
        NEVER,
      );
      await store.flush();
      return null;
    },

    remove(username, id) {
      const passkey = store.get(id);
      if (passkey === undefined || passkey.user !== username.toLowerCase()) return false;
      store.delete(id);
      return true;
    },

    async authenticationOptions(ceremony, username) {
      const allow = username === undefined ? undefined : mine(username).map((passkey) => ({ id: passkey.id, transports: passkey.transports }));
      const created = await generateAuthenticationOptions({ rpID, userVerification: 'required', ...(allow === undefined ? {} : { allowCredentials: allow }) });
      keep(`sign-in:${ceremony}`, created.challenge);
      return created;
    },

    async authenticate(ceremony, response, username) {
      const challenge = take(`sign-in:${ceremony}`);
      const id = typeof response === 'object' && response !== null ? (response as { id?: unknown }).id : undefined;
      if (challenge === null || typeof id !== 'string') return null;
      const passkey = store.get(id);
      if (passkey === undefined || (username !== undefined && passkey.user !== username.toLowerCase())) return null;
      let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
      try {
        verified = await verifyAuthenticationResponse({
          response: response as AuthenticationResponseJSON,
          expectedChallenge: challenge,
          expectedOrigin: options.origin,
          expectedRPID: rpID,
          credential: { id: passkey.id, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: passkey.counter },
          requireUserVerification: true,
        });
      } catch {
        return null;
      }
      if (!verified.verified) return null;
      store.set(passkey.id, { ...passkey, counter: verified.authenticationInfo.newCounter, lastUsed: now() }, NEVER);
      return { username: passkey.user, email: passkey.email, userVerified: verified.authenticationInfo.userVerified };
    },
  };
}

export function parseStoredPasskey(stored: unknown): StoredPasskey | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const p = stored as Record<string, unknown>;
  const ok =
    typeof p['id'] === 'string' && typeof p['user'] === 'string' && typeof p['email'] === 'string' && typeof p['publicKey'] === 'string' && typeof p['counter'] === 'number' &&
    Array.isArray(p['transports']) && typeof p['name'] === 'string' && typeof p['created'] === 'number' && (p['lastUsed'] === null || typeof p['lastUsed'] === 'number');
  return ok ? (p as unknown as StoredPasskey) : undefined;
}
