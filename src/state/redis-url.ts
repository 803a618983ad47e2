import { GatehouseError } from '../errors.ts';

/** Checks the scheme; the message never repeats the URL, which may carry a password. */
export function checkRedisUrl(url: string, variable = 'GATEHOUSE_REDIS_URL'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatehouseError('CONFIG_INVALID', `${variable}: not a URL; expected redis://[:password@]host:6379[/db] or rediss://… for TLS`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new GatehouseError('CONFIG_INVALID', `${variable}: scheme "${parsed.protocol.slice(0, -1)}" is not redis or rediss; expected redis://host:6379 or rediss://host:6380`);
  }
  if (parsed.hostname === '') throw new GatehouseError('CONFIG_INVALID', `${variable}: no host; expected redis://host:6379`);
  return parsed;
}
