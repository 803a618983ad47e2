import type { LoadedCertificate } from './certificate.ts';

/**
 * Which certificate a handshake gets, decided in this order: one whose names include the
 * requested server name exactly, then one with a wildcard for it (`*.example.com` covers
 * `app.example.com`, one label only, as browsers accept it), then the default. Immutable: a
 * reload builds a new index and swaps the reference, so a handshake in progress never sees a
 * half-built one.
 */
export interface SniIndex {
  readonly exact: ReadonlyMap<string, LoadedCertificate>;
  readonly wildcard: ReadonlyMap<string, LoadedCertificate>;
  readonly fallback: LoadedCertificate | null;
  /** Every certificate in use, in source order. */
  readonly certificates: readonly LoadedCertificate[];
  /** Set when GATEHOUSE_TLS_DEFAULT_CERT named nothing that is loaded. */
  readonly defaultProblem: string | null;
}

export function buildSniIndex(certificates: readonly LoadedCertificate[], defaultName?: string): SniIndex {
  const ordered = [...certificates].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const exact = new Map<string, LoadedCertificate>();
  const wildcard = new Map<string, LoadedCertificate>();
  for (const certificate of ordered) {
    for (const name of certificate.names) {
      const map = name.startsWith('*.') ? wildcard : exact;
      const key = name.startsWith('*.') ? name.slice(2) : name;
      // During a renewal both the old and the new certificate may be on disk: the later expiry wins.
      const held = map.get(key);
      if (held === undefined || certificate.notAfter > held.notAfter) map.set(key, certificate);
    }
  }
  const index = { exact, wildcard, certificates: Object.freeze(ordered) };
  let fallback: LoadedCertificate | null = ordered[0] ?? null;
  let defaultProblem: string | null = null;
  if (defaultName !== undefined) {
    const wanted = defaultName.trim().toLowerCase();
    const named = ordered.find((c) => c.name.toLowerCase() === wanted) ?? lookup(index, wanted);
    if (named) fallback = named;
    else if (ordered.length > 0) {
      defaultProblem = `GATEHOUSE_TLS_DEFAULT_CERT="${defaultName}" matches no loaded certificate (by name or host); using ${fallback?.name} instead`;
    }
  }
  return Object.freeze({ ...index, fallback, defaultProblem });
}

/** The certificate for a handshake's server name (SNI); the default when nothing covers it. */
export function selectCertificate(index: SniIndex, serverName: string | undefined): LoadedCertificate | null {
  if (serverName) {
    const found = lookup(index, serverName.toLowerCase().replace(/\.$/, ''));
    if (found) return found;
  }
  return index.fallback;
}

function lookup(index: Pick<SniIndex, 'exact' | 'wildcard'>, name: string): LoadedCertificate | undefined {
  const hit = index.exact.get(name);
  if (hit) return hit;
  const dot = name.indexOf('.');
  return dot === -1 ? undefined : index.wildcard.get(name.slice(dot + 1));
}
