/** observability/: the logger, the metrics registry. */
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { createAuditLog, NO_AUDIT, type AuditEvent, type AuditEventName, type AuditLog, type AuditRecord, type AuditSink } from './audit.ts';
export { createAccessLog, type AccessLine, type AccessLog } from './access-log.ts';
