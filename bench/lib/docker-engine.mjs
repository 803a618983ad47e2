import http from 'node:http';
import { runCommand } from './processes.mjs';

/**
 * The benchmark's own view of the Docker engine: the event stream (to timestamp `start` and
 * `die` as the engine reports them), inspect for a container's bridge address, and the docker
 * CLI for run/stop/rm, which is what a user types. Every container carries the run's label so
 * cleanup can find exactly these and nothing else.
 */

function engineAddress() {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

function engineGet(path, signal) {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...engineAddress(), path, signal, headers: { host: 'docker' } }, resolve);
    req.once('error', reject);
  });
}

/** Epoch milliseconds with sub-millisecond precision, comparable with the engine's timeNano. */
export function epochMs() {
  return performance.timeOrigin + performance.now();
}

/**
 * Subscribes to container events carrying `label`. `waitFor(name, action)` resolves with the
 * event (timeMs from the engine, seenMs when it arrived here) even if it came before the call.
 */
export async function watchEvents(label) {
  const controller = new AbortController();
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], label: [label], event: ['start', 'die'] }));
  const response = await engineGet(`/events?filters=${filters}`, controller.signal);
  if (response.statusCode !== 200) throw new Error(`docker events answered ${response.statusCode}`);
  const seen = new Map();
  const waiters = new Map();
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.trim()) continue;
      const event = JSON.parse(line);
      const key = `${event.Actor?.Attributes?.name}\n${event.Action ?? event.status}`;
      const record = { id: event.Actor?.ID ?? event.id, timeMs: Number(BigInt(event.timeNano) / 1000n) / 1000, seenMs: epochMs() };
      if (!seen.has(key)) seen.set(key, record);
      waiters.get(key)?.(record);
      waiters.delete(key);
    }
  });
  response.on('error', () => {});
  return {
    waitFor(name, action, timeoutMs = 30_000) {
      const key = `${name}\n${action}`;
      const known = seen.get(key);
      if (known) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${action} event for ${name} within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(key, (record) => {
          clearTimeout(timer);
          resolve(record);
        });
      });
    },
    close() {
      controller.abort();
    },
  };
}

/** The container's address on the default bridge. */
export async function bridgeAddress(id) {
  const response = await engineGet(`/containers/${encodeURIComponent(id)}/json`);
  let text = '';
  response.setEncoding('utf8');
  for await (const chunk of response) text += chunk;
  if (response.statusCode !== 200) throw new Error(`inspect ${id} answered ${response.statusCode}`);
  const info = JSON.parse(text);
  return info.NetworkSettings?.IPAddress || Object.values(info.NetworkSettings?.Networks ?? {})[0]?.IPAddress || null;
}

export function dockerRun(name, labels, image) {
  const args = ['run', '-d', '--name', name];
  for (const [key, value] of Object.entries(labels)) args.push('--label', `${key}=${value}`);
  args.push(image);
  return runCommand('docker', args, { timeoutMs: 120_000 });
}

export function dockerStop(names) {
  return runCommand('docker', ['stop', '-t', '0', ...names], { timeoutMs: 120_000 });
}

/** Removes the named containers, then anything else still carrying the run label. Never throws. */
export async function removeContainers(names, runLabel) {
  if (names.length > 0) await runCommand('docker', ['rm', '-f', ...names], { timeoutMs: 120_000 }).catch(() => {});
  try {
    const { stdout } = await runCommand('docker', ['ps', '-aq', '--filter', `label=${runLabel}`]);
    const leftovers = stdout.split('\n').filter(Boolean);
    if (leftovers.length > 0) await runCommand('docker', ['rm', '-f', ...leftovers], { timeoutMs: 120_000 });
  } catch {
    /* best effort: the engine may be gone */
  }
}
