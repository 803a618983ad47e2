import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';
import { docker, ECHO_IMAGE, ensureEchoImage } from '../helpers/images.ts';

/**
 * `iap.response_header.<Name>` and `iap.redirect` on real containers: headers land on the
 * app's responses over its own, and a redirect route answers without any upstream.
 */

const id = randomBytes(3).toString('hex');
const host = (name: string) => `${name}-${id}.gh.test`;
const names: string[] = [];
let gh: TestGatehouse;

async function start(name: string, labels: Record<string, string>, image = ECHO_IMAGE, command: string[] = []): Promise<void> {
  const container = `gh-rh-${id}-${name}`;
  names.push(container);
  await docker('run', '-d', '--name', container, ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${gh.prefix}.${k}=${v}`]), image, ...command);
}

beforeAll(async () => {
  await ensureEchoImage();
  gh = await startTestGatehouse();
  await start('headers', {
    from: `http://${host('headers')}`,
    public: 'true',
    'response_header.X-Frame-Options': 'DENY',
    'response_header.Content-Type': 'text/x-gatehouse',
    hsts: 'true',
  });
  // busybox sleeping: no port at all, which a redirect route does not need.
  await start('moved', { from: `http://${host('moved')}`, public: 'true', redirect: 'https://new.example.com' }, 'busybox:local', ['sleep', '300']);
  await start('page', { from: `http://${host('page')}`, public: 'true', redirect: 'https://new.example.com/welcome?from=old' }, 'busybox:local', ['sleep', '300']);
  await start('private', { from: `http://${host('private')}`, allow: 'alice@example.com', redirect: 'https://new.example.com' }, 'busybox:local', ['sleep', '300']);
}, 60_000);

afterAll(async () => {
  await gh?.stop();
  await Promise.allSettled(names.map((name) => docker('rm', '-f', name)));
});

describe('response headers and redirects from labels', () => {
  it("sets the labelled headers over the app's own, and no HSTS on a plain http route", async () => {
    const response = await waitFor(async () => {
      const r = await http(gh.proxyPort, host('headers'), '/');
      return r.status === 200 ? r : undefined;
    }, 'the headers route', 30_000, 100);
    expect(response.body).toBe('ok\n');
    expect(response.headers['x-frame-options']).toBe('DENY');
    // The echo app sends text/plain; the label replaces it.
    expect(response.headers['content-type']).toBe('text/x-gatehouse');
    expect(response.headers['strict-transport-security']).toBeUndefined();
    expect(response.headers['x-request-id']).toBeDefined();
  });

  it('redirects with the path and query kept for an origin, to the exact URL otherwise', async () => {
    const moved = await waitFor(async () => {
      const r = await http(gh.proxyPort, host('moved'), '/docs/a?b=1');
      return r.status === 307 ? r : undefined;
    }, 'the redirect route', 30_000, 100);
    expect(moved.headers['location']).toBe('https://new.example.com/docs/a?b=1');
    expect((await http(gh.proxyPort, host('moved'), '//evil.example/x')).headers['location']).toMatch(/^https:\/\/new\.example\.com\//);
    const page = await waitFor(async () => {
      const r = await http(gh.proxyPort, host('page'), '/anything');
      return r.status === 307 ? r : undefined;
    }, 'the exact redirect route', 30_000, 100);
    expect(page.headers['location']).toBe('https://new.example.com/welcome?from=old');
  });

  it('applies access rules before redirecting: without sign-in configured, a private redirect route refuses', async () => {
    const refused = await waitFor(async () => {
      const r = await http(gh.proxyPort, host('private'), '/', { headers: { accept: 'application/json' } });
      return r.status !== 404 && r.status !== 503 ? r : undefined;
    }, 'the private redirect route', 30_000, 100);
    expect(refused.status).toBe(403);
    expect(refused.headers['location']).toBeUndefined();
  });
});
