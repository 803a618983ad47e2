import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the Docker client stays light', () => {
  it('importing the docker module, parsing DOCKER_HOST and opening a client load no Docker SDK, SSH or gRPC code', async () => {
    // A fresh process: the test runner's own module cache would hide what an import pulls in.
    // The client speaks to the engine over node:http; dockerode would bring ssh2, gRPC and protobufjs.
    const script = `
      import { createRequire } from 'node:module';
      import { pino } from 'pino';
      const docker = await import('./src/docker/index.ts');
      const client = await import('./src/docker/client.ts');
      docker.parseDockerHost('tcp://127.0.0.1:2375');
      (await client.openDockerClient('tcp://127.0.0.1:9')).close();
      docker.createDockerWatcher({ dockerHost: 'unix:///var/run/docker.sock', logger: pino({ level: 'silent' }), onListing() {} });
      const cache = createRequire(import.meta.url).cache;
      console.log(JSON.stringify(Object.keys(cache).filter((path) => /\\/node_modules\\/(dockerode|docker-modem|ssh2|@grpc|protobufjs)\\//.test(path))));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
