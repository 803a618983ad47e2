import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAccessLog, createLogger, type AccessLine } from '../../../src/observability/index.ts';

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
