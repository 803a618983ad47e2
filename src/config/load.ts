import { readFileSync } from 'node:fs';
import { GatehouseError } from '../errors.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { readDockerEngines, type DockerEngines } from './docker-engines.ts';
import { readPomeriumSettings, type PomeriumConfig } from './pomerium-config.ts';
import { ENV_SCHEMA, EnvConfig, SECRET_VARIABLES } from './schema.ts';

export type AppConfig = Readonly<EnvConfig> & {
  /** Variable → the file its `_FILE` twin named: Gatehouse's own settings files, never readable through a label. */
  readonly settingsFiles: Readonly<Record<string, string>>;
  /** Pomerium's global settings, when Gatehouse runs a Pomerium configuration (see pomerium-settings.ts); else null. */
  readonly pomerium: PomeriumConfig | null;
  /** GATEHOUSE_OIDC_<NAME>_* variables of further providers, `_FILE` twins already read (config/providers.ts). */
  readonly providerVariables: Readonly<Record<string, string>>;
  /** The Docker engines to watch: GATEHOUSE_DOCKER_HOSTS, else DOCKER_HOST alone (config/docker-engines.ts). */
  readonly dockerEngines: DockerEngines;
};

/** GATEHOUSE_OIDC_<NAME>_<FIELD>, and `_CLIENT_SECRET_FILE`; the single-provider names are in the schema. */
const PROVIDER_VARIABLE = /^GATEHOUSE_OIDC_[A-Z][A-Z0-9]*_(?:ISSUER|CLIENT_ID|CLIENT_SECRET|SCOPES|GROUPS_CLAIM|PRESET|LABEL|EMAIL_VERIFIED|MFA_AMR|MFA_ACR)$/;

type Env = Record<string, string | undefined>;

/**
 * Reads every variable (or its `_FILE` twin), validates them all, and returns a frozen
 * config. Throws one GatehouseError listing every problem, one line each:
 * `GATEHOUSE_LISTEN="8080": expected HOST:PORT, e.g. 0.0.0.0:8080`.
 */
export function loadConfig(realEnv: Env = process.env, readFile: (path: string) => string = readUtf8): AppConfig {
  const raw: Record<string, string> = {};
  const settingsFiles: Record<string, string> = {};
  // Pomerium's settings lie under the environment: a GATEHOUSE_* variable that is set wins.
  const pomerium = readPomeriumSettings(realEnv, readFile);
  const env: Env = pomerium === null ? realEnv : { ...pomerium.mapped.env, ...realEnv };
  const problems: string[] = [...(pomerium?.mapped.problems ?? [])];
  const origin = (name: string) => {
    const from = pomerium?.mapped.origins[name] ?? pomerium?.mapped.origins[name.replace(/_FILE$/, '')];
    return from === undefined ? '' : ` (from Pomerium's ${from})`;
  };
  for (const name of Object.keys(ENV_SCHEMA)) {
    const direct = env[name];
    const filePath = env[`${name}_FILE`];
    if (direct !== undefined && filePath !== undefined) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`);
      continue;
    }
    if (filePath !== undefined) {
      settingsFiles[name] = filePath;
      try {
        raw[name] = readFile(filePath).replace(/\r?\n$/, '');
      } catch (error) {
        problems.push(`${name}_FILE="${filePath}"${origin(`${name}_FILE`)}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    } else if (direct !== undefined && direct !== '') {
      raw[name] = direct;
    }
  }
  const providerVariables: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const base = name.endsWith('_CLIENT_SECRET_FILE') ? name.slice(0, -'_FILE'.length) : name;
    if (!PROVIDER_VARIABLE.test(base) || Object.hasOwn(ENV_SCHEMA, base)) continue;
    if (base !== name) {
      if (env[base] !== undefined) {
        problems.push(`${base} and ${name} are both set: keep one`);
        continue;
      }
      try {
        providerVariables[base] = readFile(value).replace(/\r?\n$/, '');
      } catch (error) {
        problems.push(`${name}="${value}": cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    } else if (!Object.hasOwn(providerVariables, base)) {
      providerVariables[base] = value;
    }
  }
  const dockerEngines = readDockerEngines(env);
  problems.push(...dockerEngines.problems);
  const parsed = EnvConfig.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      const shown = SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(raw[name] ?? '');
      problems.push(`${name}=${shown}${origin(name)}: ${issue.message}`);
    }
  }
  if (problems.length > 0) {
    throw new GatehouseError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return deepFreeze({ ...(parsed.data as EnvConfig), settingsFiles, pomerium: pomerium === null ? null : pomerium.config, providerVariables, dockerEngines: dockerEngines.value });
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}
