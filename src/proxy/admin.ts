import type { AddressInfo } from 'node:net';
import Fastify, { LogController } from 'fastify';
import type { ListenAddress } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { PolicyEntry } from '../routes/index.ts';
import { explain, type ExplainQuery } from './explain.ts';
import { renderStatusPage, type StatusSnapshot } from './status-page.ts';
import { tableReport } from './table-report.ts';
import { noSchemaCompilers } from './no-schemas.ts';

export interface AdminServerOptions {
  /** GATEHOUSE_ADMIN_LISTEN: loopback by default. */
  listen: ListenAddress;
  logger: Logger;
  metrics: Metrics;
  readiness: () => { ready: boolean; detail: Record<string, unknown> };
  /** The running table and what surrounds it, for /status, /api/routes and /api/explain. */
  status?: () => StatusSnapshot;
  /** Who may use a route that names no allow entry, as the request path applies it. */
  defaultAllow?: readonly PolicyEntry[];
  /** What `gatehouse routes` and `explain` compare with their own settings before trusting this instance. */
  instance?: InstanceFacts;
}

/** The settings that decide what a table contains: a command with other settings builds its own. */
export interface InstanceFacts {
  readonly labelPrefix: string;
  readonly routesFile: string | null;
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
    schemaController: noSchemaCompilers,
  });

  app.get('/healthz', (_request, reply) => {
    reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('ok');
  });
  app.get('/readyz', (_request, reply) => {
    const { ready, detail } = options.readiness();
    reply.header('cache-control', 'no-store').code(ready ? 200 : 503).send({ ready, ...detail });
  });
  const status = options.status;
  if (status !== undefined) {
    app.get('/status', (_request, reply) => {
      const page = renderStatusPage(status());
      reply.code(page.status).headers(page.headers).send(page.body);
    });
    app.get('/api/routes', (_request, reply) => {
      const { generation } = status();
      reply.header('cache-control', 'no-store').send({ instance: options.instance ?? null, generation: generation.id, ...tableReport(generation.table) });
    });
    app.get('/api/explain', (request, reply) => {
      const query = explainQuery(request.query as Record<string, string | string[] | undefined>);
      const result = explain(status().generation.table, query, options.defaultAllow ?? []);
      reply.header('cache-control', 'no-store').code(result.ok ? 200 : 400);
      reply.send(result.ok ? { instance: options.instance ?? null, ...result.explanation } : { error: 'bad_query', message: result.problem });
    });
  }
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

/** `?url=…&user=…&groups=a,b&claim=role=admin&method=…&provider=…&ip=…` → the explain query. */
export function explainQuery(params: Record<string, string | string[] | undefined>): ExplainQuery {
  const one = (name: string): string | undefined => {
    const value = params[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const all = (name: string): string[] => {
    const value = params[name];
    return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  };
  const claims: Record<string, string> = {};
  for (const pair of all('claim')) {
    const eq = pair.indexOf('=');
    if (eq > 0) claims[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const user = one('user');
  const sub = one('sub');
  const method = one('method');
  const provider = one('provider');
  const ip = one('ip');
  const origin = one('origin');
  const requestMethod = one('request_method');
  return {
    ...(origin === undefined ? {} : { origin }),
    ...(requestMethod === undefined ? {} : { requestMethod }),
    url: one('url') ?? '',
    groups: all('groups'),
    claims,
    ...(user === undefined ? {} : { user }),
    ...(sub === undefined ? {} : { sub }),
    ...(method === undefined ? {} : { method }),
    ...(provider === undefined ? {} : { provider }),
    ...(ip === undefined ? {} : { ip }),
  };
}
