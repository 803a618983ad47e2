import { createRequire } from 'node:module';
import type * as undici from 'undici';

/**
 * undici's Agent and connector, loaded from their own files. undici's front module also loads
 * its whole web layer (fetch, cache, cookies, WebSocket, EventSource: about 80 modules that
 * Gatehouse never calls), and its cookie module touches `globalThis.Headers`, which makes Node
 * load its own bundled copy of undici too. Loaded this way, an idle Gatehouse keeps about 6 MB
 * less private memory (bench/README.md, "Experiments"). Types still come from the package.
 */
const load = createRequire(import.meta.url);

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof undici.Agent;
export type Agent = undici.Agent;
export const buildConnector = load('undici/lib/core/connect.js') as typeof undici.buildConnector;
export type Connector = undici.buildConnector.connector;
