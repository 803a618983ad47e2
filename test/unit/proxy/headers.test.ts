import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionTokens, foldHeaderName, isIdentityHeader, sanitizeHeaderValue as sanitizeValue } from '../../../src/http/index.ts';
import {
  buildUpstreamHeaders,
  cleanResponseHeaders,
  routeStripNames,
  type ForwardingFacts,
  type UpstreamHeaderOptions,
} from '../../../src/proxy/headers.ts';

const direct: ForwardingFacts = { peerTrusted: false, peerIp: '203.0.113.7', clientIp: '203.0.113.7', scheme: 'http', hostHeader: 'app.test' };
const viaProxy: ForwardingFacts = { peerTrusted: true, peerIp: '10.0.0.2', clientIp: '198.51.100.1', scheme: 'https', hostHeader: 'app.test' };

function build(client: Record<string, string>, overrides: Partial<UpstreamHeaderOptions> = {}): Record<string, string> {
  return buildUpstreamHeaders(client, {
    forwarding: direct,
    host: 'app.test',
    strip: new Set(),
    setHeaders: {},
    upgrade: false,
    ...overrides,
  });
}

describe('foldHeaderName / isIdentityHeader', () => {
  it.each([
    ['X-Iap-User', 'x-iap-user'],
    ['X_IAP_USER', 'x-iap-user'],
    ['X.Iap.User', 'x-iap-user'],
    ['x-iap_email', 'x-iap-email'],
    ['Content-Type', 'content-type'],
  ])('%s folds to %s', (name, folded) => {
    expect(foldHeaderName(name)).toBe(folded);
  });

  it('recognises every case/underscore/dot spelling of an x-iap- header', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('-', '_', '.'), { minLength: 2, maxLength: 2 }), fc.string({ minLength: 1, maxLength: 10 }), fc.boolean(), (seps, rest, upper) => {
        const name = `x${seps[0]}iap${seps[1]}${rest.replace(/[^a-z]/gi, 'a') || 'a'}`;
        expect(isIdentityHeader(upper ? name.toUpperCase() : name)).toBe(true);
      }),
    );
    expect(isIdentityHeader('x-iapetus')).toBe(false);
    expect(isIdentityHeader('x-forwarded-user')).toBe(false);
  });
});

describe('connectionTokens', () => {
  it('lowercases, trims and drops empty tokens, across repeated headers', () => {
    expect([...connectionTokens(' close ,X-Foo,, x-BAR ')]).toEqual(['close', 'x-foo', 'x-bar']);
    expect([...connectionTokens(['keep-alive', 'X-A'])]).toEqual(['keep-alive', 'x-a']);
    expect(connectionTokens(undefined).size).toBe(0);
  });
});

