import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('loading dockerode lazily', () => {
  it('importing the docker module, parsing DOCKER_HOST and creating a watcher load no dockerode', async () => {
    // A fresh process: the test runner's own module cache would hide what an import pulls in.
    const script = `
      import { createRequire } from 'node:module';
      import { pino } from 'pino';
      const docker = await import('./src/docker/index.ts');
      docker.parseDockerHost('tcp://127.0.0.1:2375');
      docker.createDockerWatcher({ dockerHost: 'unix:///var/run/docker.sock', logger: pino({ level: 'silent' }), onListing() {} });
      const cache = createRequire(import.meta.url).cache;
      console.log(JSON.stringify(Object.keys(cache).filter((path) => path.includes('/node_modules/dockerode/') || path.includes('/node_modules/docker-modem/'))));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
