import type { Logger } from '../observability/index.ts';
import type { TranslationResult } from '../routes/index.ts';
import { watchTextFile } from '../util/watch-text-file.ts';
import type { PomeriumRouteDefaults } from './pomerium-route-defaults.ts';
import { parseRoutesFile } from './routes-file.ts';
import { logSettingNotes } from './routes-file-sources.ts';

export interface WatchRoutesFileOptions {
  logger: Logger;
  /** A new version parsed (routes plus per-route issues). */
  onLoad: (result: TranslationResult) => void;
  /** The file is missing, unreadable or not valid; the caller keeps its last good result. */
  onError: (message: string) => void;
  /** Quiet period after the last change before reading; default 100 ms. */
  debounceMs?: number;
  /** Pomerium's global route defaults from its environment variables (the file's own top level wins). */
  pomeriumDefaults?: PomeriumRouteDefaults;
  /** Stat polling instead of inotify, for mounts that deliver no events (some Docker Desktop setups). */
  usePolling?: boolean;
}

export interface RoutesFileWatcher {
  close(): Promise<void>;
  /** Reads and parses the file now, reporting the outcome even if nothing changed. */
  reload(): Promise<void>;
}

/**
 * Follows the routes file (see watchTextFile for how saves are seen). Resolves after the first
 * load attempt; a file that is missing then is reported once and loaded when it appears.
 */
export async function watchRoutesFile(filePath: string, options: WatchRoutesFileOptions): Promise<RoutesFileWatcher> {
  const { logger } = options;
  const settingsLogged = new Set<string>();
  return watchTextFile(filePath, {
    logger,
    what: 'routes file',
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
    ...(options.usePolling === undefined ? {} : { usePolling: options.usePolling }),
    onText(text) {
      const parsed = parseRoutesFile(text, filePath, options.pomeriumDefaults);
      if (!parsed.ok) return parsed.error;
      logger.info({ file: filePath, routes: parsed.result.specs.length, issues: parsed.result.issues.length }, 'routes file loaded');
      logSettingNotes(logger, filePath, parsed.settings, settingsLogged);
      options.onLoad(parsed.result);
      return null;
    },
    onError(message) {
      logger.warn({ file: filePath, error: message }, 'routes file not loaded');
      options.onError(message);
    },
  });
}
