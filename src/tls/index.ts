import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';
import { readAcmeJson } from './acme-json.ts';
import { scanCertificateDir } from './dir-source.ts';
import { createCertificateManager, type CertificateManager, type CertificateOrigin } from './manager.ts';

/**
 * Certificates for the HTTPS listener, from files another tool keeps renewed: a watched folder
 * and Traefik's acme.json. Gatehouse never requests certificates itself.
 */

export type { CertificateManager, CertificateStatus } from './manager.ts';
export type { LoadedCertificate } from './certificate.ts';

export interface Certificates extends CertificateManager {
  close(): Promise<void>;
}

export interface CertificateOptions {
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
  /** Quiet period after the last file change before rescanning; default 250 ms. */
  debounceMs?: number;
  /** Full rescan and expiry check; default daily. */
  checkIntervalMs?: number;
  /** Stat polling instead of inotify, for mounts that deliver no events. */
  usePolling?: boolean;
}

/** Where certificates come from (at least one of `dir` and `acmeJson`), and how they are chosen. */
export interface CertificateSources {
  /** A folder of certificate and key files, watched. */
  readonly dir?: string | undefined;
  /** Traefik's acme.json, watched. */
  readonly acmeJson?: string | undefined;
  /** The certificate for clients that send no (or an unknown) server name. */
  readonly defaultName?: string | undefined;
  /** How long a certificate that vanished from its source keeps being served. */
  readonly absentGraceMs: number;
}

/** Resolves after the first load. */
export async function startCertificates(sources: CertificateSources, options: CertificateOptions): Promise<Certificates> {
  const logger = options.logger.child({ mod: 'tls' });
  const origins: CertificateOrigin[] = [];
  const dir = sources.dir ? path.resolve(sources.dir) : undefined;
  const acme = sources.acmeJson ? path.resolve(sources.acmeJson) : undefined;
  if (dir) origins.push({ id: 'dir', scan: () => scanCertificateDir(dir) });
  if (acme) origins.push({ id: 'acme', scan: () => readAcmeJson(acme) });

  const now = options.now ?? Date.now;
  let closed = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const manager = createCertificateManager({
    origins,
    defaultName: sources.defaultName,
    logger,
    metrics: options.metrics,
    now,
    absentGraceMs: sources.absentGraceMs,
    recheckAt: (at) => {
      if (closed) return;
      clearTimeout(graceTimer);
      // A little past the deadline, so the reload is sure to find it reached.
      graceTimer = setTimeout(() => void manager.reload(), Math.max(0, at - now()) + 5);
      graceTimer.unref();
    },
  });

  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void manager.reload(), options.debounceMs ?? 250);
  };
  const polling = options.usePolling ? { backend: 'polling' as const, pollingInterval: 500 } : {};
  const watchers: FSWatcher[] = [];
  // Both are watched through a directory, so files replaced by rename are seen as well as in-place writes.
  if (dir) watchers.push(watch(dir, { depth: 3, ignoreInitial: true, ...polling }));
  if (acme) {
    const folder = path.dirname(acme);
    watchers.push(watch(folder, { depth: 0, ignoreInitial: true, ignored: (p: string) => p !== folder && p !== acme, ...polling }));
  }
  for (const watcher of watchers) {
    watcher.on('all', schedule);
    watcher.on('error', (error) => logger.warn({ err: error }, 'certificate watcher error'));
  }
  await Promise.all(watchers.map((watcher) => new Promise<void>((resolve) => watcher.once('ready', resolve))));
  await manager.reload();
  logger.info(
    { dir: dir ?? null, acmeJson: acme ?? null, certificates: manager.list().map((c) => ({ names: c.names, notAfter: c.notAfter, default: c.default })) },
    'TLS certificates ready',
  );

  // A missed file event must not leave a renewed certificate unused until it expires.
  const daily = setInterval(() => {
    void manager.reload({ logAll: true }).then(() => manager.checkExpiry());
  }, options.checkIntervalMs ?? 86_400_000);
  daily.unref();

  return Object.assign(manager, {
    async close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearInterval(daily);
      await Promise.all(watchers.map((watcher) => watcher.close()));
      await manager.idle();
    },
  });
}
