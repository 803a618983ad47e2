import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CookieJar, signInViaHttp } from '../../helpers/http-sign-in.ts';
import type { TestUser } from '../../helpers/oidc-provider.ts';
import { startAuthStack, type AuthStack, type ReceivedRequest } from './support.ts';

/**
 * A signed-in client that also sends its own identity headers, in every spelling a backend
 * might read as the same variable: the upstream only ever sees Gatehouse's values.
 */

const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice Example', groups: ['staff', 'ops'], password: 'alice-pw' };
const HEADERS = 'headers.spoof.gh.localhost';
const JWT = 'jwt.spoof.gh.localhost';
const NONE = 'none.spoof.gh.localhost';

let stack: AuthStack;
const cookies = new Map<string, string>();

beforeAll(async () => {
  stack = await startAuthStack({
    users: [alice],
    routes: [
      { from: `http://${HEADERS}`, allow: '*', header: { 'X-Remote-User': '{email}' } },
      { from: `http://${JWT}`, allow: '*', identity: 'jwt' },
      { from: `http://${NONE}`, allow: '*', identity: 'none' },
    ],
  });
  const jar = new CookieJar();
  for (const host of [HEADERS, JWT, NONE]) {
    const result = await signInViaHttp(stack.url(host, '/'), alice.email, alice.password, jar);
    expect(result.response.status).toBe(200);
    cookies.set(host, `gatehouse_session=${jar.get('gatehouse_session', new URL(stack.url(host)))!.value}`);
  }
});

afterAll(async () => {
  await stack?.close();
});

/** A raw HTTP/1.1 request, so header names and repeats go out exactly as written. */
function rawRequest(host: string, path: string, headerLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(stack.port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${stack.port}\r\nAccept: application/json\r\nConnection: close\r\n${headerLines.map((line) => `${line}\r\n`).join('')}\r\n`);
  });
}

const SPOOFED = [
  'X-Iap-User: mallory',
  'x-iap-user: mallory-2',
  'X-IAP-EMAIL: boss@example.test',
  'X-Iap-Groups: admins',
  'X-Iap-Name: The Boss',
  'X-Iap-Jwt-Assertion: eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.',
  'X_Iap_User: mallory-underscore',
  'x_iap_email: underscore@example.test',
  'X.Iap.Groups: dotted-admins',
  'x-iap_name: mixed',
  'X-IAP.JWT_ASSERTION: forged',
  'X-Iap-Impersonate: root',
  'X-Remote-User: boss@example.test',
  'X_Remote_User: boss@example.test',
];

function fold(name: string): string {
  return name.toLowerCase().replace(/[_.]/g, '-');
}

/** Every header the upstream received whose folded name is an identity header, as [folded name, value]. */
function identityHeaders(request: ReceivedRequest, extra: string[] = []): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = fold(request.rawHeaders[i]!);
    if (name.startsWith('x-iap-') || extra.includes(name)) out.push([name, request.rawHeaders[i + 1]!]);
  }
  return out.sort(([a], [b]) => a.localeCompare(b));
}

function lastFor(host: string, path: string): ReceivedRequest {
  const request = stack.upstream.received.filter((r) => r.headers.host?.startsWith(host) && r.url === path).at(-1);
  expect(request, `no upstream request for ${host}${path}`).toBeDefined();
  return request!;
}

describe('spoofed identity headers with a valid session', () => {
  it('identity=headers: exactly one of each X-Iap-* header, with Gatehouse values', async () => {
    const response = await rawRequest(HEADERS, '/spoof', [`Cookie: ${cookies.get(HEADERS)}`, ...SPOOFED]);
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    const seen = identityHeaders(lastFor(HEADERS, '/spoof'), ['x-remote-user']);
    const jwt = seen.find(([name]) => name === 'x-iap-jwt-assertion')?.[1];
    expect(jwt).toMatch(/^eyJhbGciOiJFUzI1Ni/);
    expect(seen).toEqual([
      ['x-iap-email', 'alice@example.test'],
      ['x-iap-groups', 'staff,ops'],
      ['x-iap-jwt-assertion', jwt],
      ['x-iap-name', 'Alice Example'],
      ['x-iap-user', 'u-alice'],
      ['x-remote-user', 'alice@example.test'],
    ]);
  });

  it('identity=jwt: only the assertion', async () => {
    await rawRequest(JWT, '/spoof', [`Cookie: ${cookies.get(JWT)}`, ...SPOOFED]);
    const seen = identityHeaders(lastFor(JWT, '/spoof'));
    expect(seen.map(([name]) => name)).toEqual(['x-iap-jwt-assertion']);
    expect(seen[0]![1]).toMatch(/^eyJhbGciOiJFUzI1Ni/);
  });

  it('identity=none: no identity header at all', async () => {
    await rawRequest(NONE, '/spoof', [`Cookie: ${cookies.get(NONE)}`, ...SPOOFED]);
    expect(identityHeaders(lastFor(NONE, '/spoof'))).toEqual([]);
  });

  it('a Connection header naming the identity headers cannot remove Gatehouse\'s own', async () => {
    await rawRequest(HEADERS, '/connection', [
      `Cookie: ${cookies.get(HEADERS)}`,
      'Connection: x-iap-user, x-iap-email, X-Iap-Jwt-Assertion, x-remote-user',
      'X-Iap-User: mallory',
    ]);
    const seen = new Map(identityHeaders(lastFor(HEADERS, '/connection'), ['x-remote-user']));
    expect(seen.get('x-iap-user')).toBe('u-alice');
    expect(seen.get('x-iap-email')).toBe('alice@example.test');
    expect(seen.get('x-iap-jwt-assertion')).toMatch(/^eyJ/);
    expect(seen.get('x-remote-user')).toBe('alice@example.test');
  });

  it('the same holds for a websocket handshake', async () => {
    const before = stack.upstream.websocketHandshakes.length;
    const socket = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, {
      headers: { host: `${HEADERS}:${stack.port}`, cookie: cookies.get(HEADERS)!, 'x-iap-user': 'mallory', X_Iap_Email: 'boss@example.test', 'X.Iap.Groups': 'admins' },
    });
    const reply = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('hello'));
      socket.on('message', (data) => resolve(data.toString()));
      socket.on('error', reject);
    });
    socket.close();
    expect(reply).toBe('echo:hello');
    const handshake = stack.upstream.websocketHandshakes[before]!;
    const seen = new Map(identityHeaders(handshake));
    expect([...seen.keys()].sort()).toEqual(['x-iap-email', 'x-iap-groups', 'x-iap-jwt-assertion', 'x-iap-name', 'x-iap-user']);
    expect(seen.get('x-iap-user')).toBe('u-alice');
    expect(seen.get('x-iap-email')).toBe('alice@example.test');
    expect(handshake.headers.cookie).toBeUndefined();
  });
});
