import { resolve } from 'node:path';
import type { AppConfig } from '../config/index.ts';

/**
 * The running Gatehouse, through its admin listener (GATEHOUSE_ADMIN_URL, else the address in
 * GATEHOUSE_ADMIN_LISTEN, with a wildcard address read as loopback). Its answer is used only
 * when it reads the same labels and routes file as this command's settings: another instance
 * on the same port would describe other routes.
 */

export type RunningAnswer<T> = { ok: true; url: string; body: T } | { ok: false; reason: string };

export function adminUrl(config: AppConfig): string {
  const explicit = config.GATEHOUSE_ADMIN_URL;
  if (explicit !== undefined) return explicit.replace(/\/+$/, '');
  const { host, port } = config.GATEHOUSE_ADMIN_LISTEN;
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export async function askRunning<T>(config: AppConfig, path: string, timeoutMs = 2000): Promise<RunningAnswer<T>> {
  const base = adminUrl(config);
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    return { ok: false, reason: `no running Gatehouse answered at ${base} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})` };
  }
  if (response.status === 404) return { ok: false, reason: `the Gatehouse at ${base} is older and has no ${path}` };
  const body = (await response.json().catch(() => null)) as (T & { instance?: { labelPrefix?: string; routesFile?: string | null } | null }) | null;
  if (body === null || typeof body !== 'object') return { ok: false, reason: `the admin listener at ${base} did not answer with JSON` };
  if (!response.ok) return { ok: false, reason: `the Gatehouse at ${base} answered ${response.status}: ${(body as { message?: string }).message ?? ''}` };
  const instance = body.instance;
  const ownFile = config.GATEHOUSE_CONFIG === undefined ? null : resolve(config.GATEHOUSE_CONFIG);
  if (instance === null || instance === undefined || instance.labelPrefix !== config.GATEHOUSE_LABEL_PREFIX || (instance.routesFile ?? null) !== ownFile) {
    return { ok: false, reason: `the Gatehouse at ${base} reads other settings (label prefix ${instance?.labelPrefix ?? '?'}, routes file ${instance?.routesFile ?? 'none'})` };
  }
  return { ok: true, url: base, body };
}
