import type { AppConfig } from './load.ts';

/**
 * The files and folders that hold Gatehouse's own settings: the target of every `*_FILE`
 * variable, the data folder (root secret, signing key, users), the users and routes files
 * and the TLS sources. Label secrets may never be read from any of them (util/secrets.ts).
 */
export function ownSettingsFiles(config: AppConfig): string[] {
  const files = Object.values(config.settingsFiles);
  for (const path of [
    config.GATEHOUSE_DATA_DIR,
    config.GATEHOUSE_USERS_FILE,
    config.GATEHOUSE_CONFIG,
    config.GATEHOUSE_TLS_DIR,
    config.GATEHOUSE_TLS_ACME_JSON,
    config.GATEHOUSE_TLS_DEFAULT_CERT,
  ]) {
    if (path !== undefined) files.push(path);
  }
  return files;
}
