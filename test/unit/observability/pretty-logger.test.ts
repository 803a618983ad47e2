import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the pretty log format (the quick start uses it)', () => {
  it('formats in the main thread, without a worker, and still redacts secrets', async () => {
    const script = `
      const { createLogger } = await import('./src/observability/logger.ts');
      const { threadId } = await import('node:worker_threads');
      const logger = createLogger({ level: 'info', format: 'pretty' });
      logger.info({ req: { headers: { cookie: 'gatehouse_session=secret-value' } } }, 'request seen');
      // A pino transport would start a worker thread: count them through the process's own view.
      const { readdirSync } = await import('node:fs');
      setTimeout(() => { console.error('THREADS', readdirSync('/proc/self/task').length, threadId); process.exit(0); }, 300);
    `;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toContain('request seen');
    expect(stdout).toContain('[redacted]');
    expect(stdout).not.toContain('secret-value');
    expect(stdout.trimStart().startsWith('{')).toBe(false); // human-readable, not JSON

    // Compare with the same process logging JSON: pretty adds no thread.
    const json = await run(process.execPath, ['--input-type=module', '-e', script.replace("format: 'pretty'", "format: 'json'")], { cwd: process.cwd() });
    const threads = (text: string) => Number(/THREADS (\d+)/.exec(text)?.[1]);
    expect(threads(stderr)).toBe(threads(json.stderr));
  });
});
