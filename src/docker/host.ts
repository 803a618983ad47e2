import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../errors.ts';

const EXPECTED = 'expected unix:///path/to/docker.sock, tcp://host:port, http://host:port or https://host:port';

/** Environment variables that shape the connection, as the Docker CLI reads them. */
export interface DockerTlsEnv {
  DOCKER_TLS_VERIFY?: string | undefined;
  DOCKER_CERT_PATH?: string | undefined;
}

/** Where and how to reach the engine: a unix socket, or a host and port over http or https. */
export interface DockerConnection {
  socketPath: string | undefined;
  host: string | undefined;
  port: number | undefined;
  protocol: 'http' | 'https';
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Turns a DOCKER_HOST value (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, as the Docker CLI reads them) into a connection. */
export function parseDockerHost(value: string, env: DockerTlsEnv = process.env): DockerConnection {
  const trimmed = value.trim();
  if (trimmed.startsWith('unix://')) {
    const socketPath = trimmed.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      throw invalid(value, 'a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock');
    }
    return { socketPath, host: undefined, port: undefined, protocol: 'http' };
  }

  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalid(value, EXPECTED);
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(value, `the scheme ${url.protocol.replace(/:$/, '')}:// is not supported; ${EXPECTED}`);
  }
  if (url.hostname === '') throw invalid(value, `a host name is missing; ${EXPECTED}`);
  if (url.pathname !== '' && url.pathname !== '/') {
    throw invalid(value, 'a path after host:port is not supported; point DOCKER_HOST at the engine or socket proxy root');
  }

  const tls = url.protocol === 'https:' || (url.protocol === 'tcp:' && isSet(env.DOCKER_TLS_VERIFY));
  const defaultPort = url.protocol === 'tcp:' ? (tls ? 2376 : 2375) : tls ? 443 : 80;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: DockerConnection = {
    socketPath: undefined,
    host: hostname,
    port: url.port === '' ? defaultPort : Number(url.port),
    protocol: tls ? 'https' : 'http',
  };
  if (tls && env.DOCKER_CERT_PATH) Object.assign(options, readCertificates(env.DOCKER_CERT_PATH));
  return options;
}

function readCertificates(certPath: string): Pick<DockerConnection, 'ca' | 'cert' | 'key'> {
  const read = (file: string): Buffer => {
    try {
      return readFileSync(path.join(certPath, file));
    } catch (error) {
      throw new GatehouseError('CONFIG_INVALID', `DOCKER_CERT_PATH=${certPath}: cannot read ${file} (expected ca.pem, cert.pem and key.pem there)`, { cause: error });
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

function isSet(flag: string | undefined): boolean {
  return flag !== undefined && flag !== '' && flag !== '0' && flag.toLowerCase() !== 'false';
}

function invalid(value: string, expected: string): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', `DOCKER_HOST=${JSON.stringify(value)} is not usable: ${expected}`);
}
