import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';

/**
 * node:http, loaded with `require`. An ES `import` of node:http (named or default) makes Node
 * build the module's ES namespace from all its exports, which reads the lazy `WebSocket`,
 * `CloseEvent` and `MessageEvent` getters, and that loads and runs Node's bundled copy of undici
 * (fetch, WebSocket and the rest): about 13 MB of RSS and 6 MB of private memory in every
 * process, for classes Gatehouse never uses (bench/README.md, "Experiments"). Import node:http
 * from here; type-only imports of node:http are erased and may stay as they are.
 */
export const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;
