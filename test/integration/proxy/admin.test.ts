import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../helpers/http.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { createAdminServer, type AdminServer } from '../../../src/proxy/index.ts';

describe('admin listener', () => {
  let admin: AdminServer;
  let port: number;
  let ready = false;
  const metrics = createMetrics();

  beforeAll(async () => {
    const config = loadConfig({ GATEHOUSE_ADMIN_LISTEN: '127.0.0.1:0' });
    admin = createAdminServer({
      listen: config.GATEHOUSE_ADMIN_LISTEN,
      logger: createLogger({ level: 'silent', format: 'json' }),
      metrics,
      readiness: () => (ready ? { ready, detail: { routes: 3 } } : { ready, detail: { discovery: 'degraded since 2026-01-01T00:00:00Z' } }),
    });
    ({ port } = await admin.listen());
  });
  afterAll(() => admin.close());

  it('answers /healthz with 200 "ok" while the process runs', async () => {
    const res = await http(port, 'localhost', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok');
  });

  it('answers /readyz with 503 and the detail until ready, then 200', async () => {
    const notReady = await http(port, 'localhost', '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({ ready: false, discovery: 'degraded since 2026-01-01T00:00:00Z' });
    ready = true;
    const nowReady = await http(port, 'localhost', '/readyz');
    expect(nowReady.status).toBe(200);
    expect(JSON.parse(nowReady.body)).toEqual({ ready: true, routes: 3 });
  });

  it('serves the metrics registry in Prometheus text format', async () => {
    metrics.requests.inc({ route: 'container:x/default', status: '200' });
    const res = await http(port, 'localhost', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('gatehouse_requests_total{route="container:x/default",status="200"} 1');
    expect(res.body).toContain('gatehouse_process_');
  });

  it('serves nothing else', async () => {
    expect((await http(port, 'localhost', '/')).status).toBe(404);
  });
});
