/**
 * Pomerium's `POLICY` environment variable: its routes, base64-encoded (standard alphabet, as
 * Go's base64.StdEncoding reads it, line breaks allowed), YAML or JSON, usually a bare list.
 * Pomerium users encode their policy file into it; Gatehouse reads it the same way, beside
 * GATEHOUSE_CONFIG when both are set. No imports: the environment schema uses it.
 */
export const POLICY_SOURCE = 'POLICY';

export const POLICY_ENV_HINT = 'expected base64 of the policy YAML or JSON, as Pomerium reads it (e.g. POLICY=$(base64 -w0 policy.yaml))';

/** Null when the text is not base64 a Go program would decode; the decoded text otherwise. */
export function decodePolicyEnv(value: string): string | null {
  const compact = value.replace(/[\r\n]/g, '').trim();
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return null;
  return Buffer.from(compact, 'base64').toString('utf8');
}
