import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestGatehouse, type TestGatehouse } from '../helpers/gatehouse.ts';
import { http, waitFor } from '../helpers/http.ts';
import { CookieJar, signInViaHttp } from '../helpers/http-sign-in.ts';
import { startTestProvider, type TestProvider, type TestUser } from '../helpers/oidc-provider.ts';
import { freePort, startUpstream, type Upstream } from './auth/support.ts';

/**
 * Seed 002's setup, as written for Pomerium: the policy base64-encoded into POLICY, the sign-in
 * given as Pomerium's Azure-style IDP_* / AUTHENTICATE_SERVICE_URL / COOKIE_SECRET variables, and
 * code-server behind `allow_websockets`. A real provider plays the Azure issuer (its URL ends in
 * `/<tenant>/v2.0`), a real upstream plays code-server, and a real Gatehouse reads nothing else.
 */

const TENANT = '0b5e0c8e-1111-2222-3333-444455556666';
const CLIENT_ID = '5f2d0c1a-aaaa-bbbb-cccc-ddddeeeeffff';
const CLIENT_SECRET = 'azure-client-secret-do-not-echo';
const alice: TestUser = { sub: 'u-alice', email: 'alice@example.test', name: 'Alice', groups: [], password: 'alice-pw' };
const bob: TestUser = { sub: 'u-bob', email: 'bob@example.test', name: 'Bob', groups: [], password: 'bob-pw' };

let port: number;
let op: TestProvider;
let codeServer: Upstream;
let gh: TestGatehouse;
let dataDir: string;
const url = (host: string, path = '/') => `http://${host}:${port}${path}`;

beforeAll(async () => {
  port = await freePort();
  const authUrl = `http://auth.seed002.localhost:${port}`;
  dataDir = await mkdtemp(join(tmpdir(), 'gh-seed002-'));
  codeServer = await startUpstream('code-server');
  op = await startTestProvider({
    users: [alice, bob],
    issuerPath: `/${TENANT}/v2.0`,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${authUrl}/oauth2/callback`] }],
  });
  const policy = `
- from: http://code.seed002.localhost
  to: ${codeServer.origin}
  allow_websockets: true
  policy:
    - allow:
        or:
          - email:
              is: alice@example.test
- from: http://reports.seed002.localhost
  to: ${codeServer.origin}
  policy:
    allow:
      and:
        - domain: { is: example.test }
        - http_method: { is: GET }
    deny:
      or:
        - http_path: { starts_with: /private/ }
`;
  gh = await startTestGatehouse({
    POLICY: Buffer.from(policy).toString('base64'),
    IDP_PROVIDER: 'azure',
    IDP_PROVIDER_URL: op.issuer,
    IDP_CLIENT_ID: CLIENT_ID,
    IDP_CLIENT_SECRET: CLIENT_SECRET,
    AUTHENTICATE_SERVICE_URL: authUrl,
    COOKIE_SECRET: randomBytes(32).toString('base64'),
    INSECURE_SERVER: 'true',
    // The test picks the port; Pomerium's ADDRESS would say the same, and GATEHOUSE_LISTEN wins over it.
    ADDRESS: ':443',
    GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
    GATEHOUSE_DATA_DIR: dataDir,
  });
  await waitFor(async () => ((await http(port, `code.seed002.localhost:${port}`, '/')).status === 404 ? undefined : true), 'the POLICY routes');
});

afterAll(async () => {
  await gh?.stop();
  await op?.close();
  await codeServer?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("seed 002's Pomerium setup, unchanged", () => {
  it('issuer ends in /<tenant>/v2.0, as Azure does', () => {
    expect(op.issuer).toMatch(new RegExp(`/${TENANT}/v2\\.0$`));
  });

  it("maps Pomerium's variables onto the sign-in, and says so once each, never with a secret", () => {
    expect(gh.config.GATEHOUSE_OIDC_ISSUER).toBe(op.issuer);
    expect(gh.config.GATEHOUSE_OIDC_CLIENT_ID).toBe(CLIENT_ID);
    const notes = gh.logs.filter((l) => typeof l.setting === 'string').map((l) => [l.setting, l.outcome]);
    expect(notes).toEqual(
      expect.arrayContaining([
        ['idp_provider', 'mapped'],
        ['idp_provider_url', 'mapped'],
        ['idp_client_id', 'mapped'],
        ['idp_client_secret', 'mapped'],
        ['authenticate_service_url', 'mapped'],
        ['cookie_secret', 'mapped'],
        ['insecure_server', 'mapped'],
        ['address', 'overridden'],
      ]),
    );
    expect(new Set(notes.map((n) => n[0])).size).toBe(notes.length);
    expect(JSON.stringify(gh.logs)).not.toContain(CLIENT_SECRET);
    expect(gh.logs.find((l) => l.msg === 'routes loaded from the POLICY variable')).toMatchObject({ routes: 2, issues: 0 });
  });

  it('alice signs in at the Azure-style provider and reaches code-server; bob is refused', async () => {
    const signedIn = await signInViaHttp(url('code.seed002.localhost', '/?folder=/home'), alice.email, alice.password, new CookieJar());
    expect(signedIn.submittedLogin).toBe(true);
    expect(signedIn.response.status, signedIn.body.slice(0, 300)).toBe(200);
    // The upstream answers a browser with HTML holding what it received.
    expect(signedIn.body).toContain('<h1 id="app">code-server</h1>');
    expect(signedIn.body).toContain('"url":"/?folder=/home"');

    const refused = await signInViaHttp(url('code.seed002.localhost'), bob.email, bob.password, new CookieJar());
    expect(refused.response.status).toBe(403);
  });

  it("code-server's websockets pass for alice (allow_websockets)", async () => {
    const jar = new CookieJar();
    const signedIn = await signInViaHttp(url('code.seed002.localhost'), alice.email, alice.password, jar);
    expect(signedIn.response.status).toBe(200);
    const cookie = jar.header(new URL(url('code.seed002.localhost')));
    const socket = new WebSocket(`ws://127.0.0.1:${port}/stable/socket`, {
      headers: { host: `code.seed002.localhost:${port}`, origin: `http://code.seed002.localhost:${port}`, ...(cookie ? { cookie } : {}) },
    });
    const reply = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => socket.send('ping'));
      socket.on('message', (data) => resolve(data.toString()));
      socket.on('error', reject);
      socket.on('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    });
    socket.close();
    expect(reply).toBe('echo:ping');
  });

  it('a PPL rule with and:, a method and a deny on a path decides each request over real HTTP', async () => {
    const jar = new CookieJar();
    const home = await signInViaHttp(url('reports.seed002.localhost', '/q1'), bob.email, bob.password, jar);
    expect(home.response.status).toBe(200);
    const cookie = jar.header(new URL(url('reports.seed002.localhost'))) ?? '';
    const as = (method: string, path: string) => http(port, `reports.seed002.localhost:${port}`, path, { method, headers: { cookie, accept: 'application/json' } });
    expect((await as('GET', '/q2')).status).toBe(200);
    expect((await as('POST', '/q2')).status).toBe(403);
    expect((await as('GET', '/private/salaries')).status).toBe(403);
    const decision = gh.logs.filter((l) => l.msg === 'access denied').at(-1);
    expect(decision).toMatchObject({ reason: 'denied', entry: 'or(http_path:{starts_with:/private/})', path: '/private/salaries' });
  });
});
