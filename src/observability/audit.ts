import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The audit stream: who signed in, who failed or was locked out, who was refused where (with the
 * deciding entry) and who signed out, as JSON lines in the data dir (`audit.jsonl`), apart from
 * the access log. Events are typed: only the fields below are ever written, so no token, cookie,
 * password or code can reach the file by accident.
 */
export type AuditEvent =
  | { readonly event: 'sign_in'; readonly user: string; readonly sub: string; readonly requestId?: string }
  | { readonly event: 'sign_in_failed'; readonly user: string | null; readonly reason: string; readonly ip?: string | null; readonly requestId?: string }
  | { readonly event: 'locked'; readonly user: string; readonly ip: string; readonly scope: string; readonly retryAfterMs: number }
  | {
      readonly event: 'refused';
      readonly via: 'proxy' | 'forward_auth';
      readonly route: string;
      readonly host: string;
      readonly method: string;
      readonly path: string;
      readonly user: string | null;
      readonly sub: string | null;
      readonly reason: string;
      readonly entry: string | null;
      readonly ip: string;
      readonly requestId: string;
    }
  | { readonly event: 'sign_out'; readonly user: string; readonly sub: string; readonly host: string; readonly requestId?: string };

export type AuditRecord = AuditEvent & { readonly time: string };
export type AuditEventName = AuditEvent['event'];

export interface AuditSink {
  record(event: AuditEvent): void;
}

/** For rooms started without an audit stream (tests, one-shot commands). */
export const NO_AUDIT: AuditSink = Object.freeze({ record: () => undefined });

export interface AuditLog extends AuditSink {
  /** The latest refusals, newest first (bounded), for the admin status page. */
  recentRefusals(): readonly AuditRecord[];
  /** Resolves once every recorded event is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** `<data dir>/audit.jsonl`; the previous file is kept as `audit.jsonl.1`. */
  readonly file: string;
  /** Rotate once the file passes this size; at most two files are kept. Default 10 MiB. */
  readonly maxBytes?: number;
  /** Refusals kept in memory for the status page. Default 100. */
  readonly recentRefusals?: number;
  readonly now: () => number;
  readonly onRecord?: (event: AuditEventName) => void;
  readonly onError: (error: Error) => void;
}

/** Lines waiting for the disk beyond this are dropped (and reported): a stuck disk must not grow memory. */
const MAX_PENDING = 10_000;

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keepRefusals = options.recentRefusals ?? 100;
  const refusals: AuditRecord[] = [];
  let pending: string[] = [];
  let dropped = 0;
  let size: number | null = null;
  let writing: Promise<void> = Promise.resolve();
  let scheduled = false;

  const write = async (): Promise<void> => {
    scheduled = false;
    const lines = pending;
    pending = [];
    if (lines.length === 0) return;
    try {
      if (size === null) {
        await mkdir(dirname(options.file), { recursive: true });
        size = await stat(options.file).then((s) => s.size, () => 0);
      }
      const text = lines.join('');
      await appendFile(options.file, text, { mode: 0o600 });
      size += Buffer.byteLength(text);
      if (size > maxBytes) {
        await rename(options.file, `${options.file}.1`);
        size = 0;
      }
    } catch (error) {
      size = null;
      options.onError(new Error(`cannot write the audit stream ${options.file}: ${(error as Error).message}`));
    }
  };

  return {
    record(event) {
      const record = { time: new Date(options.now()).toISOString(), ...event } as AuditRecord;
      options.onRecord?.(event.event);
      if (event.event === 'refused') {
        refusals.unshift(record);
        if (refusals.length > keepRefusals) refusals.length = keepRefusals;
      }
      if (pending.length >= MAX_PENDING) {
        dropped += 1;
        return;
      }
      if (dropped > 0) {
        options.onError(new Error(`the audit stream fell behind the disk; ${dropped} events were not written`));
        dropped = 0;
      }
      pending.push(`${JSON.stringify(record)}\n`);
      if (!scheduled) {
        scheduled = true;
        writing = writing.then(write);
      }
    },
    recentRefusals: () => [...refusals],
    async flush() {
      if (!scheduled && pending.length > 0) {
        scheduled = true;
        writing = writing.then(write);
      }
      await writing;
    },
    async close() {
      await this.flush();
    },
  };
}
