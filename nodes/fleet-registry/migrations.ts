/**
 * fleet-registry's saved-flow migrations (runtime on deploy, editor on open). Version 0 (no configVersion)
 * left out what the runtime defaulted: keep the table in the default context store, written every second.
 */
import { FLUSH_MS } from '../../lib/registry/defaults';
import type { Migration } from '../shared/migrations';

export const FLEET_REGISTRY_VERSION = 1;

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => ({
      ...def,
      persist: def.persist !== false,
      store: typeof def.store === 'string' ? def.store : '',
      flushMs: def.flushMs === undefined || def.flushMs === '' ? FLUSH_MS.default : def.flushMs,
    }),
  },
];
