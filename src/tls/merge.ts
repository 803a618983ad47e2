import { checkCertificate, type LoadedCertificate } from './certificate.ts';
import type { SourceScan } from './dir-source.ts';

/** A pair that was skipped, and whether an earlier good version of it stays in use. */
export interface SkippedCertificate {
  readonly location: string;
  readonly reason: string;
  readonly keptPrevious: LoadedCertificate | null;
}

export interface MergeResult {
  /** Source → certificate in use, for this one origin (the folder or acme.json). */
  readonly next: ReadonlyMap<string, LoadedCertificate>;
  readonly skipped: readonly SkippedCertificate[];
  /** New sources, and known sources whose certificate changed. */
  readonly loaded: readonly LoadedCertificate[];
  /** Sources that are gone from the origin. */
  readonly removed: readonly LoadedCertificate[];
}

/**
 * Folds a fresh scan of one origin into what that origin served before. A pair that is still
 * there but unusable (half-written, mismatched, expired) keeps its previous good certificate;
 * a pair that is gone is dropped; an origin that could not be read at all keeps everything.
 */
export function mergeScan(previous: ReadonlyMap<string, LoadedCertificate>, scan: SourceScan, now: number): MergeResult {
  if (scan.fatal) {
    return { next: previous, skipped: [{ ...scan.fatal, keptPrevious: null }], loaded: [], removed: [] };
  }
  const next = new Map<string, LoadedCertificate>();
  const skipped: SkippedCertificate[] = [];
  const loaded: LoadedCertificate[] = [];
  const keep = (source: string, location: string, reason: string) => {
    const prior = previous.get(source) ?? null;
    // An expired prior would fail every handshake too: drop it rather than keep it.
    const usable = prior !== null && prior.notAfter > now ? prior : null;
    if (usable) next.set(source, usable);
    skipped.push({ location, reason, keptPrevious: usable });
  };
  for (const candidate of scan.candidates) {
    const prior = previous.get(candidate.source);
    if (prior && prior.certPem === candidate.certPem && prior.keyPem === candidate.keyPem && prior.notAfter > now) {
      next.set(candidate.source, prior);
      continue;
    }
    const checked = checkCertificate(candidate, now);
    if (checked.ok) {
      next.set(candidate.source, checked.certificate);
      loaded.push(checked.certificate);
    } else {
      keep(candidate.source, candidate.location, checked.reason);
    }
  }
  for (const failure of scan.failures) keep(failure.source, failure.location, failure.reason);
  const removed = [...previous.entries()].filter(([source]) => !next.has(source)).map(([, certificate]) => certificate);
  return { next, skipped, loaded, removed };
}
