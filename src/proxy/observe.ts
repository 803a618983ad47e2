import { createAccessLog, type Logger } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';

/**
 * One access-log line and one metrics sample per request. The path is logged without its
 * query (query strings carry tokens), and no header is ever logged.
 */
export interface AccessRecord {
  readonly method: string;
  readonly host: string | null;
  readonly path: string | null;
  readonly status: number;
  readonly durationMs: number;
  readonly routeId: string | null;
  readonly requestId: string;
  readonly clientIp: string | null;
  readonly websocket?: boolean;
  /** For websockets: time to the handshake, which is what the latency histogram measures. */
  readonly handshakeMs?: number;
}

export type Observer = ((record: AccessRecord) => void) & {
  /** Before a deliberate exit: every access line written. */
  settle(): Promise<void>;
};

export function createObserver(options: { logger: Logger; metrics: Metrics; accessLog: boolean }): Observer {
  const { requests, requestDuration, accessLogDropped } = options.metrics;
  const access = options.accessLog ? createAccessLog(options.logger, { onDrop: (lines) => accessLogDropped.inc(lines) }) : null;
  const observe = (record: AccessRecord) => {
    const route = record.routeId ?? 'none';
    requests.inc({ route, status: String(record.status) });
    requestDuration.observe({ route }, (record.handshakeMs ?? record.durationMs) / 1000);
    if (access === null) return;
    access({
      method: record.method,
      host: record.host,
      path: record.path,
      status: record.status,
      ms: Math.round(record.durationMs * 10) / 10,
      route: record.routeId,
      requestId: record.requestId,
      clientIp: record.clientIp,
      websocket: record.websocket === true,
    });
  };
  return Object.assign(observe, { settle: () => access?.settle() ?? Promise.resolve() });
}

/** The path part of a raw request-target, for logging requests that never got normalised. */
export function pathForLog(rawUrl: string | undefined): string | null {
  if (rawUrl === undefined) return null;
  const q = rawUrl.indexOf('?');
  return (q === -1 ? rawUrl : rawUrl.slice(0, q)).slice(0, 512);
}
