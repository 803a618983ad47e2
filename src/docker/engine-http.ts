import type { Agent, IncomingMessage } from 'node:http';
import { http } from '../util/node-http.ts';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { DockerConnection } from './host.ts';

/**
 * The Engine API calls (five, and the two Swarm lists), straight over node:http(s). This replaced dockerode, which loads
 * ssh2, gRPC and protobufjs for transports and BuildKit sessions Gatehouse never uses: about
 * 13 MB more RSS (6 MB private) and a slower start, for five GET requests (BENCHMARKS.md,
 * "Where the memory goes").
 */
export interface EngineApi {
  ping(signal: AbortSignal): Promise<void>;
  version(signal: AbortSignal): Promise<{ Version?: unknown; ApiVersion?: unknown }>;
  listContainers(query: { all: boolean; filters?: Record<string, string[]> }, signal: AbortSignal): Promise<unknown>;
  listImages(signal: AbortSignal): Promise<unknown>;
  /** Swarm managers only; other engines answer 503. */
  listServices(signal: AbortSignal): Promise<unknown>;
  listTasks(filters: Record<string, string[]>, signal: AbortSignal): Promise<unknown>;
  /** Resolves with the response stream once the engine answered 200 with the stream's headers. */
  events(filters: Record<string, string[]>, signal: AbortSignal): Promise<IncomingMessage>;
}

export function createEngineApi(connection: DockerConnection, agent: Agent): EngineApi {
  const get = (path: string, signal: AbortSignal) => getResponse(connection, agent, path, signal);
  const json = async (path: string, signal: AbortSignal): Promise<unknown> => JSON.parse(await readBody(await ok(path, await get(path, signal))));
  return {
    async ping(signal) {
      await readBody(await ok('/_ping', await get('/_ping', signal)));
    },
    version: (signal) => json('/version', signal) as Promise<{ Version?: unknown; ApiVersion?: unknown }>,
    listContainers: ({ all, filters }, signal) => json(`/containers/json?all=${all ? 1 : 0}${filters ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''}`, signal),
    listImages: (signal) => json('/images/json', signal),
    listServices: (signal) => json('/services', signal),
    listTasks: (filters, signal) => json(`/tasks?filters=${encodeURIComponent(JSON.stringify(filters))}`, signal),
    async events(filters, signal) {
      const path = `/events?filters=${encodeURIComponent(JSON.stringify(filters))}`;
      return ok(path, await get(path, signal));
    },
  };
}

function getResponse(connection: DockerConnection, agent: Agent, path: string, signal: AbortSignal): Promise<IncomingMessage> {
  const transport = connection.protocol === 'https' ? https : http;
  const target =
    connection.socketPath !== undefined
      ? { socketPath: connection.socketPath }
      : { host: connection.host, port: connection.port, ca: connection.ca, cert: connection.cert, key: connection.key, ...(connection.protocol === 'https' ? serverIdentity(connection.host) : {}) };
  return new Promise((resolve, reject) => {
    const request = transport.request({ ...target, agent, method: 'GET', path, headers: { host: 'docker', accept: 'application/json' }, signal }, resolve);
    request.on('error', reject);
    request.end();
  });
}

/**
 * The engine's certificate is checked against the engine's own host, never against the `Host:
 * docker` header every request carries (Node would otherwise take the header as the TLS name).
 * An IP address is checked against the certificate's IP entries and sent without SNI, which
 * may not carry an address.
 */
function serverIdentity(host: string | undefined): Pick<tls.ConnectionOptions, 'servername' | 'checkServerIdentity'> {
  if (host === undefined) return {};
  return { servername: isIP(host) === 0 ? host : '', checkServerIdentity: (_name, certificate) => tls.checkServerIdentity(host, certificate) };
}

/** The response itself when 2xx; otherwise an error with the engine's own message. */
async function ok(path: string, response: IncomingMessage): Promise<IncomingMessage> {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  const body = await readBody(response).catch(() => '');
  let message = body.trim();
  try {
    message = String((JSON.parse(body) as { message?: unknown }).message ?? message);
  } catch {
    /* not JSON: keep the text */
  }
  throw Object.assign(new Error(`GET ${path} answered HTTP ${status}${message ? `: ${message}` : ''}`), { statusCode: status });
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
