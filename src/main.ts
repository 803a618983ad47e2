import type { Identity } from './auth/index.ts';
import { combineRouteSources, labelTrust, loadConfig, logSettingNotes, readIdentitySettings, readPolicyEnv, routeDefaultsOf, watchRoutesFile, type AppConfig } from './config/index.ts';
import { createEngineWatchers, createReconciler, createTargetRules, dockerApiEndpoints, interfaceAddresses, listenerEndpoints, RouteStore } from './control/index.ts';
import type { DiscoveryStatus, DockerListing } from './docker/index.ts';
import { ignoredImageLabels, translateContainers, type TranslateOptions } from './labels/index.ts';
import { join, resolve } from 'node:path';
import { createAuditLog, createLogger, createMetrics, type AuditLog, type AuditSink, type Logger, type Metrics } from './observability/index.ts';
import { createAdminServer, createProxyServer, systemResolveAll, type ProxyNetworkOptions } from './proxy/index.ts';
import { startCertificates, type CertificateSources } from './tls/index.ts';
import type { RouteTable } from './routes/index.ts';
import { createSecretReader } from './util/secrets.ts';

export interface RunningGatehouse {
  config: AppConfig;
  proxyPort: number;
  /** The HTTPS listener's port; null when no certificate source is configured. */
  httpsPort: number | null;
  adminPort: number;
  stop(): Promise<void>;
}

/**
 * Composition root: config → logger/metrics → route store and reconciler → Docker watcher
 * and routes file → proxy and admin listeners. Returns once both listeners accept connections.
 */
export async function startGatehouse(config: AppConfig, logger: Logger): Promise<RunningGatehouse> {
  const metrics = createMetrics();
  const store = new RouteStore();
  // Pomerium's global settings, each once: mapped, ignored, or overridden by a GATEHOUSE_* variable.
  if (config.pomerium !== null) logSettingNotes(logger, 'Pomerium settings', config.pomerium.notes);
  const audit = createAuditLog({
    file: join(config.GATEHOUSE_DATA_DIR, 'audit.jsonl'),
    now: Date.now,
    onRecord: (event) => metrics.auditEvents.inc({ event }),
    onError: (error) => logger.error({ err: error }, error.message),
  });
  // Sign-in when GATEHOUSE_AUTH_URL is set (at the built-in provider unless an outside one is configured); otherwise public routes only.
  const identity = await startIdentity(config, logger, audit, () => store.current().table);
  try {
    return await startServing(config, logger, { metrics, store, identity, audit });
  } catch (error) {
    // The built-in provider holds a listener and a file watcher that would keep a failed start alive.
    await identity?.close();
    await audit.close();
    throw error;
  }
}

/** Sign-in code (OpenID client, JOSE, the built-in provider) is loaded only when sign-in is configured. */
async function startIdentity(config: AppConfig, logger: Logger, audit: AuditSink, currentTable: () => RouteTable): Promise<Identity | null> {
  const settings = readIdentitySettings(config);
  if (settings === null) {
    if (config.GATEHOUSE_REDIS_URL !== undefined) logger.warn('GATEHOUSE_REDIS_URL is set, but sign-in is off (no GATEHOUSE_AUTH_URL): there is no state to share');
    return null;
  }
  const { createIdentity } = await import('./auth/index.ts');
  const httpsPublicPort = certificateSources(config) !== null ? (config.GATEHOUSE_HTTPS_PUBLIC_PORT ?? 443) : null;
  // The OpenID provider for apps serves the clients of the published table, with label secrets read as header secrets are.
  const readSecret = createSecretReader(labelTrust(config).secrets);
  return createIdentity(settings, { value: config.GATEHOUSE_SECRET, name: 'GATEHOUSE_SECRET' }, {
    logger,
    httpsPublicPort,
    audit,
    currentTable,
    readSecret,
    ...(config.GATEHOUSE_REDIS_URL === undefined ? {} : { redisUrl: config.GATEHOUSE_REDIS_URL }),
  });
}

