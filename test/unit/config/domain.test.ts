import { describe, expect, it } from 'vitest';
import { labelTrust } from '../../../src/config/label-trust.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { isGatehouseError } from '../../../src/errors.ts';

const domainOf = (value: string) => labelTrust(loadConfig({ GATEHOUSE_DOMAIN: value })).translate.domain;

describe('GATEHOUSE_DOMAIN', () => {
  it('gives https hosts under the domain, or plain http when written as http://', () => {
    expect(domainOf('NAS.example.')).toEqual({ domain: 'nas.example', scheme: 'https' });
    expect(domainOf('https://nas.example')).toEqual({ domain: 'nas.example', scheme: 'https' });
    expect(domainOf('http://nas.localhost')).toEqual({ domain: 'nas.localhost', scheme: 'http' });
    expect(labelTrust(loadConfig({})).translate.domain).toBeNull();
  });

  it.each(['nas', '*.nas.example', 'nas.example/path', 'ftp://nas.example', 'nas..example', '-nas.example'])('refuses %s, saying what is expected', (value) => {
    try {
      loadConfig({ GATEHOUSE_DOMAIN: value });
      expect.unreachable();
    } catch (error) {
      expect(isGatehouseError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain('GATEHOUSE_DOMAIN');
      expect((error as Error).message).toContain('expected a domain such as nas.example');
    }
  });
});
