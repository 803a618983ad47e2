import { Counter, Gauge, Histogram, Registry, registerProcessMetrics } from './prometheus.ts';

/** Every metric Gatehouse exports, on one registry served at the admin listener's /metrics. */
export function createMetrics() {
  const registry = new Registry();
  registerProcessMetrics(registry, 'gatehouse_process_');
  const metrics = {
    registry,
    requests: new Counter({
      name: 'gatehouse_requests_total',
      help: 'Requests answered, by route id (or "none") and status code',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'gatehouse_request_duration_seconds',
      help: 'Time from request start to response end, by route id',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    accessLogDropped: new Counter({
      name: 'gatehouse_access_log_dropped_lines_total',
      help: 'Access-log lines dropped because the log reader (stdout) fell behind by more than 4 MiB',
      registers: [registry],
    }),
    routes: new Gauge({ name: 'gatehouse_routes', help: 'Routes in the live table', registers: [registry] }),
    rejected: new Gauge({
      name: 'gatehouse_rejected_sources',
      help: 'Containers or file routes rejected from the live table, by kind of problem',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    discoveryUp: new Gauge({
      name: 'gatehouse_discovery_up',
      help: '1 while the Docker event stream is connected and the last list succeeded, else 0',
      registers: [registry],
    }),
    discoveryDegradedSince: new Gauge({
      name: 'gatehouse_discovery_degraded_since_seconds',
      help: 'Unix time since discovery has been degraded; 0 when healthy',
      registers: [registry],
    }),
    dockerEngineUp: new Gauge({
      name: 'gatehouse_docker_engine_up',
      help: "1 while this Docker engine's event stream is connected and its last list succeeded, else 0 (its last routes stay live)",
      labelNames: ['engine'] as const,
      registers: [registry],
    }),
    dockerEngineDegradedSince: new Gauge({
      name: 'gatehouse_docker_engine_degraded_since_seconds',
      help: 'Unix time since this Docker engine has been unreachable or not yet connected; 0 when up',
      labelNames: ['engine'] as const,
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'gatehouse_route_reloads_total',
      help: 'Route table rebuilds, by outcome (published, unchanged)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    reloadDuration: new Histogram({
      name: 'gatehouse_route_reload_duration_seconds',
      help: 'Time to translate labels and build the route table',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    auditEvents: new Counter({
      name: 'gatehouse_audit_events_total',
      help: 'Audit events (sign_in, sign_in_failed, locked, refused, sign_out), by event',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    configFileErrors: new Counter({
      name: 'gatehouse_config_file_errors_total',
      help: 'Routes-file loads that failed and kept the last good file',
      registers: [registry],
    }),
    tlsCertificateExpiry: new Gauge({
      name: 'gatehouse_tls_certificate_expiry_timestamp_seconds',
      help: 'Unix time at which each certificate in use expires, by source and the names it covers',
      labelNames: ['source', 'names'] as const,
      registers: [registry],
    }),
    tlsCertificateDaysLeft: new Gauge({
      name: 'gatehouse_tls_certificate_days_left',
      help: 'Whole days until each certificate in use expires (updated at every reload and daily)',
      labelNames: ['source', 'names'] as const,
      registers: [registry],
    }),
    tlsCertificatesSkipped: new Gauge({
      name: 'gatehouse_tls_certificates_skipped',
      help: 'Certificate files skipped at the last reload (unreadable, not parsing, key mismatch, expired)',
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
