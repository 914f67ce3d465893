/**
 * fleet-ota's saved-flow migrations. Version 0 (no configVersion: a flow written by hand) has the
 * fields of version 1, each optional with the runtime's default, so the step only stamps the version.
 */
import type { Migration } from '../shared/migrations';

export const FLEET_OTA_VERSION = 1;

export const migrations: readonly Migration[] = [
  { from: 0, to: 1, migrate: (def) => ({ ...def }) },
];
