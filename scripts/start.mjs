// `npm start`: Gatehouse on this machine, reading the local Docker engine. With no sign-in
// configured it runs the quick start of compose.example.yml: the built-in sign-in at
// http://auth.localhost:<port> with the demo users of examples/users.yml, copied on first
// start into the data directory, where "node dist/cli/main.js users …" edits them by default.
// Anything set in the environment wins.
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const SIGN_IN_VARIABLES = ['GATEHOUSE_AUTH_URL', 'GATEHOUSE_OIDC_ISSUER', 'GATEHOUSE_OIDC_CLIENT_ID', 'GATEHOUSE_OIDC_CLIENT_SECRET', 'GATEHOUSE_USERS_FILE'];
const env = process.env;
const isSet = (name) => Boolean(env[name] || env[`${name}_FILE`]);

if (!SIGN_IN_VARIABLES.some(isSet)) {
  const port = /:(\d+)\s*$/.exec(env.GATEHOUSE_LISTEN ?? '')?.[1] ?? '8080';
  env.GATEHOUSE_AUTH_URL = `http://auth.localhost:${port}`;
  const dataDir = env.GATEHOUSE_DATA_DIR || './data';
  const usersFile = path.join(dataDir, 'users.yml');
  if (!existsSync(usersFile)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    copyFileSync(new URL('../examples/users.yml', import.meta.url), usersFile);
    chmodSync(usersFile, 0o600);
  }
  process.stderr.write(
    `gatehouse: quick start: sign-in at ${env.GATEHOUSE_AUTH_URL} with the users in ${usersFile} (demo / gatehouse-demo); ` +
      'set GATEHOUSE_AUTH_URL or GATEHOUSE_OIDC_ISSUER to configure sign-in yourself\n',
  );
}
if (!isSet('GATEHOUSE_LOG_FORMAT') && process.stdout.isTTY) env.GATEHOUSE_LOG_FORMAT = 'pretty';

const { withStartupHeap } = await import('../dist/cli/startup-heap.js');
withStartupHeap(async () => {
  const { serve } = await import('../dist/main.js');
  await serve();
}).catch((error) => {
  process.stderr.write(`gatehouse: ${error?.code === undefined ? (error?.stack ?? String(error)) : error.message}\n`);
  process.exitCode = 1;
});
