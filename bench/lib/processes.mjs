import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Every process the benchmark starts goes through one registry, pinned to a CPU with taskset,
 * so the end of the run (normal, error or Ctrl-C) can stop each of them by its PID.
 */
export function createProcessRegistry() {
  /** @type {Map<number, { name: string, child: import('node:child_process').ChildProcess, exited: Promise<number | null>, stopSignal: NodeJS.Signals }>} */
  const running = new Map();

  /**
   * Starts `command args` on `cpu`. `output` is a file path for stdout and stderr, 'ignore', or
   * `{ pipe: path }`: stdout and stderr are pipes that this process reads and copies to `path`,
   * the way Docker's log driver reads a container's output (a slow reader makes writes wait,
   * which /dev/null never does). Resolves once the process has been spawned; `exited` resolves
   * with its exit code.
   */
  function start(name, command, args, { cpu, env = process.env, output = 'ignore', stopSignal = 'SIGTERM', cwd } = {}) {
    const piped = typeof output === 'object' && output !== null;
    const fd = piped ? 'pipe' : output === 'ignore' ? 'ignore' : openSync(output, 'a');
    const argv = cpu === undefined ? [command, ...args] : ['taskset', '-c', String(cpu), command, ...args];
    const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', fd, fd] });
    if (typeof fd === 'number') closeSync(fd);
    if (piped) {
      const sink = createWriteStream(output.pipe, { flags: 'a' });
      child.stdout.pipe(sink, { end: false });
      child.stderr.pipe(sink, { end: false });
      child.once('exit', () => setImmediate(() => sink.end()));
    }
    const exited = new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    const entry = { name, child, exited, stopSignal };
    if (child.pid !== undefined) {
      running.set(child.pid, entry);
      exited.then(() => running.delete(child.pid));
    }
    return { name, pid: child.pid, child, exited };
  }

  /** Stops one process by PID: its own stop signal, then SIGKILL after `graceMs`. */
  async function stop(pid, graceMs = 5_000) {
    const entry = running.get(pid);
    if (entry === undefined) return;
    try {
      process.kill(pid, entry.stopSignal);
    } catch {
      return;
    }
    const done = await Promise.race([entry.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await entry.exited;
    }
  }

  async function stopAll() {
    await Promise.all([...running.keys()].map((pid) => stop(pid)));
  }

  /** Synchronous last resort for process exit: SIGKILL whatever is still running. */
  function killAllNow() {
    for (const pid of running.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  return { start, stop, stopAll, killAllNow, running: () => [...running.values()].map((e) => ({ name: e.name, pid: e.child.pid })) };
}

const activeCommands = new Set();

/** Kills every command started by runCommand that has not finished (wrk, the generator, docker CLI). */
export function killActiveCommands() {
  for (const child of activeCommands) child.kill('SIGKILL');
}

/** Runs a command to completion and returns its output; rejects on a non-zero exit. */
export function runCommand(command, args, { cpu, env = process.env, timeoutMs = 120_000, input } = {}) {
  const argv = cpu === undefined ? [command, ...args] : ['taskset', '-c', String(cpu), command, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    activeCommands.add(child);
    child.once('close', () => activeCommands.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${argv.join(' ')} exited with ${code ?? signal}: ${(stderr || stdout).trim().slice(-2000)}`));
    });
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns true, or throws naming `what` after `timeoutMs` (at once for an error marked `fatal`). */
export async function waitFor(what, check, { timeoutMs = 15_000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error.fatal) throw error;
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`);
}

/** The PIDs of a process and its direct children (nginx: master and worker). */
export function processTree(pid) {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(children ? children.split(/\s+/).map(Number) : [])];
  } catch {
    return [pid];
  }
}

/** Resident set size in bytes, summed over the process and its direct children; null once gone. */
export function residentBytes(pid) {
  let total = 0;
  for (const member of processTree(pid)) {
    const kb = statusField(member, 'VmRSS');
    if (kb === null) {
      if (member === pid) return null;
      continue;
    }
    total += kb * 1024;
  }
  return total;
}

/**
 * The resident set split as the kernel counts it (/proc/<pid>/status), in bytes, summed over
 * the process and its direct children: `anon` (RssAnon) is memory the process allocated itself,
 * `file` (RssFile) is executables and libraries mapped from disk. Null once the process is gone.
 */
export function residentBreakdown(pid) {
  const total = { rss: 0, anon: 0, file: 0 };
  for (const member of processTree(pid)) {
    const rss = statusField(member, 'VmRSS');
    if (rss === null) {
      if (member === pid) return null;
      continue;
    }
    total.rss += rss * 1024;
    for (const [key, field] of [['anon', 'RssAnon'], ['file', 'RssFile']]) {
      const kb = statusField(member, field);
      total[key] = kb === null || total[key] === null ? null : total[key] + kb * 1024;
    }
  }
  return total;
}

/** The kernel's high-water mark of the resident set (VmHWM) of one process, in bytes. */
export function peakResidentBytes(pid) {
  const kb = statusField(pid, 'VmHWM');
  return kb === null ? null : kb * 1024;
}

function statusField(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) in milliseconds, summed over the process and its direct children. */
export function cpuMillis(pid) {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'utf8');
      // The command name may contain spaces: fields are counted after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* exited */
    }
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Busy time of one CPU core in milliseconds since boot: user, nice, system and steal. Interrupt
 * time is left out because loopback traffic is handled there and is not charged to any process.
 */
export function coreBusyMillis(cpu) {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (line === undefined) return null;
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + steal) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Starts watching how much of `cpu` was used by anything other than `pid` (and its children):
 * on a shared machine, other work on the proxy's core is the main source of noise. The
 * returned function gives that share of wall time in percent.
 */
export function watchForeignLoad(cpu, pid) {
  const started = performance.now();
  const busyBefore = coreBusyMillis(cpu);
  const ownBefore = cpuMillis(pid);
  return () => {
    const wall = performance.now() - started;
    const busy = coreBusyMillis(cpu) - busyBefore;
    const own = cpuMillis(pid) - ownBefore;
    return wall > 0 ? Math.max(0, ((busy - own) / wall) * 100) : null;
  };
}
