import type { TranslateOptions } from '../labels/index.ts';
import { labelSecretProblem, type LabelSecretsOptions } from '../util/secrets.ts';
import type { AppConfig } from './load.ts';
import { ownSettingsFiles } from './own-files.ts';

/** Everything the label translator and the secret readers need to know about the trust boundary. */
export interface LabelTrust {
  readonly translate: TranslateOptions;
  readonly secrets: Required<LabelSecretsOptions>;
}

export function labelTrust(config: AppConfig): LabelTrust {
  const secrets = { dir: config.GATEHOUSE_LABEL_SECRETS_DIR, ownFiles: ownSettingsFiles(config) };
  return {
    secrets,
    translate: {
      prefix: config.GATEHOUSE_LABEL_PREFIX,
      dockerNetwork: config.GATEHOUSE_DOCKER_NETWORK,
      signInHost: config.GATEHOUSE_AUTH_URL === undefined ? null : new URL(config.GATEHOUSE_AUTH_URL).hostname.toLowerCase().replace(/\.$/, ''),
      trustImageLabels: config.GATEHOUSE_TRUST_IMAGE_LABELS,
      checkSecret: (name) => labelSecretProblem(secrets, name),
      domain: defaultDomain(config.GATEHOUSE_DOMAIN),
    },
  };
}

/** GATEHOUSE_DOMAIN as the translator takes it: `nas.example` is https, `http://nas.localhost` plain http. */
export function defaultDomain(value: string | undefined): { domain: string; scheme: 'http' | 'https' } | null {
  if (value === undefined) return null;
  const scheme = value.startsWith('http://') ? 'http' : 'https';
  return { domain: value.replace(/^https?:\/\//, '').replace(/\.$/, ''), scheme };
}
