import pino, { type Logger } from 'pino';
import { createBatch, FD_BATCH, STREAM_BATCH } from './access-log-batch.ts';

/** The fields of one access-log line, in the order they are written. */
export interface AccessLine {
  readonly method: string;
  readonly host: string | null;
  readonly path: string | null;
  readonly status: number;
  readonly ms: number;
  readonly route: string | null;
  readonly requestId: string;
  readonly clientIp: string | null;
  readonly websocket: boolean;
}

export type AccessLog = ((line: AccessLine) => void) & {
  /** Before a deliberate exit: every line handed over and written (see access-log-batch.ts). */
  settle(): Promise<void>;
};

/** Loggers whose lines are JSON written to a stream of their own, which the access log may share. */
const jsonStreams = new WeakMap<Logger, NodeJS.WritableStream>();

/** Called by createLogger for a JSON logger: its access lines may be written as ready-made text. */
export function markJsonLogger(logger: Logger): Logger {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as NodeJS.WritableStream | undefined;
  if (stream !== undefined && typeof stream.write === 'function') jsonStreams.set(logger, stream);
  return logger;
}

const LEVEL_INFO = 30;
const LEVEL_WARN = 40;

/**
 * The access log: one line per request, the line pino would write for
 * `logger.child({ mod: 'access' }).info(fields, 'request')`, at a fraction of the cost. With a
 * JSON logger the line is put together as text (the fields are fixed, so there is no object
 * to walk and nothing to redact: no header or query string is ever logged) and handed to the
 * logger's own stream, so it stays in order with the other lines and is flushed with them. The
 * timestamp string is made once per millisecond, and the JSON of values that repeat (method,
 * host, route, client address) once per value. Lines are handed over in batches
 * (access-log-batch.ts): to stdout, at most 50 ms late, in few large writes. `onDrop` counts
 * lines dropped because the reader fell far behind. A pretty (human) logger goes through pino.
 */
export function createAccessLog(logger: Logger, options: { onDrop?: (lines: number) => void } = {}): AccessLog {
  const stream = jsonStreams.get(logger);
  if (stream === undefined) {
    // The fields are fixed and never secret, so this path skips redaction too.
    const access = logger.child({ mod: 'access' }, { redact: [] });
    const log = (line: AccessLine) => {
      const { websocket, ...fields } = line;
      access.info(websocket ? { ...fields, websocket: true } : fields, 'request');
    };
    return Object.assign(log, { settle: () => Promise.resolve() });
  }
  const base = bindingsText(logger);
  const settings = typeof (stream as { fd?: unknown }).fd === 'number' ? FD_BATCH : STREAM_BATCH;
  const batch = createBatch(stream, { ...settings, onDrop: options.onDrop }, () => `{"level":${LEVEL_WARN},"time":"${new Date().toISOString()}"${base},"mod":"access"`);
  const [methods, hosts, routes, clients] = [new TextCache(), new TextCache(), new TextCache(), new TextCache()];
  let lastMs = -1;
  let lastTime = '';
  const log = (line: AccessLine) => {
    if (!logger.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastTime = new Date(now).toISOString();
    }
    batch.add(
      `{"level":${LEVEL_INFO},"time":"${lastTime}"${base},"mod":"access","method":${methods.text(line.method)},"host":${line.host === null ? 'null' : hosts.text(line.host)},"path":${nullable(line.path)},"status":${line.status},"ms":${Number.isFinite(line.ms) ? line.ms : null},"route":${line.route === null ? 'null' : routes.text(line.route)},"requestId":${text(line.requestId)},"clientIp":${line.clientIp === null ? 'null' : clients.text(line.clientIp)}${line.websocket ? ',"websocket":true' : ''},"msg":"request"}\n`,
    );
  };
  return Object.assign(log, { settle: () => batch.settle() });
}

/** The logger's own bindings (`service`, and any a parent added) as they open every line: `,"service":"gatehouse"`. */
function bindingsText(logger: Logger): string {
  const bindings = logger.bindings();
  let out = '';
  for (const [key, value] of Object.entries(bindings)) out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return out;
}

/**
 * JSON strings of values that repeat from line to line (hosts, route ids), made once: a busy
 * proxy logs the same few over and over. Bounded: emptied when full, so hostile hosts cost
 * nothing lasting.
 */
class TextCache {
  readonly #texts = new Map<string, string>();
  text(value: string): string {
    let found = this.#texts.get(value);
    if (found === undefined) {
      if (this.#texts.size >= 256) this.#texts.clear();
      found = JSON.stringify(value);
      this.#texts.set(value, found);
    }
    return found;
  }
}

/** A JSON string: every character the client chose is escaped as JSON requires. */
function text(value: string): string {
  return JSON.stringify(value);
}

function nullable(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}
