import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';

/** A certificate and key pair as found on disk or in acme.json, before any checking. */
export interface CertificateCandidate {
  /** Stable identity of the pair across reloads: `dir:certs/example.com.crt`, `acme:le/example.com`. */
  readonly source: string;
  /** What GATEHOUSE_TLS_DEFAULT_CERT may call it: the file stem, folder or main domain. */
  readonly name: string;
  /** Where a user looks when it is skipped (the file, or acme.json with the resolver). */
  readonly location: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A pair that parsed, matches its key and is in its validity period. Frozen. */
export interface LoadedCertificate {
  readonly source: string;
  readonly name: string;
  readonly location: string;
  /** Lowercase DNS names it is valid for (subjectAltName, else the subject CN); may hold `*.` wildcards. */
  readonly names: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly issuer: string;
  readonly fingerprint256: string;
  readonly context: SecureContext;
  readonly certPem: string;
  readonly keyPem: string;
}

export type CertificateCheck = { ok: true; certificate: LoadedCertificate } | { ok: false; reason: string };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Checks one pair the way a TLS handshake would need it: the leaf parses, the key parses and
 * belongs to the leaf, and `now` is inside the validity period. Never throws.
 */
export function checkCertificate(candidate: CertificateCandidate, now: number): CertificateCheck {
  const blocks = candidate.certPem.match(PEM_CERTIFICATE);
  if (!blocks || blocks.length === 0) return { ok: false, reason: 'no PEM certificate ("-----BEGIN CERTIFICATE-----") in the file' };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(blocks[0] as string);
  } catch (error) {
    return { ok: false, reason: `the certificate does not parse (${messageOf(error)})` };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(candidate.keyPem);
  } catch (error) {
    return { ok: false, reason: `the private key does not parse (${messageOf(error)}); expected an unencrypted PEM key` };
  }
  if (!leaf.checkPrivateKey(key)) {
    return { ok: false, reason: `the certificate (${leaf.subject.replace(/\n/g, ', ')}) does not match its private key` };
  }
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  if (now >= notAfter) return { ok: false, reason: `the certificate expired on ${new Date(notAfter).toISOString()}` };
  if (now < notBefore) return { ok: false, reason: `the certificate is not valid before ${new Date(notBefore).toISOString()}` };
  const names = certificateNames(leaf);
  if (names.length === 0) return { ok: false, reason: 'the certificate names no DNS host (no subjectAltName DNS entry and no CN)' };

  let context: SecureContext;
  try {
    // Leaf first, then whatever chain the file carries, as the client needs it.
    context = createSecureContext({ cert: blocks.join('\n'), key: candidate.keyPem });
  } catch (error) {
    return { ok: false, reason: `OpenSSL refused the pair (${messageOf(error)})` };
  }
  return {
    ok: true,
    certificate: Object.freeze({
      source: candidate.source,
      name: candidate.name,
      location: candidate.location,
      names: Object.freeze(names),
      notBefore,
      notAfter,
      issuer: leaf.issuer.replace(/\n/g, ', '),
      fingerprint256: leaf.fingerprint256,
      context,
      certPem: candidate.certPem,
      keyPem: candidate.keyPem,
    }),
  };
}

/**
 * DNS names from subjectAltName; the subject CN only when there is no DNS entry (browsers ignore
 * the CN, but SNI selection still needs a name). IP entries are left out: SNI never carries one.
 */
export function certificateNames(cert: X509Certificate): string[] {
  const names = new Set<string>();
  for (const entry of splitAltNames(cert.subjectAltName ?? '')) {
    if (!entry.startsWith('DNS:')) continue;
    const name = normalizeDnsName(entry.slice(4));
    if (name) names.add(name);
  }
  if (names.size === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    const name = cn ? normalizeDnsName(cn) : null;
    if (name) names.add(name);
  }
  return [...names];
}

/** Node quotes entries that contain separators; a DNS name never does, so quoted ones are skipped. */
function splitAltNames(text: string): string[] {
  return text
    .split(', ')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.includes('"'));
}

const DNS_NAME = /^(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function normalizeDnsName(value: string): string | null {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  return DNS_NAME.test(name) ? name : null;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
