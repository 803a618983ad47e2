import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAccessLog, createLogger, createMetrics, type AccessLine } from '../../../src/observability/index.ts';
import { createBatch, FD_BATCH, STREAM_BATCH } from '../../../src/observability/access-log-batch.ts';

/** A JSON logger writing into memory, and the lines it wrote so far. */
function capture(level = 'info') {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger({ level, format: 'json', destination: stream });
  return { logger, lines: () => chunks.join('').split('\n').filter((line) => line !== '') };
}

/** Access lines of one turn of the event loop are written together at its end. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const HOSTILE: AccessLine = {
  method: 'GET',
  // What a client controls: quotes, backslashes, control characters, a line break that must not
  // start a second log line, a lone surrogate and non-Latin text.
  host: 'evil"\\host\n{"level":60}',
  path: '/a\u0000b\u001f\u2028\ud800é漢"',
  status: 404,
  ms: 1.5,
  route: null,
  requestId: 'req-"1"',
  clientIp: null,
  websocket: false,
};

describe('the access log', () => {
  it('hands the lines of one turn of the event loop to the stream in one write, and the next turn\'s in the next', async () => {
    const stream = new PassThrough();
    const writes: string[] = [];
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string, ...rest: never[]) => {
      writes.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    const logger = createLogger({ level: 'info', format: 'json', destination: stream });
    const log = createAccessLog(logger);
    for (let i = 0; i < 3; i++) log({ ...HOSTILE, host: `h${i}.example` });
    expect(writes).toEqual([]);
    await nextTurn();
    log({ ...HOSTILE, host: 'later.example' });
    await nextTurn();
    expect(writes.map((chunk) => chunk.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { host: string }).host))).toEqual([
      ['h0.example', 'h1.example', 'h2.example'],
      ['later.example'],
    ]);
  });

  it('writes the line pino writes for the same fields, as one line, with every client-chosen character escaped', async () => {
    const fast = capture();
    createAccessLog(fast.logger)(HOSTILE);
    const slow = capture();
    const { websocket: _ws, ...fields } = HOSTILE;
    slow.logger.child({ mod: 'access' }, { redact: [] }).info(fields, 'request');
    await nextTurn();

    expect(fast.lines()).toHaveLength(1);
    const [written] = fast.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    const [expected] = slow.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(written ?? {})).toEqual(Object.keys(expected ?? {}));
    expect({ ...written, time: 'T' }).toEqual({ ...expected, time: 'T' });
    expect(written?.host).toBe(HOSTILE.host);
    expect(written?.path).toBe(HOSTILE.path);
    expect(written?.level).toBe(30);
    expect(Number.isNaN(Date.parse(String(written?.time)))).toBe(false);
  });

  it('marks websockets, and writes nothing when the level is above info', async () => {
    const fast = capture();
    createAccessLog(fast.logger)({ ...HOSTILE, host: 'a.example', path: '/ws', status: 101, route: 'container:x/default', websocket: true });
    await nextTurn();
    expect(JSON.parse(fast.lines()[0] ?? '{}')).toMatchObject({ mod: 'access', websocket: true, status: 101, route: 'container:x/default', msg: 'request' });

    const quiet = capture('warn');
    createAccessLog(quiet.logger)(HOSTILE);
    await nextTurn();
    expect(quiet.lines()).toEqual([]);
  });

  it('goes through pino for a logger it cannot write to directly', async () => {
    const fast = capture();
    const child = fast.logger.child({ extra: 1 });
    createAccessLog(child)({ ...HOSTILE, host: 'b.example' });
    await nextTurn();
    expect(JSON.parse(fast.lines()[0] ?? '{}')).toMatchObject({ extra: 1, mod: 'access', host: 'b.example', msg: 'request' });
  });
});

/** A stream that takes writes and says whether it wants more, as sonic-boom does; `drain` is up to the test. */
function busyStream(accepts: () => boolean) {
  const stream = new PassThrough();
  const writes: string[] = [];
  stream.write = ((chunk: string) => {
    writes.push(String(chunk));
    return accepts();
  }) as typeof stream.write;
  return { stream, writes };
}

const lineOf = (host: string) => JSON.stringify({ host }) + '\n';

