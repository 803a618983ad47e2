import { readFile } from 'node:fs/promises';
import { planImport, renderImport } from './pomerium-import.ts';

/** `gatehouse import pomerium FILE`: labels for a Pomerium configuration; exit 1 when the file cannot be read. */
export async function importCommand(args: string[]): Promise<number> {
  const [format, file, ...extra] = args;
  if (format !== 'pomerium' || file === undefined || extra.length > 0) {
    process.stderr.write('usage: gatehouse import pomerium FILE   (a Pomerium config.yaml or policy file; - reads standard input)\n');
    return 2;
  }
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    process.stderr.write(`gatehouse import: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
    return 1;
  }
  const plan = planImport(text, file === '-' ? 'stdin' : file);
  process.stdout.write(renderImport(plan));
  return plan.error === null ? 0 : 1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
