import { describe, expect, it } from 'vitest';
import { loadConfig, readDockerEngines } from '../../../src/config/index.ts';

const readable = (files: string[]) => (file: string) => files.includes(file);
const certs = (dir: string) => ['ca.pem', 'cert.pem', 'key.pem'].map((file) => `${dir}/${file}`);

describe('GATEHOUSE_DOCKER_HOSTS', () => {
  it('is DOCKER_HOST alone, named local, when unset', () => {
    const { value, problems } = readDockerEngines({ DOCKER_HOST: 'tcp://socket-proxy:2375' });
    expect(problems).toEqual([]);
    expect(value).toEqual({ several: false, engines: [{ name: 'local', dockerHost: 'tcp://socket-proxy:2375', tls: {}, address: null }] });
    expect(readDockerEngines({}).value.engines[0]?.dockerHost).toBe('unix:///var/run/docker.sock');
  });

  it('reads named engines: the first runs beside Gatehouse, the others are reached at their host', () => {
    const { value, problems } = readDockerEngines(
      {
        GATEHOUSE_DOCKER_HOSTS: ' local=unix:///var/run/docker.sock , pi=tcp://10.0.0.5:2376,mini-pc=tcp://mini.lan:2375',
        GATEHOUSE_DOCKER_TLS_VERIFY_PI: '1',
        GATEHOUSE_DOCKER_CERT_PATH_PI: '/certs/pi',
      },
      readable(certs('/certs/pi')),
    );
    expect(problems).toEqual([]);
    expect(value.several).toBe(true);
    expect(value.engines).toEqual([
      { name: 'local', dockerHost: 'unix:///var/run/docker.sock', tls: {}, address: null },
      { name: 'pi', dockerHost: 'tcp://10.0.0.5:2376', tls: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs/pi' }, address: '10.0.0.5' },
      { name: 'mini-pc', dockerHost: 'tcp://mini.lan:2375', tls: {}, address: 'mini.lan' },
    ]);
  });

  it('names bare URLs: the first local, the others after their host', () => {
    const { value, problems } = readDockerEngines({ GATEHOUSE_DOCKER_HOSTS: 'unix:///var/run/docker.sock,tcp://pi.lan:2375' });
    expect(problems).toEqual([]);
    expect(value.engines.map((engine) => [engine.name, engine.address])).toEqual([
      ['local', null],
      ['pi-lan', 'pi.lan'],
    ]);
  });

  it('takes an explicit address for a remote engine, also one reached over a unix socket', () => {
    const { value, problems } = readDockerEngines({
      GATEHOUSE_DOCKER_HOSTS: 'nas=unix:///var/run/docker.sock,pi=unix:///run/pi-tunnel.sock',
      GATEHOUSE_DOCKER_ADDRESS_PI: '192.168.1.20',
    });
    expect(problems).toEqual([]);
    expect(value.engines.map((engine) => [engine.name, engine.address])).toEqual([
      ['nas', null],
      ['pi', '192.168.1.20'],
    ]);
  });

  it.each([
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///var/run/docker.sock,pi=unix:///run/pi.sock' }, /GATEHOUSE_DOCKER_ADDRESS_PI is not set: .*unix socket/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'a=unix:///x.sock,a=tcp://h:2375' }, /engine name "a" is used twice/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'Pi_4=tcp://h:2375' }, /engine name "Pi_4" must be 1–32 lower-case letters/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,,pi=tcp://h:2375' }, /item 2 \(""\): empty/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=ssh://nas' }, /scheme ssh:\/\/ is not supported/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix://relative.sock' }, /absolute path/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=tcp://h:2376', GATEHOUSE_DOCKER_TLS_VERIFY_PI: '1' }, /GATEHOUSE_DOCKER_CERT_PATH_PI is not set/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=tcp://h:2375', GATEHOUSE_DOCKER_CERT_PATH_PI: '/certs/pi' }, /GATEHOUSE_DOCKER_CERT_PATH_PI is set but the engine is not reached over TLS: set GATEHOUSE_DOCKER_TLS_VERIFY_PI=1/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=https://h:2376', GATEHOUSE_DOCKER_CERT_PATH_PI: '/nowhere' }, /GATEHOUSE_DOCKER_CERT_PATH_PI=\/nowhere: cannot read ca.pem, cert.pem, key.pem/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=tcp://h:2375', GATEHOUSE_DOCKER_TLS_VERIFY_PIE: '1' }, /GATEHOUSE_DOCKER_TLS_VERIFY_PIE: no engine in GATEHOUSE_DOCKER_HOSTS is named "pie"/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=tcp://h:2375', GATEHOUSE_DOCKER_ADDRESS_PI: 'http://10.0.0.5:80' }, /GATEHOUSE_DOCKER_ADDRESS_PI="http:\/\/10.0.0.5:80": expected the IP address or host name/],
    [{ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock', DOCKER_HOST: 'unix:///y.sock' }, /DOCKER_HOST and GATEHOUSE_DOCKER_HOSTS are both set/],
    [{ GATEHOUSE_DOCKER_ADDRESS_PI: '10.0.0.5' }, /GATEHOUSE_DOCKER_ADDRESS_PI is set but GATEHOUSE_DOCKER_HOSTS is not/],
  ])('refuses %j, naming what to change', (env, message) => {
    const { problems } = readDockerEngines(env, readable([]));
    expect(problems.join('\n')).toMatch(message);
  });

  it('fails loadConfig at startup with the variable named, and never shows a key file', () => {
    expect(() => loadConfig({ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=tcp://h:2376', GATEHOUSE_DOCKER_TLS_VERIFY_PI: '1', GATEHOUSE_DOCKER_CERT_PATH_PI: '/nowhere' })).toThrow(
      /invalid configuration:\n.*GATEHOUSE_DOCKER_CERT_PATH_PI=\/nowhere: cannot read ca.pem, cert.pem, key.pem/,
    );
    const config = loadConfig({ GATEHOUSE_DOCKER_HOSTS: 'local=unix:///x.sock,pi=tcp://10.0.0.5:2375' });
    expect(config.dockerEngines.engines.map((engine) => engine.name)).toEqual(['local', 'pi']);
    expect(JSON.stringify(config.dockerEngines)).not.toMatch(/PRIVATE KEY/);
  });
});
