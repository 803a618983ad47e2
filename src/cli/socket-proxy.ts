import { loadConfig } from '../config/index.ts';
import { GatehouseError } from '../errors.ts';
import { createSocketProxy } from '../docker/index.ts';
import { createLogger } from '../observability/index.ts';

export async function runSocketProxy(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.GATEHOUSE_LOG_LEVEL, format: config.GATEHOUSE_LOG_FORMAT });
  if (!config.DOCKER_HOST.startsWith('unix://')) {
    throw new GatehouseError('CONFIG_INVALID', `DOCKER_HOST="${config.DOCKER_HOST}": the socket proxy needs the engine's unix socket, e.g. unix:///var/run/docker.sock`);
  }
  const proxy = createSocketProxy({ listen: config.GATEHOUSE_SOCKET_PROXY_LISTEN, socketPath: config.DOCKER_HOST.slice('unix://'.length), logger });
  await proxy.listen();
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