describe('the access log batch', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('to a file descriptor (stdout), gathers lines for up to 50 ms and writes them together', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { stream, writes } = busyStream(() => true);
    Object.assign(stream, { fd: 1 });
    const logger = createLogger({ level: 'info', format: 'json', destination: stream });
    const log = createAccessLog(logger);
    log({ ...HOSTILE, host: 'a.example' });
    vi.advanceTimersByTime(FD_BATCH.delayMs - 1);
    log({ ...HOSTILE, host: 'b.example' });
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { host: string }).host)).toEqual(['a.example', 'b.example']);
  });

  it('writes at once when 256 KiB are pending, without waiting out the delay', () => {
    const { stream, writes } = busyStream(() => true);
    const batch = createBatch(stream, FD_BATCH, () => '{');
    const line = lineOf('x'.repeat(1000));
    const perWrite = Math.ceil(FD_BATCH.flushBytes / line.length);
    for (let i = 0; i < perWrite - 1; i++) batch.add(line);
    expect(writes).toEqual([]);
    batch.add(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.length).toBe(perWrite * line.length);
    batch.flush();
    expect(writes).toHaveLength(1);
  });

  it('never hands a busy stream more; past the cap it drops lines, counts them, and says so in the log once the stream drains', () => {
    let wantsMore = false;
    const { stream, writes } = busyStream(() => wantsMore);
    const drops: number[] = [];
    const options = { delayMs: 0, flushBytes: 100, maxPendingBytes: 1000, onDrop: (n: number) => drops.push(n) };
    const batch = createBatch(stream, options, () => '{"level":40');
    const line = lineOf('h'.repeat(40)); // 52 bytes
    batch.add(line);
    batch.add(line); // 104 bytes: written, and the stream says it is full
    expect(writes).toHaveLength(1);
    for (let i = 0; i < 100; i++) batch.add(line);
    batch.flush();
    expect(writes).toHaveLength(1);
    const kept = Math.ceil(options.maxPendingBytes / line.length);
    expect(drops).toHaveLength(100 - kept);

    wantsMore = true;
    stream.emit('drain');
    expect(writes).toHaveLength(2);
    const [warning, ...rest] = (writes[1] ?? '').split('\n').filter(Boolean);
    expect(JSON.parse(warning ?? '{}')).toEqual({ level: 40, dropped: 100 - kept, msg: 'access log lines dropped: the log reader fell behind' });
    expect(rest).toHaveLength(kept);
  });

  it('counts dropped lines in the metrics', async () => {
    const { createObserver } = await import('../../../src/proxy/observe.ts');
    const { stream } = busyStream(() => false);
    const logger = createLogger({ level: 'info', format: 'json', destination: stream });
    const metrics = createMetrics();
    const observe = createObserver({ logger, metrics, accessLog: true });
    const record = { method: 'GET', host: 'a.example', path: `/${'p'.repeat(400)}`, status: 200, durationMs: 1, routeId: null, requestId: 'r', clientIp: null };
    for (let i = 0; i < 100 + (STREAM_BATCH.maxPendingBytes + STREAM_BATCH.flushBytes) / 400; i++) observe(record);
    const text = await metrics.registry.getSingleMetricAsString('gatehouse_access_log_dropped_lines_total');
    expect(Number(/ (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(90);
  });

  const exitScript = (lines: number) => `
      import { createAccessLog, createLogger } from ${JSON.stringify(fileURLToPath(new URL('../../../src/observability/index.ts', import.meta.url)))};
      const log = createAccessLog(createLogger({ level: 'info', format: 'json' }));
      for (let i = 0; i < ${lines}; i++) log({ method: 'GET', host: 'h' + i, path: '/', status: 200, ms: 1, route: null, requestId: 'r', clientIp: null, websocket: false });
      process.exit(0);`;
  /** The hosts of the lines a child wrote to its stdout, a pipe this side starts reading only after `readAfterMs`. */
  const hostsWritten = async (script: string, readAfterMs = 0) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.pause();
    // A reader that falls behind: the pipe fills and the child's writes to stdout wait.
    setTimeout(() => {
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stdout.resume();
    }, readAfterMs);
    await new Promise((resolve) => child.stdout.once('end', resolve));
    return Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { host: string }).host);
  };

  it('writes every pending line when the process exits, even within the delay', async () => {
    // 100 lines stay under the 256 KiB that would start a write: all of them wait for the delay.
    expect(await hostsWritten(exitScript(100))).toEqual(Array.from({ length: 100 }, (_, i) => `h${i}`));
  });

  it('settles before a deliberate exit: hands everything over and waits until a write under way is done', async () => {
    const { stream, writes } = busyStream(() => true);
    // sonic-boom's mark of an asynchronous write under way.
    Object.assign(stream, { _writing: true });
    const batch = createBatch(stream, FD_BATCH, () => '{');
    batch.add(lineOf('a.example'));
    let settled = false;
    const settling = batch.settle(60_000).then(() => (settled = true));
    expect(writes).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    stream.emit('drain');
    await settling;
    expect(settled).toBe(true);
  });

  it('settles at once when nothing is being written, and a stuck stream holds it only for the wait given', async () => {
    const idle = busyStream(() => true);
    await createBatch(idle.stream, FD_BATCH, () => '{').settle(60_000);
    const stuck = busyStream(() => false);
    Object.assign(stuck.stream, { _writing: true });
    const started = performance.now();
    await createBatch(stuck.stream, FD_BATCH, () => '{').settle(50);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
