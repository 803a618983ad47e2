import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_IP_HEADERS } from '../../../src/http/index.ts';
import { docker, ECHO_IMAGE, ensureEchoImage, parseEcho } from '../../helpers/images.ts';
import { waitFor } from '../../helpers/http.ts';
import { rawGet, spec, startProxy, table, type Harness } from './support.ts';

/**
 * Client-address headers against a real CGI upstream (busybox httpd), where `X-Client-IP`,
 * `x_client_ip` and `X.Client.IP` all become the one variable HTTP_X_CLIENT_IP that apps read.
 */
const SPOOFED = '6.6.6.6';

/** Every client-address header in three spellings: canonical, snake case, dotted and upper case. */
function spoofedHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of CLIENT_IP_HEADERS) {
    headers[name] = SPOOFED;
    headers[name.replace(/-/g, '_')] = SPOOFED;
    headers[name.replace(/-/g, '.').toUpperCase()] = SPOOFED;
  }
  return headers;
}

/** CGI variables that carry the spoofed address. */
function spoofedVariables(body: string): string[] {
  const env = parseEcho(body);
  return Object.keys(env).filter((name) => env[name]?.includes(SPOOFED));
}

describe('proxy: client-address headers against a CGI upstream', () => {
  let container = '';
  let origin = '';
  let direct: Harness;
  let behindProxy: Harness;

  beforeAll(async () => {
    await ensureEchoImage();
    container = await docker('run', '-d', '--rm', '-p', '127.0.0.1::80', ECHO_IMAGE);
    const port = (await docker('port', container, '80/tcp')).split('\n')[0]?.split(':').pop();
    origin = `http://127.0.0.1:${port}`;
    const routes = table(spec({ origin }));
    direct = await startProxy({ table: routes });
    behindProxy = await startProxy({ table: routes, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1' } });
    // busybox httpd may take a moment to listen after the container starts.
    await waitFor(async () => ((await rawGet(direct.port, '/', [])).status === 200 ? true : undefined), 'the CGI upstream');
  }, 120_000);
  afterAll(async () => {
    await direct?.close();
    await behindProxy?.close();
    if (container) await docker('rm', '-f', container).catch(() => '');
  });

  async function echo(port: number, headers: Record<string, string>): Promise<string> {
    // Raw lines: every spelling reaches Gatehouse exactly as written.
    const res = await rawGet(port, '/cgi-bin/echo', Object.entries(headers).map(([name, value]) => `${name}: ${value}`));
    expect(res.status).toBe(200);
    return res.body;
  }

  it('drops every client-address header, in every spelling, from a client that is not a trusted proxy', async () => {
    const body = await echo(direct.port, spoofedHeaders());
    expect(spoofedVariables(body)).toEqual([]);
    const env = parseEcho(body);
    expect(env.HTTP_X_REAL_IP).toBe('127.0.0.1');
    expect(env.HTTP_X_FORWARDED_FOR).toBe('127.0.0.1');
  });

  it.each(['X-Client-IP', 'True-Client-IP', 'CF-Connecting-IP', 'Fastly-Client-IP', 'X-Cluster-Client-IP', 'X-Original-Forwarded-For', 'X-Forwarded', 'Forwarded-For', 'Client-IP', 'X-Real-Client-IP'])(
    'drops %s alone from an untrusted client',
    async (name) => {
      expect(spoofedVariables(await echo(direct.port, { [name]: SPOOFED }))).toEqual([]);
    },
  );

  it('passes a trusted proxy\'s canonical client-address headers on, but never their alias spellings', async () => {
    const body = await echo(behindProxy.port, { 'CF-Connecting-IP': '198.51.100.9', cf_connecting_ip: SPOOFED, 'X.Client.IP': SPOOFED });
    const env = parseEcho(body);
    expect(env.HTTP_CF_CONNECTING_IP).toBe('198.51.100.9');
    expect(spoofedVariables(body)).toEqual([]);
  });
});
