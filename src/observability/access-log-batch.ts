/** Access-log lines gathered into few writes (see createBatch); kept apart from how a line is written. */

interface Batch {
  readonly stream: NodeJS.WritableStream;
  add(line: string): void;
  /** Hands pending lines over unless the stream is still busy with earlier ones. */
  flush(): void;
  /** Hands pending lines over even to a busy stream (at exit: nothing is left for later). */
  flushAll(): void;
  /**
   * Before a deliberate exit: hands everything over and waits (at most `waitMs`) until the stream
   * has written it. `process.exit` would end an asynchronous write half-way: its lines lost.
   */
  settle(waitMs?: number): Promise<void>;
}

/** How a batch hands its lines over; see `createBatch`. */
export interface BatchOptions {
  /** How long a line may wait for more to join it: 0 = until the end of this turn of the event loop. */
  readonly delayMs: number;
  /** Pending text that is written at once, without waiting out the delay. */
  readonly flushBytes: number;
  /** While the stream is still busy with earlier lines, at most this much text waits; later lines are dropped and counted. */
  readonly maxPendingBytes: number;
  /** Lines dropped because the reader fell behind (also reported in the log itself once writing resumes). */
  readonly onDrop?: ((lines: number) => void) | undefined;
}

/**
 * To a file descriptor (stdout, which Docker's log driver reads through a pipe) sonic-boom
 * writes asynchronously, and each such write has a large fixed cost on the event loop's thread
 * (measured: about as much as 100 lines' worth of bytes; bench/README.md, "Experiments"): lines
 * wait up to 50 ms, or until 256 KiB are pending, and go in one write (hundreds of lines at a
 * time under load rather than a few). Each line carries its own time, so the wait changes no
 * figure in it.
 * A JavaScript stream (tests, an embedding program) costs no system call: its lines go at the
 * end of the turn they were written in.
 */
export const FD_BATCH: BatchOptions = { delayMs: 50, flushBytes: 256 * 1024, maxPendingBytes: 4 * 1024 * 1024 };
export const STREAM_BATCH: BatchOptions = { delayMs: 0, flushBytes: 32 * 1024, maxPendingBytes: 4 * 1024 * 1024 };

/** Batches with lines not yet handed to their stream, for the exit hook. */
const open = new Set<Batch>();
let exitHooked = false;

/**
 * Access lines gathered and handed to the stream in few writes. While the stream has not
 * finished with what it was given (its `write` said false, until `drain`), nothing more is
 * handed to it: the lines gather here, so a slow reader never makes the proxy wait and never
 * grows memory without bound. Past `maxPendingBytes` lines are dropped, counted, and the count
 * written as a warning line once the stream takes lines again: never lost silently. At exit,
 * what is left is written and the stream flushed synchronously, as pino does for its own lines.
 */
export function createBatch(stream: NodeJS.WritableStream, options: BatchOptions, warningPrefix: () => string): Batch {
  let pending = '';
  let timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  let blocked = false;
  let dropped = 0;
  const scheduledWrite = () => {
    timer = null;
    batch.flush();
  };
  const onDrain = () => {
    blocked = false;
    if (pending !== '' || dropped > 0) batch.flush();
  };
  const write = (force: boolean) => {
    if (timer !== null) {
      if (options.delayMs === 0) clearImmediate(timer as NodeJS.Immediate);
      else clearTimeout(timer as NodeJS.Timeout);
      timer = null;
    }
    if ((blocked && !force) || (pending === '' && dropped === 0)) return;
    let out = pending;
    pending = '';
    open.delete(batch);
    if (dropped > 0) {
      out = `${warningPrefix()},"dropped":${dropped},"msg":"access log lines dropped: the log reader fell behind"}\n${out}`;
      dropped = 0;
    }
    if (!stream.write(out) && !blocked) {
      blocked = true;
      stream.once('drain', onDrain);
    }
  };
  const batch: Batch = {
    stream,
    add(line) {
      if (blocked && pending.length >= options.maxPendingBytes) {
        dropped += 1;
        options.onDrop?.(1);
        return;
      }
      pending += line;
      open.add(batch);
      if (blocked) return;
      if (pending.length >= options.flushBytes) write(false);
      else if (timer === null) {
        if (options.delayMs === 0) timer = setImmediate(scheduledWrite);
        // Unreferenced: a quiet proxy may exit meanwhile, and the exit hook writes what is left.
        else timer = setTimeout(scheduledWrite, options.delayMs).unref();
      }
    },
    flush: () => write(false),
    flushAll: () => write(true),
    settle(waitMs = 2_000) {
      write(true);
      // sonic-boom (stdout) writes asynchronously and says `drain` once it has written all it holds.
      if ((stream as { _writing?: unknown })._writing !== true) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timeout);
          stream.off('drain', done);
          resolve();
        };
        // A reader that never reads again must not hold the shutdown.
        const timeout = setTimeout(done, waitMs);
        stream.on('drain', done);
      });
    },
  };
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const left of [...open]) {
        left.flushAll();
        try {
          (left.stream as { flushSync?: () => void }).flushSync?.();
        } catch {
          // Nothing more can be done for a stream that cannot be flushed at exit.
        }
      }
    });
  }
  return batch;
}
