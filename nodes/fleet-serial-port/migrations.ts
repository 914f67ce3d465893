/** fleet-serial-port's saved-flow migrations: none yet (version 1 is the first saved shape). */
import type { Migration } from '../shared/migrations';

export const FLEET_SERIAL_PORT_VERSION = 1;
export const migrations: readonly Migration[] = [];
