import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { parseDockerHost } from '../docker/index.ts';

/**
 * The Docker engines Gatehouse watches. With GATEHOUSE_DOCKER_HOSTS unset, DOCKER_HOST alone
 * (and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), exactly as before: one engine named `local`.
 *
 * GATEHOUSE_DOCKER_HOSTS=local=unix:///var/run/docker.sock, pi=tcp://10.0.0.5:2376
 * - each item is `NAME=URL` (or a bare URL: the first is `local`, the others take their host's name);
 * - the first engine is the one Gatehouse runs beside: its containers are reached on their
 *   networks, as with one engine. Every other engine is another machine: its containers are
 *   reached at their published ports, on GATEHOUSE_DOCKER_ADDRESS_<NAME> or else the URL's host;
 * - per engine, in Docker's own terms: GATEHOUSE_DOCKER_TLS_VERIFY_<NAME>=1 and
 *   GATEHOUSE_DOCKER_CERT_PATH_<NAME>=/certs/pi (ca.pem, cert.pem, key.pem), as DOCKER_TLS_VERIFY
 *   and DOCKER_CERT_PATH are for one engine. `<NAME>` is the name upper-cased, `-` as `_`.
 */
export interface DockerEngineConfig {
  readonly name: string;
  /** A DOCKER_HOST-style URL. */
  readonly dockerHost: string;
  /** This engine's TLS settings, in the Docker CLI's variable names. */
  readonly tls: { readonly DOCKER_TLS_VERIFY?: string; readonly DOCKER_CERT_PATH?: string };
  /** null: the engine Gatehouse runs beside. Else the address its published ports are reached on. */
  readonly address: string | null;
}

export interface DockerEngines {
  readonly engines: readonly DockerEngineConfig[];
  /** True when GATEHOUSE_DOCKER_HOSTS is set: snapshots carry their engine's name. */
  readonly several: boolean;
}

type Env = Record<string, string | undefined>;

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PER_ENGINE = /^GATEHOUSE_DOCKER_(TLS_VERIFY|CERT_PATH|ADDRESS)_([A-Z0-9_]+)$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const CERT_FILES = ['ca.pem', 'cert.pem', 'key.pem'];

/** The suffix of an engine's own variables: `pi-4` → `PI_4`. */
export const engineSuffix = (name: string) => name.toUpperCase().replace(/-/g, '_');

/** Reads the engines; every problem is returned, one line each, naming the variable to change. */
export function readDockerEngines(env: Env, canRead: (file: string) => boolean = readable): { value: DockerEngines; problems: string[] } {
  const list = env.GATEHOUSE_DOCKER_HOSTS?.trim() ?? '';
  const problems: string[] = [];
  if (list === '') {
    const tls = pick({ DOCKER_TLS_VERIFY: env.DOCKER_TLS_VERIFY, DOCKER_CERT_PATH: env.DOCKER_CERT_PATH });
    const dockerHost = env.DOCKER_HOST === undefined || env.DOCKER_HOST === '' ? 'unix:///var/run/docker.sock' : env.DOCKER_HOST;
    for (const name of Object.keys(env)) {
      if (PER_ENGINE.test(name) && env[name] !== undefined) problems.push(`${name} is set but GATEHOUSE_DOCKER_HOSTS is not: list the engines in GATEHOUSE_DOCKER_HOSTS, or remove ${name}`);
    }
    return { value: { engines: [{ name: 'local', dockerHost, tls, address: null }], several: false }, problems };
  }
  if (env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '') {
    problems.push('DOCKER_HOST and GATEHOUSE_DOCKER_HOSTS are both set: list every engine in GATEHOUSE_DOCKER_HOSTS (e.g. local=unix:///var/run/docker.sock, pi=tcp://10.0.0.5:2376) and unset DOCKER_HOST');
  }

  const engines: DockerEngineConfig[] = [];
  const items = list.split(',').map((item) => item.trim());
  items.forEach((item, index) => {
    const where = `GATEHOUSE_DOCKER_HOSTS item ${index + 1} ("${item}")`;
    if (item === '') {
      problems.push(`${where}: empty; separate engines with single commas`);
      return;
    }
    const named = /^([^=:/]+)=(.*)$/.exec(item);
    const url = (named ? (named[2] as string) : item).trim();
    const name = named ? (named[1] as string).trim() : index === 0 ? 'local' : nameFromUrl(url);
    if (!NAME.test(name)) {
      problems.push(`${where}: the engine name "${name}" must be 1–32 lower-case letters, digits or '-', starting with a letter; write it as NAME=URL, e.g. pi=tcp://10.0.0.5:2376`);
      return;
    }
    if (engines.some((engine) => engine.name === name)) {
      problems.push(`${where}: the engine name "${name}" is used twice; give each engine its own name`);
      return;
    }
    const suffix = engineSuffix(name);
    const tls = pick({ DOCKER_TLS_VERIFY: env[`GATEHOUSE_DOCKER_TLS_VERIFY_${suffix}`], DOCKER_CERT_PATH: env[`GATEHOUSE_DOCKER_CERT_PATH_${suffix}`] });
    const urlProblem = checkUrl(url, tls);
    if (urlProblem !== null) {
      problems.push(`${where}: ${urlProblem}`);
      return;
    }
    const tlsProblems = checkTls(url, suffix, tls, canRead);
    problems.push(...tlsProblems);
    const address = index === 0 && env[`GATEHOUSE_DOCKER_ADDRESS_${suffix}`] === undefined ? null : remoteAddress(url, suffix, env, problems);
    if (address === undefined) return;
    engines.push(Object.freeze({ name, dockerHost: url, tls, address }));
  });

  // A per-engine variable for a name not in the list is a typo that would silently drop TLS.
  const suffixes = new Set(engines.map((engine) => engineSuffix(engine.name)));
  for (const variable of Object.keys(env).sort()) {
    const match = PER_ENGINE.exec(variable);
    if (match && env[variable] !== undefined && !suffixes.has(match[2] as string)) {
      problems.push(`${variable}: no engine in GATEHOUSE_DOCKER_HOSTS is named "${(match[2] as string).toLowerCase().replace(/_/g, '-')}" (engines: ${engines.map((engine) => engine.name).join(', ')}); fix the name or remove the variable`);
    }
  }
  return { value: { engines: Object.freeze(engines), several: true }, problems };
}

