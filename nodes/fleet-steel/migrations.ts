/**
 * fleet-steel's saved-flow migrations (runtime on deploy, editor on open). Version 0 (no
 * configVersion: a flow written by hand) may leave out what the runtime defaults; version 1 writes it.
 */
import { fillAbsent, type Migration } from '../shared/migrations';

export const FLEET_STEEL_VERSION = 1;

export const migrations: readonly Migration[] = [
  fillAbsent({
    sourceFrom: 'editor',
    action: 'load',
    targetType: 'device',
    version: '1.0.0',
    autoStart: true,
    timeoutS: 30,
    successTarget: 95,
    profile: 'default',
  }),
];
