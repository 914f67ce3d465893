/**
 * fleet-health's saved-flow migrations (runtime on deploy, editor on open). Version 0 (no configVersion)
 * left out what the runtime defaulted: an offline check every 5 s, no periodic summary, default scoring.
 */
import type { Migration } from '../shared/migrations';

export const FLEET_HEALTH_VERSION = 1;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => ({
      ...def,
      scoring: def.scoring ?? '',
      sweepS: absent(def.sweepS) ? 5 : def.sweepS,
      summaryS: absent(def.summaryS) ? 0 : def.summaryS,
    }),
  },
];