function checkUrl(url: string, tls: DockerEngineConfig['tls']): string | null {
  try {
    // Certificates are checked below with the variable names this list uses.
    parseDockerHost(url, { DOCKER_TLS_VERIFY: tls.DOCKER_TLS_VERIFY });
    return null;
  } catch (error) {
    return (error as Error).message.replace(/^DOCKER_HOST=/, 'the URL ');
  }
}

function checkTls(url: string, suffix: string, tls: DockerEngineConfig['tls'], canRead: (file: string) => boolean): string[] {
  const verify = `GATEHOUSE_DOCKER_TLS_VERIFY_${suffix}`;
  const certPath = `GATEHOUSE_DOCKER_CERT_PATH_${suffix}`;
  const usesTls = url.startsWith('https://') || (url.startsWith('tcp://') && isSet(tls.DOCKER_TLS_VERIFY));
  if (tls.DOCKER_CERT_PATH === undefined) {
    return usesTls ? [`${certPath} is not set: a TLS engine needs the folder with its ca.pem, cert.pem and key.pem (Docker's DOCKER_CERT_PATH layout)`] : [];
  }
  if (!usesTls) {
    return [`${certPath} is set but the engine is not reached over TLS: set ${verify}=1 (for a tcp:// URL) or use an https:// URL, or remove ${certPath}`];
  }
  const missing = CERT_FILES.filter((file) => !canRead(path.join(tls.DOCKER_CERT_PATH as string, file)));
  return missing.length === 0 ? [] : [`${certPath}=${tls.DOCKER_CERT_PATH}: cannot read ${missing.join(', ')} (expected ca.pem, cert.pem and key.pem there)`];
}

/** The address of a remote engine's machine: the explicit one, else the URL's host; undefined after a problem. */
function remoteAddress(url: string, suffix: string, env: Env, problems: string[]): string | undefined {
  const variable = `GATEHOUSE_DOCKER_ADDRESS_${suffix}`;
  const explicit = env[variable]?.trim();
  if (explicit !== undefined) {
    if (isIP(explicit) !== 0 || HOSTNAME.test(explicit)) return explicit;
    problems.push(`${variable}="${explicit}": expected the IP address or host name of that machine (no scheme, no port), e.g. 10.0.0.5`);
    return undefined;
  }
  if (url.startsWith('unix://')) {
    problems.push(`${variable} is not set: the engine at ${url} is not the first in GATEHOUSE_DOCKER_HOSTS, so it runs on another machine, and a unix socket does not say which; set ${variable} to that machine's address`);
    return undefined;
  }
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}

function nameFromUrl(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  } catch {
    return url;
  }
}

function pick(tls: { DOCKER_TLS_VERIFY: string | undefined; DOCKER_CERT_PATH: string | undefined }): DockerEngineConfig['tls'] {
  return Object.freeze({
    ...(tls.DOCKER_TLS_VERIFY === undefined || tls.DOCKER_TLS_VERIFY === '' ? {} : { DOCKER_TLS_VERIFY: tls.DOCKER_TLS_VERIFY }),
    ...(tls.DOCKER_CERT_PATH === undefined || tls.DOCKER_CERT_PATH === '' ? {} : { DOCKER_CERT_PATH: tls.DOCKER_CERT_PATH }),
  });
}

function isSet(flag: string | undefined): boolean {
  return flag !== undefined && flag !== '' && flag !== '0' && flag.toLowerCase() !== 'false';
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
