import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A stand-in for traefik/whoami built from the local busybox image: `/cgi-bin/whoami` answers the
 * task's hostname and the address of the peer that opened the connection, so a test can tell
 * which proxy replica forwarded a request (its address on the network it shares with the app).
 * Busybox httpd listens on port 80, as whoami does.
 */
export const WHOAMI_IMAGE = 'gatehouse-test-whoami:local';

const WHOAMI_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "Hostname: $(cat /etc/hostname)"
echo "RemoteAddr: $REMOTE_ADDR"
`;

let built: Promise<void> | null = null;

export function ensureWhoamiImage(): Promise<void> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-whoami-'));
    try {
      await mkdir(join(dir, 'www', 'cgi-bin'), { recursive: true });
      await writeFile(join(dir, 'www', 'index.html'), 'ok\n');
      await writeFile(join(dir, 'www', 'cgi-bin', 'whoami'), WHOAMI_CGI);
      await chmod(join(dir, 'www', 'cgi-bin', 'whoami'), 0o755);
      await writeFile(join(dir, 'Dockerfile'), 'FROM busybox:local\nCOPY www /www\nEXPOSE 80\nCMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]\n');
      await run('docker', ['build', '-q', '-t', WHOAMI_IMAGE, dir]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return built;
}

/** The peer's IPv4 address as the app saw it (`RemoteAddr: [::ffff:10.0.5.5]` from busybox httpd). */
export function whoamiPeer(body: string): string | undefined {
  return /^RemoteAddr: \[?(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)/m.exec(body)?.[1];
}
