import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { isGatehouseError } from '../../../src/errors.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (!isGatehouseError(error, 'CONFIG_INVALID')) throw error;
    return error.message.split('\n').slice(1).map((line) => line.trim());
  }
  return [];
}

describe('loadConfig', () => {
  it('fills every default and freezes the result', () => {
    const config = loadConfig({});
    expect(config.GATEHOUSE_LISTEN).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.GATEHOUSE_ADMIN_LISTEN).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(config.GATEHOUSE_LABEL_PREFIX).toBe('iap');
    expect(config.GATEHOUSE_DOCKER_RESYNC).toBe(30_000);
    expect(config.GATEHOUSE_SESSION_TTL).toBe(14 * 3_600_000);
    expect(config.GATEHOUSE_TRUSTED_PROXIES).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.GATEHOUSE_LISTEN)).toBe(true);
  });

  it('reports every wrong value at once, one line each, naming the variable, the value and what is expected', () => {
    const lines = problems({ GATEHOUSE_LISTEN: '8080', GATEHOUSE_DOCKER_RESYNC: 'soon', GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/8, 1.2.3.4/40', GATEHOUSE_LOG_FORMAT: 'xml' });
    expect(lines).toHaveLength(4);
    expect(lines).toContain('GATEHOUSE_LISTEN="8080": expected HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080');
    expect(lines).toContain('GATEHOUSE_TRUSTED_PROXIES="10.0.0.0/8, 1.2.3.4/40": "1.2.3.4/40" is not an IP address or CIDR (e.g. 172.16.0.0/12, 10.0.0.1, fd00::/8)');
    expect(lines).toContain('GATEHOUSE_DOCKER_RESYNC="soon": expected a duration such as 500ms, 30s, 5m or 14h');
    expect(lines.find((l) => l.startsWith('GATEHOUSE_LOG_FORMAT="xml": '))).toMatch(/json.*pretty/);
  });

  it('takes redis:// and rediss:// URLs for GATEHOUSE_REDIS_URL and never echoes a wrong one (it may carry a password)', () => {
    expect(loadConfig({ GATEHOUSE_REDIS_URL: 'redis://:pw@redis:6379/0' }).GATEHOUSE_REDIS_URL).toBe('redis://:pw@redis:6379/0');
    expect(loadConfig({ GATEHOUSE_REDIS_URL: 'rediss://cache.internal:6380' }).GATEHOUSE_REDIS_URL).toBe('rediss://cache.internal:6380');
    expect(loadConfig({}).GATEHOUSE_REDIS_URL).toBeUndefined();
    for (const wrong of ['http://:hunter2@redis:6379', 'redis:', 'hunter2']) {
      const lines = problems({ GATEHOUSE_REDIS_URL: wrong });
      expect(lines).toEqual(['GATEHOUSE_REDIS_URL=(hidden): expected redis://[:password@]host:6379[/db], or rediss://… for TLS']);
      expect(lines.join()).not.toContain('hunter2');
    }
  });

  it('reads a _FILE twin, trims its final newline, and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    writeFileSync(join(dir, 'listen'), '127.0.0.1:8181\n');
    expect(loadConfig({ GATEHOUSE_LISTEN_FILE: join(dir, 'listen') }).GATEHOUSE_LISTEN).toEqual({ host: '127.0.0.1', port: 8181 });
    expect(problems({ GATEHOUSE_LISTEN: '127.0.0.1:1', GATEHOUSE_LISTEN_FILE: join(dir, 'listen') })).toEqual(['GATEHOUSE_LISTEN and GATEHOUSE_LISTEN_FILE are both set: keep one']);
    expect(problems({ GATEHOUSE_SECRET_FILE: join(dir, 'missing') })).toEqual([`GATEHOUSE_SECRET_FILE="${join(dir, 'missing')}": cannot read the file (ENOENT)`]);
  });

  it('never echoes a secret in an error', () => {
    const lines = problems({ GATEHOUSE_SECRET: '', GATEHOUSE_OIDC_CLIENT_SECRET: 'x'.repeat(3), GATEHOUSE_LISTEN: 'bad' });
    expect(lines.join('\n')).not.toContain('xxx');
  });

  it('keeps the issuer exactly as written, trailing slash included (providers compare it character for character)', () => {
    expect(loadConfig({ GATEHOUSE_OIDC_ISSUER: 'https://authentik.example/application/o/gatehouse/' }).GATEHOUSE_OIDC_ISSUER).toBe('https://authentik.example/application/o/gatehouse/');
    expect(loadConfig({ GATEHOUSE_AUTH_URL: 'https://auth.example/' }).GATEHOUSE_AUTH_URL).toBe('https://auth.example');
    expect(problems({ GATEHOUSE_OIDC_ISSUER: 'ftp://x' })).toEqual(['GATEHOUSE_OIDC_ISSUER="ftp://x": expected an http or https URL']);
  });
});
