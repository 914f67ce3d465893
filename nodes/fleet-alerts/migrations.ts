/**
 * fleet-alerts' saved-flow migrations (runtime on deploy, editor on open). Version 0 (no configVersion)
 * could leave out the routing, which the runtime read as the default routing for its receivers.
 */
import { DEFAULT_RECEIVERS, defaultRouting } from '../../lib/alerts/defaults';
import type { Migration } from '../shared/migrations';

export const FLEET_ALERTS_VERSION = 1;

/**
 * A saved list as text, as version 0 read it. An item that has no text form (an object whose
 * `toString` is data, e.g. `{"toString": ""}`, which String() throws on) stays as it is, so the
 * parser refuses it by name instead of the migration throwing.
 */
const asText = (x: unknown): unknown => { try { return String(x); } catch { return x; } };
const receiversOf = (v: unknown): unknown[] =>
  Array.isArray(v) ? v.map(asText) : typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : [...DEFAULT_RECEIVERS];

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => {
      const receivers = receiversOf(def.receivers);
      const names = receivers.filter((r): r is string => typeof r === 'string');
      const routing = def.routing === undefined || def.routing === '' ? JSON.stringify(defaultRouting(names), null, 2) : def.routing;
      return { ...def, receivers, routing, outputs: receivers.length };
    },
  },
];