async function startServing(
  config: AppConfig,
  logger: Logger,
  { metrics, store, identity, audit }: { metrics: Metrics; store: RouteStore; identity: Identity | null; audit: AuditLog },
): Promise<RunningGatehouse> {
  const trust = labelTrust(config);
  const reportIgnored = createIgnoredLabelReporter(trust.translate, logger);
  // One set of target rules for the table build and the proxy's connect-time check.
  const targetRules = createTargetRules({ allow: config.GATEHOUSE_UPSTREAM_ALLOW, deny: config.GATEHOUSE_UPSTREAM_DENY });
  // Every engine's API, when reached over TCP: no label on any engine may point a route at one.
  const engines = config.dockerEngines;
  targetRules.setOwn('docker', (await Promise.all(engines.engines.map((engine) => dockerApiEndpoints(engine.dockerHost, systemResolveAll)))).flat());
  const targets = { rules: targetRules.current, resolveAll: systemResolveAll };
  const reconciler = createReconciler({
    translateContainers: (listing) => {
      reportIgnored(listing);
      return translateContainers(listing, trust.translate);
    },
    store,
    logger,
    metrics,
    expectFile: config.GATEHOUSE_CONFIG !== undefined,
    claims: trust.translate,
    targets,
  });

  const watcher = createEngineWatchers({
    engines: engines.engines,
    several: engines.several,
    logger,
    onListing: (listing) => {
      targetRules.setOwn('container', (listing.selfAddresses ?? []).map((address) => ({ address, port: null, what: "Gatehouse's own container" })));
      reconciler.setContainers(listing);
    },
    settings: {
      debounceMs: config.GATEHOUSE_DOCKER_DEBOUNCE,
      resyncMs: config.GATEHOUSE_DOCKER_RESYNC,
      stallTimeoutMs: config.GATEHOUSE_DOCKER_STALL_TIMEOUT,
    },
  });
  const reportDiscovery = (engine: string, status: DiscoveryStatus) => {
    const all = watcher.status();
    metrics.discoveryUp.set(all.state === 'up' ? 1 : 0);
    metrics.discoveryDegradedSince.set(all.state === 'up' ? 0 : Math.floor(all.since / 1000));
    metrics.dockerEngineUp.set({ engine }, status.state === 'up' ? 1 : 0);
    metrics.dockerEngineDegradedSince.set({ engine }, status.state === 'up' ? 0 : Math.floor(status.since / 1000));
  };
  watcher.onStatus(reportDiscovery);
  for (const { name, status } of watcher.engines()) reportDiscovery(name, status);

  // Pomerium's POLICY variable: routes beside (or instead of) the routes file.
  // Pomerium's global pass_identity_headers / jwt_claims_headers are defaults for its routes.
  const pomeriumDefaults = routeDefaultsOf(config.pomerium);
  const policyRoutes = combineRouteSources(readPolicyEnv(config.POLICY, logger, pomeriumDefaults), readPolicyEnv(config.ROUTES, logger, pomeriumDefaults, 'ROUTES'));
  if (policyRoutes !== null && config.GATEHOUSE_CONFIG === undefined) reconciler.setFileRoutes(policyRoutes);
  const routesFile = config.GATEHOUSE_CONFIG
    ? await watchRoutesFile(config.GATEHOUSE_CONFIG, {
        logger,
        pomeriumDefaults,
        onLoad: (result) => reconciler.setFileRoutes(combineRouteSources(result, policyRoutes)),
        onError: (message) => {
          metrics.configFileErrors.inc();
          logger.error({ file: config.GATEHOUSE_CONFIG, error: message }, 'routes file rejected; keeping the last good version');
        },
      })
    : null;

  // The HTTPS listener, when GATEHOUSE_TLS_DIR or GATEHOUSE_TLS_ACME_JSON is set.
  const sources = certificateSources(config);
  const certificates = sources === null ? null : await startCertificates(sources, { logger, metrics });
  const proxy = await createProxyServer({
    network: proxyNetworkOptions(config),
    logger,
    metrics,
    currentTable: () => store.current().table,
    ...(identity ? { gate: identity.gate, defaultAllow: identity.settings.defaultAllow } : {}),
    secretsDir: trust.secrets.dir,
    ownFiles: trust.secrets.ownFiles,
    ...(identity?.rawHandler ? { rawHandler: identity.rawHandler } : {}),
    discoveryDegraded: () => watcher.status().state !== 'up',
    ...(certificates ? { certificates } : {}),
    targets,
    audit,
  });
  const admin = createAdminServer({
    listen: config.GATEHOUSE_ADMIN_LISTEN,
    logger,
    metrics,
    status: () => {
      const discovery = watcher.status();
      const identityStatus = identity?.status() ?? null;
      return {
        generation: store.current(),
        discovery,
        identity: identityStatus,
        certificates: certificates?.list() ?? [],
        refusals: audit.recentRefusals(),
        now: Date.now(),
      };
    },
    defaultAllow: identity?.settings.defaultAllow ?? [],
    instance: { labelPrefix: config.GATEHOUSE_LABEL_PREFIX, routesFile: config.GATEHOUSE_CONFIG === undefined ? null : resolve(config.GATEHOUSE_CONFIG) },
    readiness: () => {
      const discovery = watcher.status();
      const generation = store.current();
      const tlsCertificates = certificates?.list() ?? [];
      // With TLS on and no usable certificate, every HTTPS handshake fails.
      // Ready once every engine has been listed; afterwards an engine that goes away is reported
      // below but keeps its last routes, and readiness holds (README "Several Docker hosts").
      const ready = reconciler.ready() && watcher.allListed() && !proxy.closing && (certificates === null || tlsCertificates.length > 0);
      return {
        ready,
        detail: {
          routes: generation.table.routes.length,
          rejected: generation.table.issues.length,
          generation: generation.id,
          discovery: {
            state: discovery.state,
            since: new Date(discovery.since).toISOString(),
            ...(discovery.state === 'up' ? {} : { message: `discovery degraded since ${new Date(discovery.since).toISOString()}` }),
            lastError: discovery.lastError,
            engineVersion: discovery.engineVersion,
          },
          ...(engines.several ? { engines: engineReport(watcher.engines()) } : {}),
          closing: proxy.closing,
          ...(identity ? { identity: identity.status() } : {}),
          ...(certificates ? { tls: { certificates: tlsCertificates, skipped: certificates.skipped() } } : {}),
        },
      };
    },
  });

  watcher.start();
  const { port: proxyPort, httpsPort } = await proxy.listen();
  const { port: adminPort } = await admin.listen();
  targetRules.setOwn(
    'listeners',
    listenerEndpoints(
      [
        { host: config.GATEHOUSE_LISTEN.host, port: proxyPort, what: "Gatehouse's own listener" },
        ...(httpsPort === null ? [] : [{ host: config.GATEHOUSE_HTTPS_LISTEN.host, port: httpsPort, what: "Gatehouse's own HTTPS listener" }]),
        { host: config.GATEHOUSE_ADMIN_LISTEN.host, port: adminPort, what: "Gatehouse's admin listener" },
      ],
      interfaceAddresses(),
    ),
  );
  logger.info(
    {
      listen: `${config.GATEHOUSE_LISTEN.host}:${proxyPort}`,
      ...(httpsPort === null ? {} : { https: `${config.GATEHOUSE_HTTPS_LISTEN.host}:${httpsPort}` }),
      admin: `${config.GATEHOUSE_ADMIN_LISTEN.host}:${adminPort}`,
    },
    'gatehouse started',
  );

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: draining requests');
      await proxy.close();
      await Promise.allSettled([watcher.stop(), routesFile?.close(), admin.close(), identity?.close(), certificates?.close(), audit.close()]);
      logger.info('stopped');
    })());
  return { config, proxyPort, httpsPort, adminPort, stop };
}

