/** observability/: the logger, the metrics registry. */
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { createAccessLog, type AccessLine, type AccessLog } from './access-log.ts';
