import type { LoadedCertificate } from './certificate.ts';

const DAY_MS = 86_400_000;

/** Renewals run 30 days ahead (Let's Encrypt, Traefik); 14 days left means renewal has been failing. */
export const EXPIRY_WARNING_DAYS = 14;

/** Whole days left, rounded down (0 on the last day). */
export function daysLeft(certificate: Pick<LoadedCertificate, 'notAfter'>, now: number): number {
  return Math.max(0, Math.floor((certificate.notAfter - now) / DAY_MS));
}

export function expiresSoon(certificate: Pick<LoadedCertificate, 'notAfter'>, now: number): boolean {
  return certificate.notAfter - now <= EXPIRY_WARNING_DAYS * DAY_MS;
}
