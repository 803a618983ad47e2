import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What the signed-in scenarios need without a browser: a real OpenID Provider on loopback so
 * Gatehouse's discovery succeeds, and a session cookie sealed with the same GATEHOUSE_SECRET
 * by Gatehouse's own code (dist/auth), exactly as the sign-in callback would issue it.
 */

export const BENCH_USER = Object.freeze({
  sub: 'bench-user-1',
  // Matches neither the email nor the domain entry of the policy: the group entry lets it in,
  // so every entry is looked at.
  email: 'bench.user@users.example',
  name: 'Bench User',
  groups: ['staff', 'bench-admins'],
});

export const AUTH_POLICY = ['someone.else@example.com', '@bench.example', 'group:bench-admins'];

export function newSecret() {
  return randomBytes(32).toString('base64');
}

/** The test OpenID Provider (oidc-provider) from test/helpers, on an ephemeral loopback port. */
export async function startProvider(root, { authUrl, clientId, clientSecret }) {
  const { startTestProvider } = await import(pathToFileURL(join(root, 'test/helpers/oidc-provider.ts')).href);
  return startTestProvider({
    users: [{ sub: BENCH_USER.sub, email: BENCH_USER.email, name: BENCH_USER.name, groups: BENCH_USER.groups, password: randomBytes(12).toString('hex') }],
    clients: [{ clientId, clientSecret, redirectUris: [`${authUrl}/oauth2/callback`] }],
  });
}

/**
 * `name=value` for the Cookie header: a session for BENCH_USER on `host`, sealed with the
 * session key derived from `secret`. Throws when dist/auth does not offer these functions.
 */
export async function mintSessionCookie(root, { secret, host, secure = false, ttlMs = 14 * 3600_000 }) {
  const sessionModule = await import(pathToFileURL(join(root, 'dist/auth/session.js')).href);
  const keysModule = await import(pathToFileURL(join(root, 'dist/auth/keys.js')).href);
  const { createSession, sessionCookies } = sessionModule;
  const { derivePurposeKeys, parseSecretList } = keysModule;
  if (typeof createSession !== 'function' || typeof sessionCookies !== 'function' || typeof derivePurposeKeys !== 'function') {
    throw new Error('dist/auth does not export createSession, sessionCookies and derivePurposeKeys');
  }
  const now = Date.now();
  const keys = derivePurposeKeys(parseSecretList(secret, 'GATEHOUSE_SECRET'), 'session');
  const session = createSession({ ...BENCH_USER, groups: [...BENCH_USER.groups], emailVerified: true, claims: {}, host }, { now, ttlMs });
  const cookies = sessionCookies(session, { secure, keys, now });
  if (!Array.isArray(cookies) || cookies.length !== 1) throw new Error('the bench session did not fit in one cookie');
  return cookies[0].split(';')[0];
}
