import { GatehouseError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import type { TranslationResult } from '../routes/index.ts';
import type { PomeriumRouteDefaults } from './pomerium-route-defaults.ts';
import { parseRoutesFile, type RoutesFileResult, type SettingNote } from './routes-file.ts';
import { POLICY_SOURCE } from './routes-file-policy-env.ts';

/** The routes in POLICY's decoded text; its messages name POLICY and the line in the decoded text. */
export function parsePolicyEnv(decoded: string, defaults: PomeriumRouteDefaults = {}, source: string = POLICY_SOURCE): RoutesFileResult {
  return parseRoutesFile(decoded, source, defaults);
}

/** The routes file's routes and POLICY's, as one set for the route table (either may be absent). */
export function combineRouteSources(file: TranslationResult | null, policy: TranslationResult | null): TranslationResult | null {
  if (file === null || policy === null) return file ?? policy;
  return { specs: [...file.specs, ...policy.specs], issues: [...file.issues, ...policy.issues] };
}

/** Each Pomerium global setting once, as mapped or ignored; `seen` carries what was already said across reloads. */
export function logSettingNotes(logger: Logger, source: string, notes: readonly SettingNote[], seen = new Set<string>()): void {
  for (const note of notes) {
    const key = `${note.key}\n${note.outcome}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Mapped settings do what they did in Pomerium; the others are worth a look.
    logger[note.outcome === 'mapped' ? 'info' : 'warn']({ file: source, setting: note.key, outcome: note.outcome }, note.message);
  }
}

/** POLICY's routes, read once at startup (the environment does not change); a POLICY that does not parse stops startup. */
export function readPolicyEnv(decoded: string | undefined, logger: Logger, defaults: PomeriumRouteDefaults = {}, source: string = POLICY_SOURCE): TranslationResult | null {
  if (decoded === undefined) return null;
  const parsed = parsePolicyEnv(decoded, defaults, source);
  if (!parsed.ok) throw new GatehouseError('CONFIG_INVALID', `${parsed.error} (in the base64-decoded text of the ${source} variable)`);
  logger.info({ file: source, routes: parsed.result.specs.length, issues: parsed.result.issues.length }, `routes loaded from the ${source} variable`);
  logSettingNotes(logger, source, parsed.settings);
  return parsed.result;
}
