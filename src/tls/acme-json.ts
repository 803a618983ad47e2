import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { messageOf, normalizeDnsName, type CertificateCandidate } from './certificate.ts';
import type { SourceScan } from './dir-source.ts';

/**
 * Traefik's `acme.json` (v2 and v3): one key per certificate resolver, each holding the ACME
 * account and the certificates it obtained, PEM base64-encoded. Only what Gatehouse needs is
 * read; everything else in the file is left alone.
 */
const AcmeCertificate = z.object({
  domain: z.object({ main: z.string().min(1), sans: z.array(z.string()).nullish() }),
  certificate: z.string().min(1),
  key: z.string().min(1),
});

const AcmeResolver = z.object({ Certificates: z.array(z.unknown()).nullish() });

export async function readAcmeJson(file: string): Promise<SourceScan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (Traefik writes acme.json readable by its owner only; run Gatehouse as that user or use traefik-certs-dumper)'
        : `cannot read the file (${code ?? messageOf(error)})`;
    return { candidates: [], failures: [], fatal: { location: file, reason } };
  }
  return parseAcmeJson(text, file);
}

export function parseAcmeJson(text: string, file: string): SourceScan {
  // Traefik creates the file empty before it has an account.
  if (text.trim() === '') return { candidates: [], failures: [] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { candidates: [], failures: [], fatal: { location: file, reason: `not valid JSON (${messageOf(error)})` } };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { candidates: [], failures: [], fatal: { location: file, reason: 'expected an object with one key per certificate resolver' } };
  }
  const candidates: CertificateCandidate[] = [];
  const failures: SourceScan['failures'] = [];
  for (const [resolver, value] of Object.entries(data)) {
    const parsed = AcmeResolver.safeParse(value);
    if (!parsed.success) {
      failures.push({ source: `acme:${resolver}`, location: `${file} (resolver "${resolver}")`, reason: 'not a Traefik v2/v3 resolver entry (expected "Certificates")' });
      continue;
    }
    for (const [i, entry] of (parsed.data.Certificates ?? []).entries()) {
      const cert = AcmeCertificate.safeParse(entry);
      const main = cert.success ? (normalizeDnsName(cert.data.domain.main) ?? cert.data.domain.main) : `#${i}`;
      const source = `acme:${resolver}/${main}`;
      const location = `${file} (resolver "${resolver}", ${cert.success ? `domain ${cert.data.domain.main}` : `entry ${i}`})`;
      if (!cert.success) {
        failures.push({ source, location, reason: 'expected domain.main, certificate and key' });
        continue;
      }
      candidates.push({
        source,
        name: main,
        location,
        certPem: Buffer.from(cert.data.certificate, 'base64').toString('utf8'),
        keyPem: Buffer.from(cert.data.key, 'base64').toString('utf8'),
      });
    }
  }
  return { candidates, failures };
}