/** Each engine's health for /readyz: which is down, since when, and why; its last routes stay live. */
function engineReport(engines: readonly { name: string; status: DiscoveryStatus; listed: boolean }[]): Record<string, unknown> {
  return Object.fromEntries(
    engines.map(({ name, status, listed }) => [
      name,
      {
        state: status.state,
        since: new Date(status.since).toISOString(),
        listed,
        ...(status.state === 'up'
          ? {}
          : { message: listed ? `Docker engine "${name}" is down since ${new Date(status.since).toISOString()}; its last routes stay live` : `Docker engine "${name}" has not been listed yet` }),
        lastListAt: status.lastListAt === null ? null : new Date(status.lastListAt).toISOString(),
        lastError: status.lastError,
        engineVersion: status.engineVersion,
      },
    ]),
  );
}

/** The environment, as the proxy room needs it: only config/ and this file know the variable names. */
/** The certificate sources, or null when none is set (then there is no HTTPS listener). */
export function certificateSources(config: AppConfig): CertificateSources | null {
  if (config.GATEHOUSE_TLS_DIR === undefined && config.GATEHOUSE_TLS_ACME_JSON === undefined) return null;
  return {
    dir: config.GATEHOUSE_TLS_DIR,
    acmeJson: config.GATEHOUSE_TLS_ACME_JSON,
    defaultName: config.GATEHOUSE_TLS_DEFAULT_CERT,
    absentGraceMs: config.GATEHOUSE_TLS_ABSENT_GRACE,
  };
}

