/** fleet-command's saved-flow migrations: version 1 is the first saved shape, so none yet. */
import type { Migration } from '../shared/migrations';

export const FLEET_COMMAND_VERSION = 1;

export const migrations: readonly Migration[] = [];
