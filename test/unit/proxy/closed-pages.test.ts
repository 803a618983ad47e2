import { describe, expect, it } from 'vitest';
import { closedClaimPage } from '../../../src/proxy/claim-page.ts';
import { renderPage } from '../../../src/proxy/pages.ts';
import { createUpstreamGuard, isTrustedTarget } from '../../../src/proxy/upstream-guard.ts';
import { NO_TARGET_RULES } from '../../../src/labels/index.ts';

describe('pages for closed claims', () => {
  it('answers a stopped app with 503 "not running", without Retry-After or a refresh', () => {
    expect(closedClaimPage('stopped')).toBe('app_stopped');
    const page = renderPage('app_stopped', { requestId: 'r1', accept: 'text/html' });
    expect(page.status).toBe(503);
    expect(page.body).toContain('The app is not running');
    expect(page.headers['retry-after']).toBeUndefined();
    expect(page.body).not.toContain('http-equiv="refresh"');
  });

  it('answers a misconfigured app with 503 and points the operator at the log, in HTML and JSON', () => {
    expect(closedClaimPage('misconfigured')).toBe('app_misconfigured');
    const page = renderPage('app_misconfigured', { requestId: 'r2', accept: 'text/html' });
    expect(page.status).toBe(503);
    expect(page.body).toContain('The app is misconfigured');
    expect(page.body).toContain('gatehouse routes');
    const json = JSON.parse(renderPage('app_misconfigured', { requestId: 'r3', accept: 'application/json' }).body) as Record<string, unknown>;
    expect(json).toMatchObject({ error: 'app_misconfigured', status: 503, requestId: 'r3' });
  });
});

describe('the connect-time guard', () => {
  const guard = (answers: string[]) =>
    createUpstreamGuard({ rules: () => NO_TARGET_RULES, resolveAll: async () => answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })) });

  it('refuses a name when any answer is refused, and otherwise connects to the first answer', async () => {
    await expect(guard(['10.0.0.1', '127.0.0.1']).resolve('app.lan', 80)).rejects.toMatchObject({ code: 'EGATEHOUSE_FORBIDDEN_TARGET' });
    await expect(guard(['10.0.0.1', '10.0.0.2']).resolve('app.lan', 80)).resolves.toEqual({ address: '10.0.0.1', family: 4 });
    await expect(guard([]).resolve('app.lan', 80)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('checks literals without asking the resolver, brackets or not', async () => {
    const g = guard(['10.0.0.9']);
    await expect(g.resolve('[::ffff:7f00:1]', 80)).rejects.toMatchObject({ code: 'EGATEHOUSE_FORBIDDEN_TARGET' });
    await expect(g.resolve('10.0.0.1', 80)).resolves.toEqual({ address: '10.0.0.1', family: 4 });
    expect(g.refuseLiteral('[64:ff9b::7f00:1]', 80)?.message).toContain('the loopback interface');
    expect(g.refuseLiteral('10.0.0.1', 80)).toBeNull();
    expect(g.refuseLiteral('app.lan', 80)).toBeNull();
  });

  it('answers as a socket lookup in both of its shapes', async () => {
    const lookup = guard(['10.0.0.1']).lookupFor(80) as unknown as (h: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) => void;
    const one = await new Promise<unknown[]>((resolve) => lookup('app.lan', {}, (...args) => resolve(args)));
    expect(one).toEqual([null, '10.0.0.1', 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup('app.lan', { all: true }, (...args) => resolve(args)));
    expect(all).toEqual([null, [{ address: '10.0.0.1', family: 4 }]]);
    const refused = guard(['127.0.0.1']).lookupFor(80) as unknown as typeof lookup;
    const error = await new Promise<unknown[]>((resolve) => refused('app.lan', {}, (...args) => resolve(args)));
    expect(error[0]).toMatchObject({ code: 'EGATEHOUSE_FORBIDDEN_TARGET' });
  });

  it('trusts only routes whose every source is the routes file', () => {
    const file = { kind: 'file' as const, file: '/r.yml', index: 0 };
    const box = { kind: 'container' as const, containerId: 'c', containerName: 'c', group: 'c', created: 1 };
    expect(isTrustedTarget({ sources: [file] })).toBe(true);
    expect(isTrustedTarget({ sources: [file, box] })).toBe(false);
    expect(isTrustedTarget({ sources: [box] })).toBe(false);
    expect(isTrustedTarget({ sources: [] })).toBe(false);
  });
});
