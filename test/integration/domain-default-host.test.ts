import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, loopbackFetch, signInViaHttp } from '../helpers/http-sign-in.ts';
import { waitFor } from '../helpers/http.ts';
import { docker, ECHO_IMAGE, ensureEchoImage } from '../helpers/images.ts';
import type { TestUser } from '../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack } from './auth/support.ts';

/**
 * GATEHOUSE_DOMAIN against the real Docker engine: a container whose only Gatehouse label is
 * `iap.allow` is published at `<compose service>.<domain>`, signs its user in and forwards to
 * the container; an explicit `iap.from` on another container still wins.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: [], password: 'alice-pw' };
const id = randomBytes(3).toString('hex');
const DOMAIN = `nas-${id}.localhost`;
const names = [`gh-domain-${id}-whoami`, `gh-domain-${id}-explicit`];

let stack: AuthStack;

beforeAll(async () => {
  await ensureEchoImage();
  stack = await startAuthStack({
    users: [alice],
    routes: [{ from: 'http://file.domain.gh.localhost', public: true }],
    env: { GATEHOUSE_DOMAIN: `http://${DOMAIN}` },
  });
  const label = (key: string, value: string) => ['--label', `${stack.gh.prefix}.${key}=${value}`];
  await docker('run', '-d', '--name', names[0]!, '--label', `com.docker.compose.project=p${id}`, '--label', 'com.docker.compose.service=whoami', ...label('allow', alice.email), ECHO_IMAGE);
  await docker('run', '-d', '--name', names[1]!, '--label', `com.docker.compose.project=q${id}`, '--label', 'com.docker.compose.service=explicit', ...label('from', `http://elsewhere-${id}.localhost`), ...label('public', 'true'), ECHO_IMAGE);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(names.map((name) => docker('rm', '-f', name)));
  await stack?.close();
});

describe('GATEHOUSE_DOMAIN', () => {
  it('publishes a container with only iap.allow at its compose service name under the domain, behind sign-in', async () => {
    const url = stack.url(`whoami.${DOMAIN}`, '/');
    await waitFor(async () => {
      const response = await loopbackFetch(url, { headers: { accept: 'application/json' } }).catch(() => null);
      return response?.status === 401 ? true : undefined;
    }, 'the service host to require sign-in', 30_000, 100);
    const signedIn = await signInViaHttp(url, alice.email, alice.password, new CookieJar());
    expect(signedIn.submittedLogin).toBe(true);
    expect(signedIn.url.href).toBe(url);
    expect(signedIn.response.status).toBe(200);
    expect(signedIn.body).toBe('ok\n');
  });

  it('leaves an explicit iap.from as written', async () => {
    await waitFor(async () => ((await loopbackFetch(stack.url(`elsewhere-${id}.localhost`, '/'))).status === 200 ? true : undefined), 'the explicit host', 30_000, 100);
    expect((await loopbackFetch(stack.url(`explicit.${DOMAIN}`, '/'), { headers: { accept: 'application/json' } })).status).toBe(404);
  });
});
