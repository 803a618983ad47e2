import { parse } from 'yaml';
import { collectPomeriumSettings, isPomeriumSetting, mapPomeriumSettings, type PomeriumSettingsResult, type SettingNote } from './pomerium-settings.ts';

/** What the rest of Gatehouse needs of Pomerium's global settings once they are mapped. */
export interface PomeriumConfig {
  /** Each setting once, as mapped, ignored or overridden by a GATEHOUSE_* variable: logged at startup. */
  readonly notes: readonly SettingNote[];
  /** `jwt_claims_headers`: header name → claim. Empty when not set. */
  readonly jwtClaimsHeaders: Readonly<Record<string, string>>;
  /** The global `pass_identity_headers`; null when not set. */
  readonly passIdentityHeaders: boolean | null;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Pomerium-compatible mode is on when POLICY (or ROUTES) is set or GATEHOUSE_CONFIG is a Pomerium
 * configuration (a bare list of routes, a `policy:` list, or any of Pomerium's global settings).
 * Then the file's global settings and Pomerium's environment variables (IDP_PROVIDER_URL, …)
 * are read and mapped; otherwise null, and those variables mean nothing to Gatehouse.
 *
 * A routes file that cannot be read or parsed here is left to the routes-file watcher, which
 * reports it with line numbers.
 */
export function readPomeriumSettings(env: Env, readFile: (path: string) => string): { mapped: PomeriumSettingsResult; config: PomeriumConfig } | null {
  const file = env.GATEHOUSE_CONFIG;
  let fileSettings: Record<string, unknown> = {};
  let pomeriumFile = false;
  if (file !== undefined && file !== '') {
    const top = readTopLevel(file, readFile);
    if (Array.isArray(top)) pomeriumFile = true;
    else if (top !== null) {
      fileSettings = top;
      pomeriumFile = 'policy' in top || Object.keys(top).some(isPomeriumSetting);
    }
  }
  const fromVariable = [env.POLICY, env.ROUTES].some((value) => value !== undefined && value !== '');
  if (!pomeriumFile && !fromVariable) return null;
  const mapped = mapPomeriumSettings(collectPomeriumSettings(fileSettings, file ?? 'config', env, true), env);
  return { mapped, config: { notes: mapped.notes, jwtClaimsHeaders: mapped.jwtClaimsHeaders, passIdentityHeaders: mapped.passIdentityHeaders } };
}

function readTopLevel(file: string, readFile: (path: string) => string): Record<string, unknown> | unknown[] | null {
  try {
    const data: unknown = parse(readFile(file), { maxAliasCount: 100 });
    if (Array.isArray(data)) return data;
    return data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
