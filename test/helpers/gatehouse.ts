import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.ts';
import { startGatehouse, type RunningGatehouse } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';

export interface TestGatehouse extends RunningGatehouse {
  /** Every log line written so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The label prefix this instance reads: unique per instance so parallel work never collides. */
  prefix: string;
}

/** Starts a real Gatehouse in this process on ephemeral ports, reading the real Docker engine. */
export async function startTestGatehouse(env: Record<string, string> = {}): Promise<TestGatehouse> {
  const prefix = env.GATEHOUSE_LABEL_PREFIX ?? `ght${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    GATEHOUSE_LISTEN: '127.0.0.1:0',
    GATEHOUSE_ADMIN_LISTEN: '127.0.0.1:0',
    GATEHOUSE_DOCKER_DEBOUNCE: '50ms',
    GATEHOUSE_SHUTDOWN_GRACE: '2s',
    GATEHOUSE_LABEL_PREFIX: prefix,
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  const running = await startGatehouse(config, logger);
  return { ...running, logs, prefix };
}