export function proxyNetworkOptions(config: AppConfig): ProxyNetworkOptions {
  return {
    listen: config.GATEHOUSE_LISTEN,
    httpsListen: config.GATEHOUSE_HTTPS_LISTEN,
    httpsPublicPort: config.GATEHOUSE_HTTPS_PUBLIC_PORT,
    httpRedirect: config.GATEHOUSE_HTTP_REDIRECT,
    trustedProxies: config.GATEHOUSE_TRUSTED_PROXIES,
    forwardAuthClients: config.GATEHOUSE_FORWARD_AUTH_CLIENTS,
    accessLog: config.GATEHOUSE_ACCESS_LOG,
    requestTimeoutMs: config.GATEHOUSE_REQUEST_TIMEOUT,
    headersTimeoutMs: config.GATEHOUSE_HEADERS_TIMEOUT,
    keepAliveTimeoutMs: config.GATEHOUSE_KEEPALIVE_TIMEOUT,
    upstreamConnectTimeoutMs: config.GATEHOUSE_UPSTREAM_CONNECT_TIMEOUT,
    shutdownGraceMs: config.GATEHOUSE_SHUTDOWN_GRACE,
  };
}

/** `gatehouse serve`: start, then stop gracefully on SIGTERM/SIGINT. */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.GATEHOUSE_LOG_LEVEL, format: config.GATEHOUSE_LOG_FORMAT });
  const running = await startGatehouse(config, logger);
  const onSignal = (signal: string) => {
    logger.info({ signal }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/**
 * Logs every image label the translator ignores, once per container and label, so the log names
 * each one and why without repeating it on every listing.
 */
function createIgnoredLabelReporter(options: TranslateOptions, logger: Logger): (listing: DockerListing) => void {
  // The control loop passes only the containers that changed, so what was reported is kept,
  // and forgotten wholesale only if it ever grows large.
  const reported = new Set<string>();
  return (listing) => {
    if (reported.size > 10_000) reported.clear();
    for (const ignored of ignoredImageLabels(listing.containers, options.prefix, options.trustImageLabels ?? false)) {
      const key = `${ignored.containerId} ${ignored.label}`;
      if (reported.has(key)) continue;
      reported.add(key);
      logger.warn({ container: ignored.containerName, label: ignored.label }, `image label ignored: ${ignored.label} ${ignored.reason}`);
    }
  };
}
