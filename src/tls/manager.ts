import type { SecureContext } from 'node:tls';
import type { Logger } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { LoadedCertificate } from './certificate.ts';
import type { SourceScan } from './dir-source.ts';
import { daysLeft, expiresSoon, EXPIRY_WARNING_DAYS } from './expiry.ts';
import { mergeScan, type SkippedCertificate } from './merge.ts';
import { buildSniIndex, selectCertificate, type SniIndex } from './sni.ts';

/** Where certificates come from: the folder, acme.json. Each is scanned whole on every reload. */
export interface CertificateOrigin {
  readonly id: string;
  scan(): Promise<SourceScan>;
}

export interface CertificateStatus {
  readonly source: string;
  readonly name: string;
  readonly location: string;
  readonly names: readonly string[];
  readonly issuer: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly default: boolean;
}

export interface CertificateManager {
  /** For `tls.createServer`: the current certificate for a handshake's server name. */
  SNICallback(serverName: string, callback: (error: Error | null, context?: SecureContext) => void): void;
  /** Key and chain for handshakes without a server name (clients that connect by IP); null while none is loaded. */
  fallback(): { cert: string; key: string } | null;
  /** Called after every reload that changed what is served. Returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Scans every origin again now. `logAll` repeats skip lines already logged. */
  reload(options?: { logAll?: boolean }): Promise<void>;
  /** Logs a warning for each certificate close to expiry and refreshes the days-left metric. */
  checkExpiry(): void;
  list(): CertificateStatus[];
  /** Pairs skipped at the last reload. */
  skipped(): { location: string; reason: string }[];
  /** Resolves once no reload is running or queued. */
  idle(): Promise<void>;
}

export interface ManagerOptions {
  origins: readonly CertificateOrigin[];
  defaultName: string | undefined;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
}

/**
 * Holds the certificates in use and the SNI index over them. A reload scans every origin,
 * keeps the previous good certificate of any pair that is now broken, builds a new index and
 * swaps it in: handshakes already done keep their context, the next one sees the new index.
 */
export function createCertificateManager(options: ManagerOptions): CertificateManager {
  const { logger, metrics, now } = options;
  const byOrigin = new Map<string, ReadonlyMap<string, LoadedCertificate>>();
  let index: SniIndex = buildSniIndex([]);
  let skipped: SkippedCertificate[] = [];
  let loggedSkips = new Set<string>();
  let loggedDefaultProblem: string | null = null;
  const listeners = new Set<() => void>();
  let queue: Promise<void> = Promise.resolve();

  async function reloadNow(logAll: boolean): Promise<void> {
    const time = now();
    const nextSkipped: SkippedCertificate[] = [];
    let changed = false;
    const fresh: LoadedCertificate[] = [];
    for (const origin of options.origins) {
      const scan = await origin.scan();
      const merged = mergeScan(byOrigin.get(origin.id) ?? new Map(), scan, time);
      if (merged.next !== byOrigin.get(origin.id)) byOrigin.set(origin.id, merged.next);
      nextSkipped.push(...merged.skipped);
      fresh.push(...merged.loaded);
      for (const certificate of merged.loaded) {
        logger.info({ source: certificate.source, file: certificate.location, names: certificate.names, notAfter: iso(certificate.notAfter) }, 'certificate loaded');
      }
      for (const certificate of merged.removed) {
        logger.info({ source: certificate.source, names: certificate.names }, 'certificate no longer served');
      }
      changed ||= merged.loaded.length > 0 || merged.removed.length > 0;
    }
    const seen = new Set<string>();
    for (const skip of nextSkipped) {
      const key = `${skip.location}\n${skip.reason}`;
      seen.add(key);
      if (!logAll && loggedSkips.has(key)) continue;
      const kept = skip.keptPrevious;
      logger.warn(
        { file: skip.location, reason: skip.reason, ...(kept ? { keptCertificate: { names: kept.names, notAfter: iso(kept.notAfter) } } : {}) },
        `certificate skipped: ${skip.location}: ${skip.reason}${kept ? ' (the previous good certificate stays in use)' : ''}`,
      );
    }
    loggedSkips = seen;
    skipped = nextSkipped;
    metrics.tlsCertificatesSkipped.set(skipped.length);

    if (changed || index.certificates.length === 0) {
      const all = [...byOrigin.values()].flatMap((map) => [...map.values()]);
      index = buildSniIndex(all, options.defaultName);
      publishMetrics(time);
      for (const listener of listeners) listener();
    }
    if (index.defaultProblem && index.defaultProblem !== loggedDefaultProblem) logger.warn(index.defaultProblem);
    loggedDefaultProblem = index.defaultProblem;
    if (index.certificates.length === 0) {
      logger.error('no usable TLS certificate: HTTPS handshakes fail until one is loaded');
    }
    warnExpiring(fresh, time);
  }

  function publishMetrics(time: number): void {
    metrics.tlsCertificateExpiry.reset();
    metrics.tlsCertificateDaysLeft.reset();
    for (const certificate of index.certificates) {
      const labels = { source: certificate.source, names: certificate.names.join(',') };
      metrics.tlsCertificateExpiry.set(labels, Math.floor(certificate.notAfter / 1000));
      metrics.tlsCertificateDaysLeft.set(labels, daysLeft(certificate, time));
    }
  }

  function warnExpiring(certificates: readonly LoadedCertificate[], time: number): void {
    for (const certificate of certificates) {
      if (!expiresSoon(certificate, time)) continue;
      const days = daysLeft(certificate, time);
      logger.warn(
        { source: certificate.source, file: certificate.location, names: certificate.names, notAfter: iso(certificate.notAfter), daysLeft: days },
        `certificate for ${certificate.names.join(', ')} expires in ${days} day${days === 1 ? '' : 's'} (warning from ${EXPIRY_WARNING_DAYS} days): check the tool that renews it`,
      );
    }
  }

  return {
    SNICallback(serverName, callback) {
      const certificate = selectCertificate(index, serverName);
      if (certificate) callback(null, certificate.context);
      else callback(new Error('no TLS certificate is loaded'));
    },
    fallback() {
      const certificate = index.fallback;
      return certificate ? { cert: certificate.certPem, key: certificate.keyPem } : null;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload(reloadOptions = {}) {
      queue = queue
        .then(() => reloadNow(reloadOptions.logAll ?? false))
        .catch((error: unknown) => logger.error({ err: error }, 'certificate reload failed; the certificates in use stay'));
      return queue;
    },
    checkExpiry() {
      const time = now();
      publishMetrics(time);
      warnExpiring(index.certificates, time);
    },
    list() {
      const time = now();
      return index.certificates.map((certificate) => ({
        source: certificate.source,
        name: certificate.name,
        location: certificate.location,
        names: certificate.names,
        issuer: certificate.issuer,
        notAfter: iso(certificate.notAfter),
        daysLeft: daysLeft(certificate, time),
        default: certificate === index.fallback,
      }));
    },
    skipped() {
      return skipped.map(({ location, reason }) => ({ location, reason }));
    },
    idle() {
      return queue;
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
