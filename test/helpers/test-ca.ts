import { X509Certificate, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A throwaway certificate authority for tests: P-256 keys and X.509 v3 certificates built with
 * node:crypto and a minimal DER encoder, so validity dates (expired, not yet valid) and names
 * are whatever a test needs, with no private key ever committed.
 */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly fingerprint256: string;
}

export interface TestCa {
  readonly certPem: string;
  issue(options: { names: string[]; commonName?: string; notBefore?: Date; notAfter?: Date }): IssuedCertificate;
}

const DAY = 86_400_000;

export function createTestCa(commonName = 'Gatehouse Test CA'): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = name(commonName);
  const now = Date.now();
  const certPem = certificate({
    issuer: caName,
    subject: caName,
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    extensions: [extension(OID.basicConstraints, true, seq(bool(true))), extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1))],
  });
  return {
    certPem,
    issue(options) {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const leafPem = certificate({
        issuer: caName,
        subject: name(options.commonName ?? options.names[0] ?? 'no-name'),
        publicKey: pair.publicKey,
        signingKey: privateKey,
        notBefore: options.notBefore ?? new Date(Date.now() - DAY),
        notAfter: options.notAfter ?? new Date(Date.now() + 90 * DAY),
        extensions: [
          extension(OID.basicConstraints, true, seq()),
          ...(options.names.length > 0 ? [extension(OID.subjectAltName, false, seq(...options.names.map(subjectAltName)))] : []),
        ],
      });
      return {
        certPem: leafPem,
        keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        fingerprint256: new X509Certificate(leafPem).fingerprint256,
      };
    },
  };
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
};

function certificate(input: {
  issuer: Buffer;
  subject: Buffer;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}): string {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(randomBytes(12)),
    algorithm,
    input.issuer,
    seq(time(input.notBefore), time(input.notAfter)),
    input.subject,
    input.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...input.extensions)),
  );
  const signature = sign('sha256', tbs, input.signingKey);
  const der = seq(tbs, algorithm, bitString(signature, 0));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** A DNS name, or an IPv4 address written as one (an iPAddress entry, which TLS clients match IP hosts against). */
function subjectAltName(n: string): Buffer {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(n) ? tlv(0x87, Buffer.from(n.split('.').map(Number))) : tlv(0x82, Buffer.from(n, 'ascii'));
}

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let head: Buffer;
  if (length < 0x80) head = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
    head = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([head, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const bool = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
const bitString = (bytes: Buffer, unusedBits: number) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));

function integer(bytes: Buffer): Buffer {
  // DER wants the shortest form: no leading zero bytes (random serials can start with some)...
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const minimal = bytes.subarray(start);
  // ...and positive numbers: a leading 1 bit would read as a sign, so pad it with a zero byte.
  return tlv(0x02, (minimal[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid(OID.commonName), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), tlv(0x04, value));
}

function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  // UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}
