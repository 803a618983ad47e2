import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * Headless Debian Chromium for end-to-end tests. No browser is ever downloaded: the system
 * package must be installed (`apt-get install -y chromium`). Host names under `.localhost` and
 * `.test` resolve to 127.0.0.1, so tests can use route hosts such as `app.gh.localhost`.
 */

export const CHROMIUM_PATH = '/usr/bin/chromium';

const HOST_RESOLVER_RULES = 'MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1, MAP *.test 127.0.0.1';

export interface LaunchBrowserOptions {
  extraArgs?: string[];
}

export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}; install the Debian package with "apt-get install -y chromium".`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      `--host-resolver-rules=${HOST_RESOLVER_RULES}`,
      ...(options.extraArgs ?? []),
    ],
  });
}
