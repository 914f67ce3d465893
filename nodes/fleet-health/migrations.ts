/**
 * fleet-health's saved-flow migrations (runtime on deploy, editor on open). Version 0 (no configVersion)
 * left out what the runtime defaulted: an offline check every 5 s, no periodic summary, default scoring.
 */
import { fillAbsent, type Migration } from '../shared/migrations';

export const FLEET_HEALTH_VERSION = 1;

export const migrations: readonly Migration[] = [
  fillAbsent({
    scoring: '',
    sweepS: 5,
    summaryS: 0,
  }),
];
