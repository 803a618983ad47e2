import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import type { TestUser } from '../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from '../integration/auth/support.ts';

/**
 * The portal in Chromium: apps under their `group` sections, with built-in, https and data:
 * icons, and hostile display values (script in a name, a javascript: icon) shown as text or
 * not at all, never run.
 */

const carol: TestUser = { sub: 'u-carol', email: 'carol@example.test', name: 'Carol', groups: [], password: 'carol-pw' };
let stack: AuthStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startAuthStack({
    users: [carol],
    routes: [
      { from: 'http://films.portal.gh.localhost', allow: '*', name: 'Films', icon: 'video', group: 'Media', description: 'Movies & shows' },
      { from: 'http://photos.portal.gh.localhost', allow: '*', name: 'Photos', icon: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', group: 'Media' },
      { from: 'http://wiki.portal.gh.localhost', allow: '*', name: 'Wiki', icon: 'https://icons.portal.gh.localhost/wiki.png' },
      { from: 'http://evil.portal.gh.localhost', allow: '*', name: '<img src=x onerror=window.pwned=1>', icon: 'javascript:window.pwned=1', group: '<script>window.pwned=1</script>' },
    ],
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the portal', () => {
  it('lists apps by group with their icons, and shows hostile display labels as text only', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const executed: string[] = [];
      page.on('pageerror', (error) => executed.push(error.message));
      page.on('dialog', (dialog) => executed.push(dialog.message()));
      await page.goto(`${stack.authUrl}/`);
      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.getByLabel('Username').fill(carol.email);
      await page.getByLabel('Password').fill(carol.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${stack.authUrl}/`);

      // Ungrouped first, then one section per group, by name.
      expect(await page.locator('#apps > ul > li a').allTextContents()).toEqual(['Wiki']);
      expect(await page.locator('#apps section h2').allTextContents()).toEqual(['<script>window.pwned=1</script>', 'Media']);
      expect(await page.locator('#apps section').nth(1).locator('li').allTextContents()).toEqual(['Films — Movies & shows', 'Photos']);
      expect(await page.locator('#apps section').nth(0).locator('a').textContent()).toBe('<img src=x onerror=window.pwned=1>');

      // Icons: the built-in glyph inline, the data: image and the https image as <img>; none for javascript:.
      expect(await page.locator('li:has(a:text-is("Films")) svg.icon').count()).toBe(1);
      await expect.poll(() => page.locator('li:has(a:text-is("Photos")) img.icon').evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth)).toBe(1);
      expect(await page.locator('li:has(a:text-is("Wiki")) img.icon').getAttribute('src')).toBe('https://icons.portal.gh.localhost/wiki.png');
      expect(await page.locator('#apps section').nth(0).locator('.icon').count()).toBe(0);
      expect(await page.evaluate('window.pwned')).toBeUndefined();
      expect(executed).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