describe('buildUpstreamHeaders', () => {
  it('removes every identity alias, then adds the gate values', () => {
    const out = build(
      { 'x-iap-user': 'mallory', x_iap_user: 'mallory', 'x.iap.email': 'm@x', 'x-iap_groups': 'admins', accept: 'text/html' },
      { setHeaders: { 'X-Iap-User': 'alice' } },
    );
    expect(out).toMatchObject({ 'x-iap-user': 'alice', accept: 'text/html' });
    expect(Object.keys(out).filter((n) => foldHeaderName(n).startsWith('x-iap-'))).toEqual(['x-iap-user']);
  });

  it.each(['X-Client-IP', 'True-Client-IP', 'CF-Connecting-IP', 'Fastly-Client-IP', 'X-Cluster-Client-IP', 'X-Original-Forwarded-For', 'X-Forwarded', 'Forwarded-For', 'Client-IP', 'X-Real-Client-IP'])(
    'drops %s in every spelling from a direct client',
    (name) => {
      const spellings = [name, name.toLowerCase(), name.replace(/-/g, '_'), name.replace(/-/g, '.').toUpperCase()];
      const out = build(Object.fromEntries(spellings.map((spelling) => [spelling, '6.6.6.6'])));
      expect(Object.values(out)).not.toContain('6.6.6.6');
    },
  );

  it('keeps a trusted proxy\'s client-address headers in canonical spelling only', () => {
    const out = build({ 'cf-connecting-ip': '198.51.100.1', cf_connecting_ip: '6.6.6.6', 'true.client.ip': '6.6.6.6' }, { forwarding: viaProxy });
    expect(out['cf-connecting-ip']).toBe('198.51.100.1');
    expect(Object.values(out)).not.toContain('6.6.6.6');
  });

  it('processes Connection before adding its own headers, so a nomination cannot remove them', () => {
    const out = build(
      { connection: 'close, x-forwarded-for, x-iap-user, host, x-app, content-length', 'x-app': 'gone', 'content-length': '3' },
      { setHeaders: { 'x-iap-user': 'alice' } },
    );
    expect(out['x-app']).toBeUndefined();
    expect(out['x-iap-user']).toBe('alice');
    expect(out['x-forwarded-for']).toBe('203.0.113.7');
    expect(out.host).toBe('app.test');
    expect(out['content-length']).toBe('3');
    expect(out.connection).toBeUndefined();
  });

  it('drops hop-by-hop headers, Expect and the URL-override headers', () => {
    const out = build({
      'keep-alive': '1',
      'proxy-connection': 'x',
      te: 'trailers',
      trailer: 'x',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      'proxy-authorization': 'x',
      expect: '100-continue',
      proxy: 'http://evil',
      'x-original-url': '/admin',
      x_rewrite_url: '/admin',
      'user-agent': 'ua',
    });
    expect(Object.keys(out).sort()).toEqual(['host', 'user-agent', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip']);
  });

  it('overwrites forwarding headers from an untrusted peer and drops the ones it does not set', () => {
    const out = build({
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.test',
      'x-forwarded-prefix': '/pub',
      'x-forwarded-user': 'admin',
      forwarded: 'for=6.6.6.6',
      'x-real-ip': '6.6.6.6',
    });
    expect(out).toEqual({
      host: 'app.test',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.test',
      'x-forwarded-port': '80',
      'x-real-ip': '203.0.113.7',
    });
  });

  it('extends and keeps canonical forwarding headers from a trusted peer, never their aliases', () => {
    const out = build(
      {
        'x-forwarded-for': '198.51.100.1',
        'x-forwarded-host': 'public.example',
        'x-forwarded-port': '8443',
        forwarded: 'for=198.51.100.1',
        x_forwarded_host: 'evil.test',
        'x-forwarded-user': 'admin',
      },
      { forwarding: viaProxy },
    );
    expect(out).toMatchObject({
      'x-forwarded-for': '198.51.100.1, 10.0.0.2',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'public.example',
      'x-forwarded-port': '8443',
      forwarded: 'for=198.51.100.1',
      'x-real-ip': '198.51.100.1',
    });
    expect(out.x_forwarded_host).toBeUndefined();
    expect(out['x-forwarded-user']).toBeUndefined();
  });

  it('takes the port from the Host header, else the scheme default', () => {
    expect(build({}, { forwarding: { ...direct, hostHeader: 'app.test:8080' } })['x-forwarded-port']).toBe('8080');
    expect(build({}, { forwarding: { ...direct, scheme: 'https' } })['x-forwarded-port']).toBe('443');
  });

  it('strips route-managed names (folded) and gate-requested ones', () => {
    const route = { removeHeaders: ['x-debug'], setHeaders: { 'Remote-User': '{user.email}' } };
    const strip = routeStripNames(route);
    expect(routeStripNames(route)).toBe(strip);
    const out = build(
      { 'x-debug': '1', x_debug: '2', 'remote-user': 'mallory', remote_user: 'mallory', cookie: 'iap=1; app=2', authorization: 'Bearer t' },
      { strip, gateRemoveHeaders: ['Authorization'], setHeaders: { cookie: 'app=2' } },
    );
    expect(out).toMatchObject({ cookie: 'app=2' });
    for (const name of ['x-debug', 'x_debug', 'remote-user', 'remote_user', 'authorization']) expect(out[name], name).toBeUndefined();
  });

  it('keeps Upgrade/Connection only for websocket handshakes', () => {
    const out = build({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'k' }, { upgrade: true });
    expect(out).toMatchObject({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'k' });
  });

  it('never lets a set value start a new header line, and ignores invalid names', () => {
    const out = build({}, { setHeaders: { 'x-name': 'Eve\r\nX-Iap-User: admin', 'bad name': 'x', connection: 'close' } });
    expect(out['x-name']).toBe('Eve  X-Iap-User: admin');
    expect(out['bad name']).toBeUndefined();
    expect(out.connection).toBeUndefined();
    expect(sanitizeValue('a\tb')).toBe('a\tb');
  });
});

describe('cleanResponseHeaders', () => {
  it('drops hop-by-hop response headers and those the upstream names in Connection', () => {
    expect(
      cleanResponseHeaders({
        connection: 'keep-alive, x-internal',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'x-internal': 'secret',
        'set-cookie': ['a=1', 'b=2'],
        'content-type': 'text/plain',
      }),
    ).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  });
});
