import type { SecureContext } from 'node:tls';
import type { Logger } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { LoadedCertificate } from './certificate.ts';
import type { SourceScan } from './dir-source.ts';
import { daysLeft, expiresSoon, EXPIRY_WARNING_DAYS } from './expiry.ts';
import { EMPTY_ORIGIN, graceDeadline, mergeScan, type OriginState, type SkippedCertificate } from './merge.ts';
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
  /** Set while its files are gone: it stays in use until `droppedAt` unless they come back. */
  readonly absent?: { readonly since: string; readonly droppedAt: string };
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
  /**
   * How long a certificate whose files are gone stays in use (default 0: dropped at once). Tools
   * that rewrite their folder by emptying it first must not leave a gap.
   */
  absentGraceMs?: number;
  /** Asked to reload again at this time, when a certificate kept through the grace period runs out of it. */
  recheckAt?: (at: number) => void;
}

/**
 * Holds the certificates in use and the SNI index over them. A reload scans every origin,
 * keeps the previous good certificate of any pair that is now broken, builds a new index and
 * swaps it in: handshakes already done keep their context, the next one sees the new index.
 */
export function createCertificateManager(options: ManagerOptions): CertificateManager {
  const { logger, metrics, now } = options;
  const graceMs = options.absentGraceMs ?? 0;
  const byOrigin = new Map<string, OriginState>();
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
      const before = byOrigin.get(origin.id) ?? EMPTY_ORIGIN;
      const merged = mergeScan(before, scan, time, graceMs);
      byOrigin.set(origin.id, { certificates: merged.certificates, absentSince: merged.absentSince });
      nextSkipped.push(...merged.skipped);
      logAbsence(before, merged);
      fresh.push(...merged.loaded);
      for (const certificate of merged.loaded) {
        logger.info({ source: certificate.source, file: certificate.location, names: certificate.names, notAfter: iso(certificate.notAfter) }, 'certificate loaded');
      }
      for (const certificate of merged.removed) {
        const since = before.absentSince.get(certificate.source);
        if (since === undefined) logger.info({ source: certificate.source, names: certificate.names }, 'certificate no longer served');
        else {
          const seconds = Math.round((time - since) / 1000);
          logger.warn(
            { source: certificate.source, file: certificate.location, names: certificate.names, absentSeconds: seconds },
            `certificate for ${certificate.names.join(', ')} no longer served: its files have been gone for ${seconds} s (longer than the grace period for absent certificates)`,
          );
        }
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
      const all = [...byOrigin.values()].flatMap((state) => [...state.certificates.values()]);
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
    const deadline = graceDeadline(byOrigin.values(), graceMs);
    // A deadline already past belongs to an origin that could not be read: its next change reloads.
    if (deadline !== null && deadline > time) options.recheckAt?.(deadline);
  }

  function logAbsence(before: OriginState, after: OriginState): void {
    for (const [source, since] of after.absentSince) {
      if (before.absentSince.has(source)) continue;
      const certificate = after.certificates.get(source) as LoadedCertificate;
      logger.info(
        { source, file: certificate.location, names: certificate.names, keptUntil: iso(since + graceMs) },
        `certificate files for ${certificate.names.join(', ')} are gone; the certificate stays in use until ${iso(since + graceMs)} in case they are being rewritten`,
      );
    }
    for (const source of before.absentSince.keys()) {
      if (after.absentSince.has(source) || !after.certificates.has(source)) continue;
      logger.info({ source }, 'certificate files are back');
    }
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
      const absentSince = new Map([...byOrigin.values()].flatMap((state) => [...state.absentSince]));
      return index.certificates.map((certificate) => ({
        source: certificate.source,
        name: certificate.name,
        location: certificate.location,
        names: certificate.names,
        issuer: certificate.issuer,
        notAfter: iso(certificate.notAfter),
        daysLeft: daysLeft(certificate, time),
        default: certificate === index.fallback,
        ...absence(absentSince.get(certificate.source), graceMs),
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

function absence(since: number | undefined, graceMs: number): Pick<CertificateStatus, 'absent'> {
  return since === undefined ? {} : { absent: { since: iso(since), droppedAt: iso(since + graceMs) } };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
