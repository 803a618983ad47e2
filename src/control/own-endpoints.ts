import os from 'node:os';
import type { OwnEndpoint } from '../labels/index.ts';
import type { ResolveAll } from './target-check.ts';

/** Every address of this machine's (or this container's) interfaces. */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((item) => item.address.replace(/%.*$/, ''));
}

/**
 * The Docker API Gatehouse talks to, when it is reached over TCP (a socket proxy): no label may
 * point a route at it. A Unix socket needs nothing here. A name that does not resolve yet is
 * refused by name only at the next start; the socket proxy is normally reachable at start.
 */
export async function dockerApiEndpoints(dockerHost: string, resolveAll: ResolveAll): Promise<OwnEndpoint[]> {
  let url: URL;
  try {
    url = new URL(dockerHost.replace(/^tcp:/i, 'http:'));
  } catch {
    return [];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [];
  const port = Number(url.port) || (url.protocol === 'https:' ? 2376 : 2375);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const what = 'the Docker API Gatehouse uses';
  try {
    const answers = await resolveAll(host);
    return answers.map((answer) => ({ address: answer.address, port, what }));
  } catch {
    return [];
  }
}
