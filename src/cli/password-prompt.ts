import { GatehouseError } from '../errors.ts';

/**
 * Reads a secret from the terminal without echoing it, or the first line of standard input
 * when it is not a terminal (`echo "$PASSWORD" | gatehouse users passwd alice`).
 */

export interface PromptIo {
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

const defaultIo = (): PromptIo => ({ stdin: process.stdin, stderr: process.stderr });

export async function readSecret(question: string, options: { confirm?: string; io?: PromptIo } = {}): Promise<string> {
  const io = options.io ?? defaultIo();
  if (io.stdin.isTTY !== true) return firstLine(io.stdin);
  const first = await askHidden(io, question);
  if (options.confirm === undefined) return first;
  const second = await askHidden(io, options.confirm);
  if (first !== second) throw new GatehouseError('CONFIG_INVALID', 'the two entries differ; nothing was changed');
  return first;
}

/** One visible line from the terminal (e.g. a TOTP code); null when stdin is not a terminal. */
export async function askLine(question: string, io: PromptIo = defaultIo()): Promise<string | null> {
  if (io.stdin.isTTY !== true) return null;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString('utf8');
  return text.split(/\r?\n/)[0] ?? '';
}

function askHidden(io: PromptIo, question: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (error === null) resolve(value);
      else reject(error);
    };
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish(null);
        if (char === '\u0003') return finish(new GatehouseError('CONFIG_INVALID', 'cancelled'));
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
