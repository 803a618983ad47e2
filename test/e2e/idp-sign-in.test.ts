import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase32, generateTotpSecret } from '../../src/idp/index.ts';
import { hotp, totpStep } from '../../src/idp/totp.ts';
import { launchBrowser, type Browser, type Page } from '../helpers/browser.ts';
import { startIdpTestApp, type IdpTestApp, type TestUserSpec } from '../helpers/idp-app.ts';

/**
 * Headless Chromium through the built-in provider's sign-in, with Gatehouse's real OpenID
 * client completing the code flow: the page a person sees, with the fields found by their labels.
 */

const TOTP_SECRET = generateTotpSecret();

const USERS: Record<string, TestUserSpec> = {
  alice: { email: 'alice@example.com', name: 'Alice Example', groups: ['demo'], password: 'alice-password' },
  tom: { email: 'tom@example.com', groups: ['ops'], password: 'tom-password', totp: TOTP_SECRET },
  wendy: { email: 'wendy@example.com', password: 'wendy-password' },
  locky: { email: 'locky@example.com', password: 'locky-password' },
  rita: { email: 'rita@example.com', groups: ['temp'], password: 'rita-password' },
};

async function signedInUser(page: Page): Promise<Record<string, unknown>> {
  return JSON.parse((await page.locator('#user').textContent()) ?? '{}') as Record<string, unknown>;
}

async function submitPassword(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

describe('built-in sign-in in a browser', () => {
  let browser: Browser;
  let app: IdpTestApp;

  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startIdpTestApp({ users: USERS });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function withPage(run: (page: Page) => Promise<void>, options: { javaScriptEnabled?: boolean } = {}): Promise<void> {
    const context = await browser.newContext(options);
    try {
      await run(await context.newPage());
    } finally {
      await context.close();
    }
  }

  it('signs in with a password, without JavaScript', async () => {
    await withPage(
      async (page) => {
        await page.goto(app.loginUrl);
        expect(await page.title()).toBe('Sign in · Gatehouse');
        expect(await page.getAttribute('html', 'lang')).toBe('en');
        // The first field has focus, ready to type.
        expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('username');
        await submitPassword(page, 'alice', 'alice-password');
        expect(new URL(page.url()).pathname).toBe('/oauth2/callback');
        expect(await signedInUser(page)).toMatchObject({ sub: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice Example', groups: ['demo'] });
      },
      { javaScriptEnabled: false },
    );
  });

  it('signs in with a password and a TOTP code', async () => {
    await withPage(async (page) => {
      await page.goto(app.loginUrl);
      await submitPassword(page, 'tom', 'tom-password');
      await expect.poll(() => page.title()).toBe('Enter your code · Gatehouse');
      const code = page.getByLabel('6-digit code');
      expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
      await code.fill(hotp(decodeBase32(TOTP_SECRET)!, totpStep(Date.now())));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(/\/oauth2\/callback/);
      expect(await signedInUser(page)).toMatchObject({ sub: 'tom', groups: ['ops'] });
    });
  });

  it('says "Wrong username or password" and keeps the typed name', async () => {
    await withPage(async (page) => {
      await page.goto(app.loginUrl);
      await submitPassword(page, 'wendy', 'not-wendys-password');
      const alert = page.getByRole('alert');
      expect(await alert.textContent()).toBe('Wrong username or password.');
      expect(await page.getByLabel('Username or email').inputValue()).toBe('wendy');
      expect(await page.getByLabel('Password').getAttribute('aria-describedby')).toBe('form-error');
      // The second try on the same page works.
      await submitPassword(page, 'wendy', 'wendy-password');
      expect(await signedInUser(page)).toMatchObject({ sub: 'wendy' });
    });
  });

  it('locks the account for a while after repeated failures', async () => {
    await withPage(async (page) => {
      await page.goto(app.loginUrl);
      for (let i = 0; i < 4; i += 1) {
        await submitPassword(page, 'locky', `guess-${i}`);
        expect(await page.getByRole('alert').textContent()).toBe('Wrong username or password.');
      }
      await submitPassword(page, 'locky', 'guess-4');
      expect(await page.getByRole('alert').textContent()).toBe('Too many attempts — try again in 1 minute.');
      await submitPassword(page, 'locky', 'locky-password');
      expect(await page.getByRole('alert').textContent()).toBe('Too many attempts — try again in 1 minute.');
    });
  });

  it('lets a user added to the users file sign in without a restart', async () => {
    await app.writeUsers({ ...USERS, newbie: { email: 'newbie@example.com', groups: ['fresh'], password: 'newbie-password' } });
    await withPage(async (page) => {
      await page.goto(app.loginUrl);
      await submitPassword(page, 'newbie', 'newbie-password');
      expect(await signedInUser(page)).toMatchObject({ sub: 'newbie', groups: ['fresh'] });
    });
  });

  it("refuses a removed user's next sign-in, even with a provider session", async () => {
    await withPage(async (page) => {
      await page.goto(app.loginUrl);
      await submitPassword(page, 'rita', 'rita-password');
      expect(await signedInUser(page)).toMatchObject({ sub: 'rita' });

      const { rita: _removed, ...rest } = USERS;
      await app.writeUsers(rest);
      await page.goto(app.loginUrl);
      expect(await page.title()).toBe('Sign in · Gatehouse');
      await submitPassword(page, 'rita', 'rita-password');
      expect(await page.getByRole('alert').textContent()).toBe('Wrong username or password.');
      expect(new URL(page.url()).pathname).toMatch(/^\/idp\/interaction\//);
    });
  });
});
