import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import { markJsonLogger } from './access-log.ts';

export type { Logger };

/**
 * Paths pino blanks in every log line. Secrets must never reach a log: cookies, tokens,
 * authorization headers, and any config field carrying key material.
 */
const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.cookie',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.id_token',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  'GATEHOUSE_SECRET',
  'GATEHOUSE_OIDC_CLIENT_SECRET',
  'config.GATEHOUSE_SECRET',
  'config.GATEHOUSE_OIDC_CLIENT_SECRET',
];

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    base: { service: 'gatehouse' },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return markJsonLogger(pino(base, options.destination));
  if (options.format === 'pretty') {
    // In this thread, not as a pino transport: a transport is a worker thread with its own heap,
    // about 20 MB more RSS (15 MB private) for the quick start, which logs pretty. Loaded only here.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: Record<string, unknown>) => NodeJS.WritableStream;
    return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  // Asynchronous writes: while one write is in flight the next lines gather into one, so a busy
  // access log costs one write per batch rather than one per request. pino flushes it on exit.
  return markJsonLogger(pino(base, pino.destination({ dest: 1, sync: false })));
}
