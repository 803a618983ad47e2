import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { watch } from 'chokidar';
import type { Logger } from '../observability/index.ts';

export interface WatchTextFileOptions {
  logger: Logger;
  /** What the file is, for log lines: `routes file`, `users file`. */
  what: string;
  /**
   * A new version of the file's text (or the same text on reload). Return null when it was
   * accepted, or a message saying why not; a rejected version is read again on the next change.
   */
  onText: (text: string) => string | null;
  /** The file is missing, unreadable or rejected; said once per distinct problem (again after reload). */
  onError: (message: string) => void;
  /** Quiet period after the last change before reading; default 100 ms. */
  debounceMs?: number;
  /** Stat polling instead of inotify, for mounts that deliver no events (some Docker Desktop setups). */
  usePolling?: boolean;
}

export interface TextFileWatcher {
  /** Reads the file now and reports the outcome even if nothing changed. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Follows one file through its directory, so saves that replace the file (editors'
 * write-to-temp-then-rename, `mv`, atomic CLI edits) are seen as well as in-place writes. Mount
 * the directory rather than the single file into a container: a bind-mounted file keeps pointing
 * at the replaced inode. Loads are serialised and an unchanged text is not news. Resolves after
 * the first load attempt; a file missing then is reported and loaded when it appears.
 */
export async function watchTextFile(filePath: string, options: WatchTextFileOptions): Promise<TextFileWatcher> {
  const { logger } = options;
  const absolute = path.resolve(filePath);
  const directory = path.dirname(absolute);
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  let lastText: string | null = null;
  let lastError: string | null = null;

  const reportError = (message: string) => {
    lastText = null;
    if (message === lastError) return;
    lastError = message;
    options.onError(message);
  };

  const load = async (force: boolean) => {
    if (force) lastError = null;
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      reportError(describeReadError(filePath, error));
      return;
    }
    // One save often produces several events.
    if (!force && text === lastText) return;
    const problem = options.onText(text);
    if (problem !== null) {
      reportError(problem);
      return;
    }
    lastText = text;
    lastError = null;
  };

  const enqueue = (force: boolean): Promise<void> => {
    queue = queue
      .then(() => (closed ? undefined : load(force)))
      .catch((error: unknown) => logger.error({ err: error, file: filePath }, `${options.what} handler failed`));
    return queue;
  };

  const watcher = watch(directory, {
    depth: 0,
    ignoreInitial: true,
    ignored: (candidate: string) => candidate !== directory && candidate !== absolute,
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
    ...(options.usePolling ? { backend: 'polling' as const, pollingInterval: 250 } : {}),
  });
  watcher.on('all', (_event, changed) => {
    if (changed !== absolute || closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void enqueue(false), debounceMs);
  });
  watcher.on('error', (error) => logger.warn({ err: error, directory }, `${options.what} watcher error`));
  await new Promise<void>((resolve) => watcher.once('ready', resolve));
  await enqueue(true);

  return {
    reload() {
      clearTimeout(timer);
      return enqueue(true);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
      await queue;
    },
  };
}

function describeReadError(filePath: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${filePath}: the file does not exist (it will be loaded when it appears)`;
  if (code === 'EACCES' || code === 'EPERM') return `${filePath}: permission denied`;
  if (code === 'EISDIR') return `${filePath}: is a directory, expected a YAML file`;
  return `${filePath}: cannot read the file (${code ?? String(error)})`;
}
