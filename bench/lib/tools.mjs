import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

/**
 * The outside programs the benchmark drives, installed from Debian when missing, and the
 * description of the machine and versions every result is recorded with.
 */

const TOOLS = [
  { name: 'nginx', binary: 'nginx', packages: ['nginx-light', 'nginx'] },
  { name: 'caddy', binary: 'caddy', packages: ['caddy'] },
  { name: 'wrk', binary: 'wrk', packages: ['wrk'] },
];

function which(binary) {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function candidate(pkg) {
  try {
    const policy = execFileSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
    const match = /Candidate:\s*(\S+)/.exec(policy);
    return match && match[1] !== '(none)' ? match[1] : null;
  } catch {
    return null;
  }
}

/**
 * Installs each missing tool from the Debian archive (never from anywhere else). Returns
 * name → path, or null with a note when Debian does not offer it or the install failed.
 */
export function ensureTools(log) {
  const found = {};
  const notes = [];
  for (const tool of TOOLS) {
    let path = which(tool.binary);
    if (path === null) {
      const pkg = tool.packages.find((name) => candidate(name) !== null);
      if (pkg === undefined) {
        notes.push(`${tool.name}: not available from the configured Debian archive (apt-cache policy ${tool.packages.join(', ')}); reported as not installed`);
      } else {
        log(`installing ${pkg} from Debian…`);
        try {
          execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
            stdio: ['ignore', 'ignore', 'pipe'],
            env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
          });
        } catch (error) {
          notes.push(`${tool.name}: apt-get install ${pkg} failed (${String(error.stderr ?? error.message).trim().split('\n').pop()})`);
        }
        path = which(tool.binary);
      }
    }
    found[tool.name] = path;
  }
  return { found, notes };
}

function firstLine(command, args) {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim().split('\n')[0];
  } catch (error) {
    const text = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    return text ? text.split('\n')[0] : null;
  }
}

export function describeMachine(root) {
  const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nginxLine = which('nginx') ? execFileSync('sh', ['-c', 'nginx -v 2>&1'], { encoding: 'utf8' }).trim() : null;
  let gitSha = null;
  let gitDirty = false;
  try {
    gitSha = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    gitDirty = execFileSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    /* not a git checkout */
  }
  return {
    date: new Date().toISOString(),
    cpuModel: model,
    cores: cpus().length,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    versions: {
      node: process.version,
      nginx: nginxLine?.replace(/^nginx version:\s*/, '') ?? null,
      caddy: which('caddy') ? firstLine('caddy', ['version']) : null,
      wrk: which('wrk') ? firstLine('wrk', ['-v'])?.replace(/\s+Copyright.*$/, '') ?? null : null,
      docker: firstLine('docker', ['version', '--format', '{{.Server.Version}}']),
    },
    git: gitSha === null ? null : `${gitSha}${gitDirty ? ' (with uncommitted changes)' : ''}`,
  };
}
