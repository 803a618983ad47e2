import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { PomeriumUpstreamTls } from '../routes/index.ts';

/**
 * The TLS a Pomerium route asks of its upstream (`tls_server_name`, `tls_custom_ca[_file]`,
 * `tls_client_cert[_file]` + `tls_client_key_file`) as Node connect options. Files are read when
 * the route's agent is first made, so a missing file fails that route's requests (502) instead
 * of being connected to without the certificate the operator asked for.
 */
export function upstreamTlsOptions(tls: PomeriumUpstreamTls): ConnectionOptions {
  const options: ConnectionOptions = {};
  if (tls.serverName !== null) options.servername = tls.serverName;
  const ca = tls.ca ?? (tls.caFile === null ? null : readFileSync(tls.caFile, 'utf8'));
  if (ca !== null) options.ca = ca;
  const cert = tls.clientCert ?? (tls.clientCertFile === null ? null : readFileSync(tls.clientCertFile, 'utf8'));
  if (cert !== null && tls.clientKeyFile !== null) {
    options.cert = cert;
    options.key = readFileSync(tls.clientKeyFile, 'utf8');
  }
  return options;
}

/** The key agents are shared by: routes with the same TLS settings share one agent. */
export function upstreamTlsKey(tls: PomeriumUpstreamTls | null | undefined): string {
  return tls === null || tls === undefined ? '' : JSON.stringify(tls);
}
