import { readFileSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';

/** A `secret:NAME` value, or null when it cannot be read. */
export type SecretReader = (name: string) => string | null;

/** Where label secrets live unless GATEHOUSE_LABEL_SECRETS_DIR says otherwise; Gatehouse keeps none of its own settings there. */
export const DEFAULT_LABEL_SECRETS_DIR = '/run/gatehouse/label-secrets';

export interface LabelSecretsOptions {
  /** GATEHOUSE_LABEL_SECRETS_DIR. */
  readonly dir: string;
  /**
   * Files and folders that hold Gatehouse's own settings (every `*_FILE` setting, the data
   * folder, TLS keys, …). Nothing at or below them is readable through a label, whatever
   * path or symlink leads there.
   */
  readonly ownFiles?: readonly string[];
}

/** A plain file name: no path separator, no `..`, no dotfile. */
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

const within = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);

/**
 * Why `secret:NAME` cannot be read (phrased to follow the reference, e.g. "secret:x is …"),
 * or null together with the real path to read. Symlinks are resolved first: a label secret
 * must really live in the label secrets folder and must not be one of Gatehouse's own files.
 */
function locate(options: LabelSecretsOptions, name: string): { problem: string } | { path: string } {
  if (!SECRET_NAME.test(name) || name.includes('..')) {
    return { problem: 'is not a plain file name: use letters, digits, ".", "_" and "-", not starting with "."' };
  }
  const dir = realpathOrNull(options.dir);
  if (dir === null) {
    return {
      problem: `cannot be read: the label secrets folder ${options.dir} does not exist; put ${name} there (a Docker secret with target: ${join(options.dir, name)}) or set GATEHOUSE_LABEL_SECRETS_DIR to the folder that holds it`,
    };
  }
  const path = realpathOrNull(join(options.dir, name));
  if (path === null) return { problem: `cannot be read: there is no file ${name} in ${options.dir} (GATEHOUSE_LABEL_SECRETS_DIR); add it, then recreate the container` };
  for (const own of options.ownFiles ?? []) {
    const real = realpathOrNull(own);
    if (real !== null && within(path, real)) {
      return { problem: "is one of Gatehouse's own settings files, which labels can never read; put the app's secret in its own file" };
    }
  }
  if (!within(path, dir) || path === dir) return { problem: `cannot be read: ${name} in ${options.dir} leads outside that folder` };
  return { path };
}

/** Why a header label's `secret:NAME` cannot be used, or null when it can: checked when routes are built. */
export function labelSecretProblem(options: LabelSecretsOptions, name: string): string | null {
  const found = locate(options, name);
  if ('problem' in found) return found.problem;
  try {
    readFileSync(found.path, 'utf8');
    return null;
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

/**
 * Reads `secret:NAME` values for header labels from the label secrets folder, each once,
 * trimmed, under the same rules as labelSecretProblem. A missing file is retried on the next
 * request, so a secret added later is picked up.
 */
export function createSecretReader(options: LabelSecretsOptions | string = DEFAULT_LABEL_SECRETS_DIR): SecretReader {
  const settings: LabelSecretsOptions = typeof options === 'string' ? { dir: options } : options;
  const cache = new Map<string, string>();
  return (name) => {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const found = locate(settings, name);
    if ('problem' in found) return null;
    try {
      const value = readFileSync(found.path, 'utf8').trim();
      cache.set(name, value);
      return value;
    } catch {
      return null;
    }
  };
}
