/**
 * config/: the environment → one frozen, validated config; the identity settings read from it;
 * the routes file (our format and Pomerium's) → route claims, and its watcher.
 */
export { loadConfig, type AppConfig } from './load.ts';
export { readDockerEngines, engineSuffix, type DockerEngineConfig, type DockerEngines } from './docker-engines.ts';
export { readIdentitySettings, type IdentitySettings, type BuiltinProviderSettings, type OutsideProviderSettings, type SignInMethod } from './identity.ts';
export type { ListenAddress } from './schema.ts';
export { parseRoutesFile, type RoutesFileResult } from './routes-file.ts';
export { watchRoutesFile, type RoutesFileWatcher, type WatchRoutesFileOptions } from './watch-routes-file.ts';
export { combineRouteSources, parsePolicyEnv, readPolicyEnv, logSettingNotes } from './routes-file-sources.ts';
export { labelTrust, type LabelTrust } from './label-trust.ts';
export { collectPomeriumSettings, isPomeriumSetting, mapPomeriumSettings, POMERIUM_SETTINGS, type SettingNote, type PomeriumSettingsResult } from './pomerium-settings.ts';
export type { PomeriumConfig } from './pomerium-config.ts';
export { routeDefaultsOf, withRouteDefaults, type PomeriumRouteDefaults } from './pomerium-route-defaults.ts';
