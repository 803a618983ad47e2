import { readFile } from 'node:fs/promises';
import { combineRouteSources, labelTrust, parsePolicyEnv, parseRoutesFile, routeDefaultsOf, type AppConfig, type RoutesFileResult } from '../config/index.ts';
import { createEngineListings, createTableBuilder, createTargetCheck, createTargetRules, dockerApiEndpoints } from '../control/index.ts';
import { systemResolveAll } from '../proxy/index.ts';
import { listOnce, type DockerListing } from '../docker/index.ts';
import { translateContainers } from '../labels/index.ts';
import type { RouteTable, TranslationResult } from '../routes/index.ts';

/** The table `serve` would build right now from Docker and the routes file, with the listing it came from. */
export async function buildTableOnce(config: AppConfig, command: string): Promise<{ table: RouteTable; listing: DockerListing }> {
  const listing = await listEngines(config);
  let fileResult: TranslationResult | null = null;
  const defaults = routeDefaultsOf(config.pomerium);
  if (config.GATEHOUSE_CONFIG) fileResult = readRoutes(parseRoutesFile(await readFile(config.GATEHOUSE_CONFIG, 'utf8'), config.GATEHOUSE_CONFIG, defaults), config.GATEHOUSE_CONFIG, command);
  if (config.POLICY !== undefined) fileResult = combineRouteSources(fileResult, readRoutes(parsePolicyEnv(config.POLICY, defaults), 'POLICY', command));
  if (config.ROUTES !== undefined) fileResult = combineRouteSources(fileResult, readRoutes(parsePolicyEnv(config.ROUTES, defaults, 'ROUTES'), 'ROUTES', command));
  const trust = labelTrust(config).translate;
  // The same target check as `serve`: names are resolved, then the table is built again with the answers.
  const rules = createTargetRules({ allow: config.GATEHOUSE_UPSTREAM_ALLOW, deny: config.GATEHOUSE_UPSTREAM_DENY });
  rules.setOwn('docker', (await Promise.all(config.dockerEngines.engines.map((engine) => dockerApiEndpoints(engine.dockerHost, systemResolveAll)))).flat());
  const targets = createTargetCheck({ rules: rules.current, resolveAll: systemResolveAll, onChange: () => {}, now: Date.now });
  const builder = createTableBuilder((l) => translateContainers(l, trust), { claims: trust, targets });
  builder.build(listing, fileResult);
  await targets.settled();
  return { table: builder.build(listing, fileResult), listing };
}

/** Every engine's containers in one listing, as `serve` merges them (GATEHOUSE_DOCKER_HOSTS). */
async function listEngines(config: AppConfig): Promise<DockerListing> {
  const { engines, several } = config.dockerEngines;
  if (!several) return listOnce((engines[0] as (typeof engines)[number]).dockerHost);
  const merged = createEngineListings(engines.map((engine) => ({ name: engine.name, local: engine.address === null })));
  let listing: DockerListing = { containers: [], selfNetworks: null };
  for (const engine of engines) {
    listing = merged.set(engine.name, await listOnce(engine.dockerHost, undefined, { tls: engine.tls, engine: { name: engine.name, address: engine.address } }));
  }
  return listing;
}

/** A file's routes; its Pomerium settings, which are no problem with the routes, go to stderr. */
function readRoutes(parsed: RoutesFileResult, file: string, command: string): TranslationResult {
  if (!parsed.ok) return { specs: [], issues: [{ source: { kind: 'file', file, index: null }, label: null, value: null, code: 'invalid_value', message: parsed.error }] };
  for (const note of parsed.settings) process.stderr.write(`gatehouse ${command}: ${note.message}\n`);
  return parsed.result;
}
