import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A tiny real web app for integration tests, built from the local busybox image:
 * `/` answers "ok", `/cgi-bin/echo` answers with the request as the app saw it (CGI
 * environment: every header as HTTP_*, the method, the path) and the container's hostname,
 * so tests can tell replicas apart and see exactly which headers reached the upstream.
 */
export const ECHO_IMAGE = 'gatehouse-test-echo:local';

const ECHO_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "HOSTNAME=$(cat /etc/hostname)"
echo "REQUEST_METHOD=$REQUEST_METHOD"
echo "REQUEST_URI=$REQUEST_URI"
env | grep '^HTTP_' | sort
`;

let built: Promise<void> | null = null;

export function ensureEchoImage(): Promise<void> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-echo-'));
    try {
      await mkdir(join(dir, 'www', 'cgi-bin'), { recursive: true });
      await writeFile(join(dir, 'www', 'index.html'), 'ok\n');
      await writeFile(join(dir, 'www', 'cgi-bin', 'echo'), ECHO_CGI);
      await chmod(join(dir, 'www', 'cgi-bin', 'echo'), 0o755);
      await writeFile(
        join(dir, 'Dockerfile'),
        'FROM busybox:local\nCOPY www /www\nEXPOSE 80\nCMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]\n',
      );
      await run('docker', ['build', '-q', '-t', ECHO_IMAGE, dir]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return built;
}

/** Parses the echo app's answer into its HTTP_* variables and request facts. */
export function parseEcho(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}
