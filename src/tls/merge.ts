import { checkCertificate, type LoadedCertificate } from './certificate.ts';
import type { SourceScan } from './dir-source.ts';

/** A pair that was skipped, and whether an earlier good version of it stays in use. */
export interface SkippedCertificate {
  readonly location: string;
  readonly reason: string;
  readonly keptPrevious: LoadedCertificate | null;
}

/** What one origin (the folder or acme.json) serves, carried from one reload to the next. */
export interface OriginState {
  /** Source → certificate in use. */
  readonly certificates: ReadonlyMap<string, LoadedCertificate>;
  /** Source → when its files were first found missing, for certificates kept through the grace period. */
  readonly absentSince: ReadonlyMap<string, number>;
}

export const EMPTY_ORIGIN: OriginState = Object.freeze({ certificates: new Map(), absentSince: new Map() });

export interface MergeResult extends OriginState {
  readonly skipped: readonly SkippedCertificate[];
  /** New sources, and known sources whose certificate changed. */
  readonly loaded: readonly LoadedCertificate[];
  /** Sources no longer served: absent past the grace period, or broken with an expired previous version. */
  readonly removed: readonly LoadedCertificate[];
}

/**
 * Folds a fresh scan of one origin into what that origin served before:
 * - a pair that is there but unusable (half-written, mismatched, expired) keeps its previous good certificate;
 * - a pair whose files are gone keeps it for `graceMs` from when it was first missed, because
 *   tools rewrite their folder by emptying it first (traefik-certs-dumper's clean cycle), and only
 *   then is dropped; the clock restarts whenever the files come back;
 * - an origin that could not be read at all (but exists) keeps everything as it was.
 */
export function mergeScan(previous: OriginState, scan: SourceScan, now: number, graceMs = 0): MergeResult {
  if (scan.fatal && !scan.fatal.missing) {
    return { ...previous, skipped: [{ location: scan.fatal.location, reason: scan.fatal.reason, keptPrevious: null }], loaded: [], removed: [] };
  }
  const next = new Map<string, LoadedCertificate>();
  const absentSince = new Map<string, number>();
  const skipped: SkippedCertificate[] = scan.fatal ? [{ location: scan.fatal.location, reason: scan.fatal.reason, keptPrevious: null }] : [];
  const loaded: LoadedCertificate[] = [];
  const usablePrior = (source: string) => {
    const prior = previous.certificates.get(source);
    // An expired prior would fail every handshake too: drop it rather than keep it.
    return prior !== undefined && prior.notAfter > now ? prior : null;
  };
  const keep = (source: string, location: string, reason: string) => {
    const prior = usablePrior(source);
    if (prior) next.set(source, prior);
    skipped.push({ location, reason, keptPrevious: prior });
  };
  for (const candidate of scan.candidates) {
    const prior = usablePrior(candidate.source);
    if (prior && prior.certPem === candidate.certPem && prior.keyPem === candidate.keyPem) {
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

  const mentioned = new Set([...scan.candidates.map((c) => c.source), ...scan.failures.map((f) => f.source)]);
  for (const source of previous.certificates.keys()) {
    if (mentioned.has(source)) continue;
    const since = previous.absentSince.get(source) ?? now;
    const prior = usablePrior(source);
    if (prior && now - since < graceMs) {
      next.set(source, prior);
      absentSince.set(source, since);
    }
  }
  const removed = [...previous.certificates.entries()].filter(([source]) => !next.has(source)).map(([, certificate]) => certificate);
  return { certificates: next, absentSince, skipped, loaded, removed };
}

/** When the first certificate kept through the grace period runs out of it; null when none is absent. */
export function graceDeadline(states: Iterable<OriginState>, graceMs: number): number | null {
  let earliest: number | null = null;
  for (const state of states) {
    for (const since of state.absentSince.values()) earliest = earliest === null ? since + graceMs : Math.min(earliest, since + graceMs);
  }
  return earliest;
}
