import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { messageOf, type CertificateCandidate } from './certificate.ts';

/** A pair found on disk that could not be read; its source keeps its last good certificate. */
export interface SourceFailure {
  readonly source: string;
  readonly location: string;
  readonly reason: string;
}

export interface SourceScan {
  readonly candidates: CertificateCandidate[];
  readonly failures: SourceFailure[];
  /**
   * The whole source could not be read (acme.json mid-write, permissions): keep everything it gave
   * before. `missing` when it does not exist at all: its certificates count as absent, and are
   * dropped once the grace period for absent certificates has run out.
   */
  readonly fatal?: { readonly location: string; readonly reason: string; readonly missing?: boolean };
}

/** Deep enough for certbot's `live/DOMAIN/` inside a mounted `letsencrypt/` folder. */
const MAX_DEPTH = 3;

interface Pair {
  readonly source: string;
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string | null;
  readonly expected: string;
}

/**
 * The certificate folder, in the layouts other tools write:
 * - `NAME.crt` + `NAME.key` side by side (any tool; Kubernetes `tls.crt`/`tls.key`);
 * - `certs/NAME.crt` + `private/NAME.key` (traefik-certs-dumper; also `.pem`/`.cer` and `.pem` with its `--crt-ext`/`--key-ext`);
 * - a folder with `fullchain.pem` (or `cert.pem`) + `privkey.pem` (certbot `live/DOMAIN/`, DSM exports);
 * - a folder with `certificate.crt` + `privatekey.key` (traefik-certs-dumper `--domain-subdir`; other extensions likewise).
 * Hidden entries are skipped (Kubernetes' `..data` would list every pair twice).
 */
export async function scanCertificateDir(root: string): Promise<SourceScan> {
  const pairs: Pair[] = [];
  const certLike: string[] = [];
  try {
    await walk(root, root, 0, pairs, certLike);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { candidates: [], failures: [], fatal: { location: root, reason: 'the folder does not exist (certificates are loaded when it appears)', missing: true } };
    return { candidates: [], failures: [], fatal: { location: root, reason: `cannot read the folder (${code ?? messageOf(error)})` } };
  }
  const candidates: CertificateCandidate[] = [];
  const failures: SourceFailure[] = [];
  await Promise.all(
    pairs.map(async (pair) => {
      const location = pair.keyFile ? `${pair.certFile} + ${pair.keyFile}` : pair.certFile;
      if (pair.keyFile === null) {
        failures.push({ source: pair.source, location, reason: `no private key found; expected ${pair.expected}` });
        return;
      }
      try {
        const [certPem, keyPem] = await Promise.all([readFile(pair.certFile, 'utf8'), readFile(pair.keyFile, 'utf8')]);
        candidates.push({ source: pair.source, name: pair.name, location, certPem, keyPem });
      } catch (error) {
        failures.push({ source: pair.source, location, reason: `cannot read the files (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})` });
      }
    }),
  );
  if (pairs.length === 0 && certLike.length > 0) {
    // Files are there but none in a layout we read: say so rather than serve nothing in silence.
    const shown = certLike.sort().slice(0, 5).map((file) => path.relative(root, file)).join(', ');
    failures.push({ source: 'dir:', location: root, reason: `found ${shown}${certLike.length > 5 ? ', …' : ''} but no certificate in a layout Gatehouse reads; expected ${DIR_LAYOUTS}` });
  }
  return { candidates, failures };
}

export const DIR_LAYOUTS =
  'NAME.crt + NAME.key, certs/NAME.crt (or .pem, .cer) + private/NAME.key (or .pem), a folder with fullchain.pem (or cert.pem) + privkey.pem, or a folder with certificate.crt + privatekey.key (or .pem)';

const DUMPER_CERT_EXTS = ['.crt', '.pem', '.cer'];
const DUMPER_KEY_EXTS = ['.key', '.pem'];

// Keys alone (the dumper's private/letsencrypt.key for the ACME account) are no sign of a certificate.
const CERT_LIKE = /\.(?:crt|cer|pem)$/i;

async function walk(root: string, dir: string, depth: number, pairs: Pair[], certLike: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (dir === root) throw error;
    return;
  }
  const files = new Set<string>();
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    const kind = entry.isSymbolicLink() ? await kindOf(full) : entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : null;
    if (kind === 'dir') dirs.push(entry.name);
    else if (kind === 'file') files.add(entry.name);
  }
  for (const file of files) if (CERT_LIKE.test(file)) certLike.push(path.join(dir, file));
  const source = (file: string) => `dir:${path.relative(root, file).split(path.sep).join('/')}`;
  const folderName = path.basename(dir);

  const chain = files.has('fullchain.pem') ? 'fullchain.pem' : files.has('cert.pem') ? 'cert.pem' : null;
  if (chain) {
    const certFile = path.join(dir, chain);
    const keyFile = files.has('privkey.pem') ? path.join(dir, 'privkey.pem') : null;
    pairs.push({ source: source(certFile), name: folderName, certFile, keyFile, expected: `privkey.pem in ${dir}` });
  }
  // traefik-certs-dumper --domain-subdir: DOMAIN/certificate.EXT + DOMAIN/privatekey.EXT (any --crt-ext/--key-ext).
  const subdirCert = DUMPER_CERT_EXTS.map((ext) => `certificate${ext}`).find((file) => files.has(file));
  const subdirKey = DUMPER_KEY_EXTS.map((ext) => `privatekey${ext}`).find((file) => files.has(file));
  if (subdirCert && subdirKey) {
    const certFile = path.join(dir, subdirCert);
    pairs.push({ source: source(certFile), name: folderName, certFile, keyFile: path.join(dir, subdirKey), expected: '' });
  }
  for (const file of files) {
    if (file === subdirCert && subdirKey) continue;
    const ext = path.extname(file);
    // The dumper's certs/ folder takes whatever --crt-ext it was given; elsewhere only NAME.crt + NAME.key.
    const inDumperCerts = folderName === 'certs' && chain === null && DUMPER_CERT_EXTS.includes(ext);
    if (ext !== '.crt' && !inDumperCerts) continue;
    const stem = file.slice(0, -ext.length);
    const certFile = path.join(dir, file);
    let keyFile: string | null = ext === '.crt' && files.has(`${stem}.key`) ? path.join(dir, `${stem}.key`) : null;
    let expected = `${stem}.key beside it`;
    if (keyFile === null && folderName === 'certs') {
      for (const keyExt of DUMPER_KEY_EXTS) {
        const privateKey = path.join(dir, '..', 'private', `${stem}${keyExt}`);
        if ((await kindOf(privateKey)) === 'file') {
          keyFile = privateKey;
          break;
        }
      }
      expected = `${ext === '.crt' ? `${stem}.key beside it or ` : ''}../private/${stem}.key (or .pem)`;
    }
    pairs.push({ source: source(certFile), name: stem, certFile, keyFile, expected });
  }
  if (depth >= MAX_DEPTH) return;
  for (const name of dirs) await walk(root, path.join(dir, name), depth + 1, pairs, certLike);
}

async function kindOf(file: string): Promise<'dir' | 'file' | null> {
  try {
    const info = await stat(file);
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}
