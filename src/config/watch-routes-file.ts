import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { watch } from 'chokidar';
import type { Logger } from '../observability/logger.ts';
import type { TranslationResult } from '../routes/spec.ts';
import { parseRoutesFile } from './routes-file.ts';

export interface WatchRoutesFileOptions {
  logger: Logger;
  /** A new version parsed (routes plus per-route issues). */
  onLoad: (result: TranslationResult) => void;
  /** The file is missing, unreadable or not valid; the caller keeps its last good result. */
  onError: (message: string) => void;
  /** Quiet period after the last change before reading; default 100 ms. */
  debounceMs?: number;
  /** Stat polling instead of inotify, for mounts that deliver no events (some Docker Desktop setups). */
  usePolling?: boolean;
}

export interface RoutesFileWatcher {
  close(): Promise<void>;
  /** Reads and parses the file now, reporting the outcome even if nothing changed. */
  reload(): Promise<void>;
}

/**
 * Watches the routes file through its directory, so saves that replace the file (editors'
 * write-to-temp-then-rename, `mv`, `kubectl cp`) are seen as well as in-place writes; mount the
 * directory rather than the single file into a container, since a bind-mounted file keeps
 * pointing at the replaced inode. Resolves after the first load attempt; a file that is missing
 * then is reported once and loaded when it appears.
 */
export async function watchRoutesFile(filePath: string, options: WatchRoutesFileOptions): Promise<RoutesFileWatcher> {
  const { logger } = options;
  const absolute = path.resolve(filePath);
  const directory = path.dirname(absolute);
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let queue: Promise<void> = Promise.resolve();
  let lastLoadedText: string | null = null;
  let lastError: string | null = null;

  const reportError = (message: string) => {
    lastLoadedText = null;
    if (message === lastError) return;
    lastError = message;
    logger.warn({ file: filePath, error: message }, 'routes file not loaded');
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
    // One save often produces several events; an unchanged file is not news.
    if (!force && text === lastLoadedText) return;
    const parsed = parseRoutesFile(text, filePath);
    if (!parsed.ok) {
      reportError(parsed.error);
      return;
    }
    lastLoadedText = text;
    lastError = null;
    logger.info({ file: filePath, routes: parsed.result.specs.length, issues: parsed.result.issues.length }, 'routes file loaded');
    options.onLoad(parsed.result);
  };

  const enqueue = (force: boolean): Promise<void> => {
    queue = queue
      .then(() => (closed ? undefined : load(force)))
      .catch((error: unknown) => logger.error({ err: error, file: filePath }, 'routes file handler failed'));
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
  watcher.on('error', (error) => logger.warn({ err: error, directory }, 'routes file watcher error'));
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
