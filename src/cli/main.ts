#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { isGatehouseError } from '../errors.ts';

const HELP = `Gatehouse: single sign-on in front of your Docker apps, configured by container labels.

Usage:
  gatehouse serve            Run the proxy (reads GATEHOUSE_* environment variables)
  gatehouse routes [--json] [--local]
                             The route table the running Gatehouse serves (its admin listener),
                             or, when none answers (or with --local), the one "serve" would build
                             from Docker and the routes file; routes and every rejected container
                             with the reasons. Exits 1 when anything was rejected.
  gatehouse explain [--user EMAIL] [--groups a,b] [--provider NAME] [--ip ADDRESS] [--method GET] URL
                             Which route answers URL, in which state, which rule decides for
                             this user and why, and where the request would go
  gatehouse import pomerium FILE
                             Print the container labels (and GATEHOUSE_* environment) that
                             make the routes of a Pomerium config or policy file; say which
                             routes must stay in the routes file, and why
  gatehouse oidc clients [--json]
                             The apps' OpenID clients declared by iap.oidc.* labels: client
                             ids, redirect URIs, secrets to give the apps, the issuer
  gatehouse secret           Print a new random 32-byte secret (base64) for GATEHOUSE_SECRET
  gatehouse users …          Manage the built-in sign-in's users file: list, add, set, passwd,
                             totp, remove ("gatehouse users --help")
  gatehouse hash-password    Read a password and print its argon2id hash for the users file
  gatehouse --help           This help
  gatehouse --version        The version

Documentation: README.md (every label, every environment variable, examples).`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'secret': {
      const { randomBytes } = await import('node:crypto');
      process.stdout.write(`${randomBytes(32).toString('base64')}\n`);
      return 0;
    }
    case 'users': {
      const { usersCommand } = await import('./users.ts');
      return usersCommand(rest);
    }
    case 'hash-password': {
      const { hashPasswordCommand } = await import('./users.ts');
      return hashPasswordCommand(rest);
    }
    case 'routes': {
      const { routesCommand } = await import('./routes.ts');
      return routesCommand(rest);
    }
    case 'import': {
      const { importCommand } = await import('./import.ts');
      return importCommand(rest);
    }
    case 'explain': {
      const { explainCommand } = await import('./explain.ts');
      return explainCommand(rest);
    }
    case 'oidc': {
      const { oidcCommand } = await import('./oidc.ts');
      return oidcCommand(rest);
    }
    case 'socket-proxy':
      // The socket proxy is nginx with an allow list, a few MB instead of a second Node process.
      process.stderr.write('gatehouse: the socket proxy is its own image now, built from socket-proxy/ (ghcr.io/<owner>/gatehouse-socket-proxy); see README, "Docker socket access".\n');
      return 2;
    case 'serve': {
      const { withStartupHeap } = await import('./startup-heap.ts');
      await withStartupHeap(async () => {
        const { serve } = await import('../main.ts');
        await serve();
      });
      return -1; // keeps running; exit happens on signal
    }
    default:
      process.stderr.write(`gatehouse: unknown command "${command}". Run "gatehouse --help".\n`);
      return 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const message = isGatehouseError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`gatehouse: ${message}\n`);
    process.exitCode = 1;
  },
);
