import { readFile } from 'node:fs/promises';
import { messageOf, normalizeDnsName, type CertificateCandidate } from './certificate.ts';
import type { SourceScan } from './dir-source.ts';

/**
 * Traefik's `acme.json`, in the three layouts Traefik has written:
 * - v2/v3: one key per certificate resolver, each `{ Account, Certificates: [{ domain: { main, sans }, certificate, key }] }`;
 * - v1.7: `{ Account, Certificates: [{ Domain: { Main, SANs }, Certificate, Key }], HTTPChallenges, TLSChallenges }`;
 * - v1 before 1.7 (also its KV stores): the account itself, `{ Email, …, DomainsCertificate: { Certs: [{ Domains, Certificate: { Certificate, PrivateKey } }] } }`.
 * Certificates and keys are PEM, base64-encoded (Go's `[]byte`). Only what Gatehouse needs is
 * read; everything else in the file is left alone.
 */
export const ACME_FORMATS =
  'Traefik v2/v3 ({"RESOLVER": {"Certificates": [{"domain": {"main": …}, "certificate": …, "key": …}]}}), ' +
  'Traefik v1.7 ({"Account": …, "Certificates": [{"Domain": {"Main": …}, "Certificate": …, "Key": …}]}) or ' +
  'Traefik v1 before 1.7 ({"Email": …, "DomainsCertificate": {"Certs": [{"Domains": {"Main": …}, "Certificate": {"Certificate": …, "PrivateKey": …}}]}})';

export async function readAcmeJson(file: string): Promise<SourceScan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { candidates: [], failures: [], fatal: { location: file, reason: 'the file does not exist (certificates are loaded when it appears)', missing: true } };
    const reason =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (Traefik writes acme.json readable by its owner only; run Gatehouse as that user or use traefik-certs-dumper)'
        : `cannot read the file (${code ?? messageOf(error)})`;
    return { candidates: [], failures: [], fatal: { location: file, reason } };
  }
  return parseAcmeJson(text, file);
}

type Json = Record<string, unknown>;

export function parseAcmeJson(text: string, file: string): SourceScan {
  // Traefik creates the file empty before it has an account.
  if (text.trim() === '') return { candidates: [], failures: [] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { candidates: [], failures: [], fatal: { location: file, reason: `not valid JSON (${messageOf(error)})` } };
  }
  if (!isObject(data)) return unrecognised(file, `the file holds ${Array.isArray(data) ? 'a list' : typeof data === 'object' ? 'null' : `a ${typeof data}`}`);
  if (isLegacyV1(data)) return readLegacyV1(data, file);
  if (isV1(data)) return readEntries(field(data, 'Certificates'), { file, source: 'acme:', where: 'Traefik v1' });

  const resolvers = Object.entries(data).filter(([, value]) => isResolver(value));
  if (resolvers.length === 0 && Object.keys(data).length > 0) {
    return unrecognised(file, `none of its keys (${Object.keys(data).slice(0, 5).map((k) => `"${k}"`).join(', ')}) holds "Certificates" or "Account"`);
  }
  const scans = Object.entries(data).map(([resolver, value]): SourceScan =>
    isResolver(value)
      ? readEntries(field(value, 'Certificates'), { file, source: `acme:${resolver}/`, where: `resolver "${resolver}"` })
      : {
          candidates: [],
          failures: [{ source: `acme:${resolver}`, location: `${file} (key "${resolver}")`, reason: 'not a certificate resolver (expected {"Account": …, "Certificates": […]} like the other keys)' }],
        },
  );
  return { candidates: scans.flatMap((s) => s.candidates), failures: scans.flatMap((s) => s.failures) };
}

/** Go's encoding/json matches field names case-insensitively, so Traefik reads `Domain` and `domain` alike; so do we (exact spelling first). */
function field(object: unknown, name: string): unknown {
  if (!isObject(object)) return undefined;
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const listOrNull = (value: unknown) => Array.isArray(value) || value === null;

/** v1.7 keeps `Certificates` at the top as a list; in v2/v3 every top-level value is a resolver object. */
function isV1(data: Json): boolean {
  const certificates = field(data, 'Certificates');
  if (certificates !== undefined) return listOrNull(certificates);
  const account = field(data, 'Account');
  return account === null || (isObject(account) && field(account, 'Certificates') === undefined && field(account, 'Account') === undefined);
}

function isLegacyV1(data: Json): boolean {
  return isObject(field(data, 'DomainsCertificate'));
}

function isResolver(value: unknown): boolean {
  return isObject(value) && (listOrNull(field(value, 'Certificates')) || (field(value, 'Certificates') === undefined && field(value, 'Account') !== undefined));
}

function unrecognised(file: string, what: string): SourceScan {
  return { candidates: [], failures: [], fatal: { location: file, reason: `not a Traefik certificate store Gatehouse knows: ${what}; expected ${ACME_FORMATS}` } };
}

interface Place {
  readonly file: string;
  /** Prefix of each certificate's source: `acme:RESOLVER/` (v2/v3) or `acme:` (v1). */
  readonly source: string;
  readonly where: string;
}

/** v2/v3 and v1.7 entries: `domain.main`, `certificate`, `key` (v1.7 spells them capitalised). */
function readEntries(list: unknown, place: Place): SourceScan {
  const entries = Array.isArray(list) ? list : [];
  return collect(
    entries.map((entry) => ({ main: field(field(entry, 'domain'), 'main'), certificate: field(entry, 'certificate'), key: field(entry, 'key') })),
    place,
    'expected domain.main, certificate and key',
  );
}

function readLegacyV1(data: Json, file: string): SourceScan {
  const certs = field(field(data, 'DomainsCertificate'), 'Certs');
  const entries = Array.isArray(certs) ? certs : [];
  return collect(
    entries.map((entry) => {
      const pair = field(entry, 'Certificate');
      return { main: field(field(entry, 'Domains'), 'Main'), certificate: field(pair, 'Certificate'), key: field(pair, 'PrivateKey') };
    }),
    { file, source: 'acme:', where: 'Traefik v1' },
    'expected Domains.Main, Certificate.Certificate and Certificate.PrivateKey',
  );
}

function collect(entries: { main: unknown; certificate: unknown; key: unknown }[], place: Place, expected: string): SourceScan {
  const candidates: CertificateCandidate[] = [];
  const failures: SourceScan['failures'] = [];
  for (const [i, entry] of entries.entries()) {
    const { main, certificate, key } = entry;
    const complete = isText(main) && isText(certificate) && isText(key);
    const name = isText(main) ? (normalizeDnsName(main) ?? main) : `#${i}`;
    const source = `${place.source}${name}`;
    const location = `${place.file} (${place.where}, ${isText(main) ? `domain ${main}` : `entry ${i}`})`;
    if (!complete) {
      failures.push({ source, location, reason: expected });
      continue;
    }
    candidates.push({ source, name, location, certPem: fromBase64(certificate), keyPem: fromBase64(key) });
  }
  return { candidates, failures };
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const fromBase64 = (value: string) => Buffer.from(value, 'base64').toString('utf8');
