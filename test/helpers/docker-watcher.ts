import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import type { DiscoveryStatus, DockerListing } from '../../src/docker/index.ts';

const run = promisify(execFile);

/** Runs the docker CLI against the shared engine, or against `host` (e.g. unix:///tmp/x.sock). */
export async function docker(args: string[], host?: string): Promise<string> {
  const { stdout } = await run('docker', host ? ['-H', host, ...args] : args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export const uniquePrefix = () => `gh-dw-${randomBytes(3).toString('hex')}`;

/** Removes the containers whose names start with `prefix`, and only those. */
export async function removeContainers(prefix: string, host?: string): Promise<void> {
  const ids = (await docker(['ps', '-aq', '--filter', `name=^/${prefix}`], host)).split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids], host).catch(() => '');
}

export async function waitUntil<T>(probe: () => T | undefined | false | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export interface RecordedListing {
  at: number;
  listing: DockerListing;
}

/** Keeps every listing and status the watcher reports, with the time it arrived. */
export function recorder() {
  const listings: RecordedListing[] = [];
  const statuses: DiscoveryStatus[] = [];
  return {
    listings,
    statuses,
    onListing: (listing: DockerListing) => void listings.push({ at: Date.now(), listing }),
    onStatus: (status: DiscoveryStatus) => void statuses.push(status),
    last: () => listings.at(-1)?.listing,
    /** The first listing at or after `since` that satisfies `predicate`. */
    waitForListing(predicate: (listing: DockerListing) => boolean, timeoutMs: number, what: string, since = 0) {
      return waitUntil(() => listings.find((entry) => entry.at >= since && predicate(entry.listing)), timeoutMs, what);
    },
  };
}

/** Names of the running containers under `prefix` (listings hold stopped ones too, see `all=1`). */
export const names = (listing: DockerListing | undefined, prefix: string) =>
  (listing?.containers ?? [])
    .filter((container) => container.state === 'running')
    .map((container) => container.name)
    .filter((name) => name.startsWith(prefix))
    .sort();

export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, destination), lines };
}

interface RelayConnection {
  client: net.Socket;
  upstream: net.Socket;
  request: string;
  /** When the engine's last bytes were passed on to the client (ms epoch). */
  lastForwardedAt: number;
}

/**
 * A TCP relay in front of the real Docker socket, so a test can break the connection the way a
 * socket proxy or a network would: kill it, stall a stream, or answer one list with a 500.
 */
export class DockerSocketRelay {
  port = 0;
  private server: net.Server | null = null;
  private readonly connections = new Set<RelayConnection>();
  private failLists = 0;
  private readonly socketPath: string;

  constructor(socketPath = '/var/run/docker.sock') {
    this.socketPath = socketPath;
  }

  get dockerHost(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every open connection, as if the proxy or engine went away. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const connection of this.connections) {
      connection.client.destroy();
      connection.upstream.destroy();
    }
    this.connections.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Keeps the open /events connections up but stops forwarding their bytes. Returns how many,
   * and when their last bytes went through.
   */
  stallEventStreams(): { stalled: number; lastForwardedAt: number } {
    let stalled = 0;
    let lastForwardedAt = 0;
    for (const connection of this.connections) {
      if (!/^GET \S*\/events[?\s]/.test(connection.request)) continue;
      connection.upstream.unpipe(connection.client);
      connection.upstream.pause();
      stalled += 1;
      lastForwardedAt = Math.max(lastForwardedAt, connection.lastForwardedAt);
    }
    return { stalled, lastForwardedAt };
  }

  /**
   * Forwards the stalled /events connections again: whatever the engine sent meanwhile reaches
   * the client at once, as one burst. Returns how many streams were resumed.
   */
  resumeEventStreams(): number {
    let resumed = 0;
    for (const connection of this.connections) {
      if (!/^GET \S*\/events[?\s]/.test(connection.request)) continue;
      connection.upstream.pipe(connection.client);
      resumed += 1;
    }
    return resumed;
  }

  /** The next `count` requests for /containers/json get an HTTP 500 instead of the engine's answer. */
  failNextLists(count: number): void {
    this.failLists = count;
  }

  openConnections(): number {
    return this.connections.size;
  }

  openEventStreams(): number {
    return [...this.connections].filter((connection) => /^GET \S*\/events[?\s]/.test(connection.request)).length;
  }

  private accept(client: net.Socket): void {
    client.once('data', (first: Buffer) => {
      const request = first.toString('latin1').split('\r\n', 1)[0] ?? '';
      if (this.failLists > 0 && /^GET \S*\/containers\/json[?\s]/.test(request)) {
        this.failLists -= 1;
        const body = '{"message":"injected failure"}';
        client.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      const upstream = net.connect(this.socketPath);
      const connection = { client, upstream, request, lastForwardedAt: Date.now() };
      this.connections.add(connection);
      upstream.write(first);
      client.pipe(upstream);
      upstream.on('data', () => (connection.lastForwardedAt = Date.now()));
      upstream.pipe(client);
      const close = () => {
        this.connections.delete(connection);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    client.on('error', () => client.destroy());
  }
}

/**
 * A Docker engine of this test's own: the real dockerd binary with a private data root, socket
 * and containerd, in its own network namespace (with --bridge=none, dockerd deletes any docker0
 * it can see, which would break the shared engine). The test can stop and restart it freely.
 * Its containers must use `--network none`.
 */
export class PrivateDockerEngine {
  readonly dir: string;
  readonly socketPath: string;
  private child: ChildProcess | null = null;
  /** More dockerd arguments, e.g. a TLS listener (`--tlsverify`, `--host=tcp://0.0.0.0:2376`). */
  private readonly extraArgs: readonly string[];

  constructor(name: string, extraArgs: readonly string[] = []) {
    this.dir = path.join('/tmp', name);
    this.socketPath = path.join(this.dir, 'docker.sock');
    this.extraArgs = extraArgs;
  }

  /** The engine's own pid (unshare execs dockerd): its network namespace is /proc/<pid>/ns/net. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(path.join(this.dir, 'daemon.json'), '{}');
    const log = openSync(path.join(this.dir, 'dockerd.log'), 'a');
    const args = [
      `--config-file=${path.join(this.dir, 'daemon.json')}`,
      `--data-root=${path.join(this.dir, 'data')}`,
      `--exec-root=${path.join(this.dir, 'exec')}`,
      `--pidfile=${path.join(this.dir, 'dockerd.pid')}`,
      `--host=${this.dockerHost}`,
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--shutdown-timeout=1',
      ...this.extraArgs,
    ];
    // unshare execs dockerd, so child.pid is the engine's own pid.
    const child = spawn('unshare', ['--net', 'dockerd', ...args], { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    await waitUntilAsync(() => this.answers(), 30_000, `the private dockerd to answer on ${this.socketPath}`, () => {
      if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}: ${this.logTail()}`);
    });
  }

  /** Stops the engine the way a service manager does (SIGTERM), waiting until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const inTime = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!inTime) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async answers(): Promise<boolean> {
    return docker(['version', '--format', '{{.Server.Version}}'], this.dockerHost).then(
      () => true,
      () => false,
    );
  }

  /** Removes the engine's files (and any mount it left under them); call only after stop(). */
  remove(): void {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter((mountPoint) => mountPoint.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const mountPoint of mounts) spawnSync('umount', ['-l', mountPoint]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(): string {
    try {
      return readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

async function waitUntilAsync(probe: () => Promise<boolean>, timeoutMs: number, what: string, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    check();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
