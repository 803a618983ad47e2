import { buildRouteTable } from '../routes/index.ts';
import type { RouteTable } from '../routes/index.ts';

/** One published table. A request reads `store.current()` once and keeps this object until it ends. */
export interface Generation {
  readonly id: number;
  readonly table: RouteTable;
  /** Milliseconds since the epoch, from the injected clock. */
  readonly createdAt: number;
}

/**
 * Holds the live generation. Publishing swaps one reference: readers never see a table being
 * built, and a reader holding an older generation keeps a complete, frozen table.
 */
export class RouteStore {
  readonly #now: () => number;
  #current: Generation;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#current = Object.freeze({ id: 0, table: buildRouteTable([], []), createdAt: this.#now() });
  }

  current(): Generation {
    return this.#current;
  }

  publish(table: RouteTable): Generation {
    this.#current = Object.freeze({ id: this.#current.id + 1, table, createdAt: this.#now() });
    return this.#current;
  }
}
