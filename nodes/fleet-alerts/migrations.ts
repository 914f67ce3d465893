/**
 * fleet-alerts' saved-flow migrations (runtime on deploy, editor on open). Version 0 (no configVersion)
 * could leave out the routing, which the runtime read as the default routing for its receivers.
 */
import { DEFAULT_RECEIVERS, defaultRouting } from '../../lib/alerts/defaults';
import type { Migration } from '../shared/migrations';

export const FLEET_ALERTS_VERSION = 1;

const receiversOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : [...DEFAULT_RECEIVERS];

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => {
      const receivers = receiversOf(def.receivers);
      const routing = def.routing === undefined || def.routing === '' ? JSON.stringify(defaultRouting(receivers), null, 2) : def.routing;
      return { ...def, receivers, routing, outputs: receivers.length };
    },
  },
];
