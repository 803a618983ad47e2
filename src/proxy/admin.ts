import type { AddressInfo } from 'node:net';
import Fastify, { LogController } from 'fastify';
import type { ListenAddress } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';

export interface AdminServerOptions {
  /** GATEHOUSE_ADMIN_LISTEN: loopback by default. */
  listen: ListenAddress;
  logger: Logger;
  metrics: Metrics;
  readiness: () => { ready: boolean; detail: Record<string, unknown> };
}

export interface AdminServer {
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
}

/**
 * Health, readiness and metrics on their own listener (GATEHOUSE_ADMIN_LISTEN, loopback by
 * default), so no routed host can ever reach them through the proxy.
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const logger = options.logger.child({ mod: 'admin' });
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
  });

  app.get('/healthz', (_request, reply) => {
    reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('ok');
  });
  app.get('/readyz', (_request, reply) => {
    const { ready, detail } = options.readiness();
    reply.header('cache-control', 'no-store').code(ready ? 200 : 503).send({ ready, ...detail });
  });
  app.get('/metrics', async (_request, reply) => {
    const registry = options.metrics.registry;
    reply.header('cache-control', 'no-store').type(registry.contentType);
    return registry.metrics();
  });

  return {
    async listen() {
      const listen = options.listen;
      await app.listen({ host: listen.host, port: listen.port });
      const info = app.server.address() as AddressInfo;
      logger.info({ address: `${info.address}:${info.port}` }, 'admin listening');
      return { port: info.port };
    },
    async close() {
      await app.close();
    },
  };
}
