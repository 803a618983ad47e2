import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './http.ts';

/**
 * Real Caddy and nginx from Debian (`apt-get install -y caddy nginx`), run on this host in front
 * of a Gatehouse, with the forward-auth configuration the README documents. Each runs in the
 * foreground in its own temporary folder and is stopped by its process id.
 */

export const CADDY_PATH = '/usr/bin/caddy';
export const NGINX_PATH = '/usr/sbin/nginx';

export interface OuterProxy {
  readonly port: number;
  /** The process's output so far (for failure messages). */
  output(): Promise<string>;
  stop(): Promise<void>;
}

export interface ForwardAuthSite {
  /** Host names the outer proxy serves in forward-auth mode, all sent to `upstream`. */
  appHosts: string[];
  /** The sign-in host, proxied to Gatehouse as a whole. */
  authHost: string;
  /** `127.0.0.1:<port>` of Gatehouse's listener. */
  gatehouse: string;
  /** `127.0.0.1:<port>` of the app. */
  upstream: string;
}

/** The README's Caddyfile, with this test's ports. */
export function caddyfile(port: number, site: ForwardAuthSite, dir: string): string {
  const apps = site.appHosts.map((host) => `http://${host}:${port}`).join(', ');
  return `{
	admin off
	auto_https off
	storage file_system ${join(dir, 'storage')}
}

http://${site.authHost}:${port} {
	reverse_proxy ${site.gatehouse}
}

${apps} {
	# Gatehouse's own paths on the app host: the sign-in handoff lands here.
	handle /.iap/* {
		reverse_proxy ${site.gatehouse}
	}
	handle {
		forward_auth ${site.gatehouse} {
			uri /.iap/forward_auth
			copy_headers X-Iap-User X-Iap-Email X-Iap-Groups X-Iap-Name
		}
		reverse_proxy ${site.upstream}
	}
}
`;
}

/** The README's nginx configuration, with this test's ports and paths. */
export function nginxConf(port: number, site: ForwardAuthSite, dir: string): string {
  const toGatehouse = `proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;`;
  return `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};

  server {
    listen 127.0.0.1:${port};
    server_name ${site.authHost};
    location / {
      proxy_pass http://${site.gatehouse};
      ${toGatehouse}
    }
  }

  server {
    listen 127.0.0.1:${port};
    server_name ${site.appHosts.join(' ')};

    # Gatehouse's own paths on the app host: the sign-in handoff lands here.
    location /.iap/ {
      proxy_pass http://${site.gatehouse};
      ${toGatehouse}
    }

    location = /.gatehouse-auth {
      internal;
      proxy_pass http://${site.gatehouse}/.iap/auth_request;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      ${toGatehouse}
    }

    location / {
      auth_request /.gatehouse-auth;
      auth_request_set $iap_user $upstream_http_x_iap_user;
      auth_request_set $iap_email $upstream_http_x_iap_email;
      auth_request_set $iap_groups $upstream_http_x_iap_groups;
      auth_request_set $iap_sign_in $upstream_http_location;
      error_page 401 = @iap_sign_in;
      proxy_set_header X-Iap-User $iap_user;
      proxy_set_header X-Iap-Email $iap_email;
      proxy_set_header X-Iap-Groups $iap_groups;
      proxy_set_header Host $http_host;
      proxy_pass http://${site.upstream};
    }

    location @iap_sign_in {
      if ($iap_sign_in = "") { return 401; }
      return 302 $iap_sign_in;
    }
  }
}
`;
}

export async function startCaddy(port: number, site: ForwardAuthSite): Promise<OuterProxy> {
  if (!existsSync(CADDY_PATH)) throw new Error(`Caddy is not installed at ${CADDY_PATH}; install the Debian package with "apt-get install -y caddy".`);
  const dir = await mkdtemp(join(tmpdir(), 'gh-caddy-'));
  const config = join(dir, 'Caddyfile');
  await writeFile(config, caddyfile(port, site, dir));
  const child = spawn(CADDY_PATH, ['run', '--config', config, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(child, port, dir);
}

export async function startNginx(port: number, site: ForwardAuthSite): Promise<OuterProxy> {
  if (!existsSync(NGINX_PATH)) throw new Error(`nginx is not installed at ${NGINX_PATH}; install the Debian package with "apt-get install -y nginx".`);
  const dir = await mkdtemp(join(tmpdir(), 'gh-nginx-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));
  const config = join(dir, 'nginx.conf');
  await writeFile(config, nginxConf(port, site, dir));
  const child = spawn(NGINX_PATH, ['-p', dir, '-c', config, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proxy = await started(child, port, dir);
  return {
    ...proxy,
    output: async () => `${await proxy.output()}\n${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`,
  };
}

async function started(child: ChildProcess, port: number, dir: string): Promise<OuterProxy> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const stop = async () => {
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exit;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`the outer proxy exited: ${output}`);
      return (await accepts(port)) ? true : undefined;
    }, 'the outer proxy to listen');
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, output: async () => output, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
