import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, loopbackFetch } from '../../helpers/http-sign-in.ts';
import { browse, formAction, startIdpTestApp, type IdpTestApp } from '../../helpers/idp-app.ts';

/**
 * Anyone can make the built-in provider start a sign-in (an interaction) without a password.
 * A flood of them from one address must neither grow the provider's memory without bound nor
 * push out another user's sign-in in progress.
 */

const FLOOD = 3_000;
const PER_CLIENT = 20;
const ATTACKER = { 'x-forwarded-for': '203.0.113.66' };

let app: IdpTestApp;

beforeAll(async () => {
  app = await startIdpTestApp({
    users: { alice: { email: 'alice@example.com', password: 'alice-password' } },
    // A total far below the flood, so the flood reaches it; the per-client share is the default.
    storage: { maxInteractions: 200, maxInteractionsPerClient: PER_CLIENT },
  });
});
afterAll(() => app?.close());

/** Runs `count` tasks, `width` at a time. */
async function inParallel(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

describe('built-in provider under a flood of unfinished sign-ins', () => {
  it(`keeps ${FLOOD} hits from one address to its own ${PER_CLIENT} interactions, and another user's sign-in completes`, async () => {
    // Another user opens the sign-in form first, and types slowly.
    const victim = new CookieJar();
    const form = await browse(victim, app.loginUrl, { headers: { 'x-forwarded-for': '198.51.100.23' } });
    expect(form.url.pathname).toMatch(/^\/idp\/interaction\//);

    // One authorization request, replayed without cookies: each hit starts a new interaction.
    const start = await loopbackFetch(app.loginUrl);
    const authorize = start.headers.get('location')!;
    expect(new URL(authorize).pathname).toBe('/idp/auth');
    const before = app.provider.storedEntries();
    let started = 0;
    await inParallel(FLOOD, 8, async () => {
      const response = await loopbackFetch(authorize, { headers: ATTACKER });
      if (response.status === 303 && response.headers.get('location')?.includes('/idp/interaction/')) started += 1;
    });
    expect(started).toBe(FLOOD);
    const after = app.provider.storedEntries();
    expect(after.interactions).toBeLessThanOrEqual(before.interactions + PER_CLIENT);
    expect(after.entries).toBeLessThanOrEqual(before.entries + PER_CLIENT);

    const done = await browse(victim, formAction(form.body, form.url), {
      form: { username: 'alice', password: 'alice-password' },
      headers: { origin: app.origin, 'x-forwarded-for': '198.51.100.23' },
    });
    expect(done.url.pathname).toBe('/oauth2/callback');
    expect(done.body).toContain('"sub":"alice"');
  });

  it("gives way to other clients once the total is reached: the biggest holder loses its oldest, not the others'", async () => {
    const jars = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const jar = new CookieJar();
        const page = await browse(jar, app.loginUrl, { headers: { 'x-forwarded-for': `198.51.100.${100 + i}` } });
        return { jar, page, ip: `198.51.100.${100 + i}` };
      }),
    );
    // Many addresses (as a botnet would use), each up to its share, until the total is full.
    const start = await loopbackFetch(app.loginUrl);
    const authorize = start.headers.get('location')!;
    await inParallel(400, 8, async (i) => {
      await loopbackFetch(authorize, { headers: { 'x-forwarded-for': `203.0.113.${i % 25}` } });
    });
    expect(app.provider.storedEntries().interactions).toBeLessThanOrEqual(200);
    for (const { jar, page, ip } of jars) {
      const done = await browse(jar, formAction(page.body, page.url), { form: { username: 'alice', password: 'alice-password' }, headers: { origin: app.origin, 'x-forwarded-for': ip } });
      expect(done.url.pathname).toBe('/oauth2/callback');
    }
  });
});
