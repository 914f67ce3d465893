/**
 * fleet-steel's saved-flow migrations (runtime on deploy, editor on open). Version 0 (no
 * configVersion: a flow written by hand) may leave out what the runtime defaults; version 1 writes it.
 */
import type { Migration } from '../shared/migrations';

export const FLEET_STEEL_VERSION = 1;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => ({
      ...def,
      sourceFrom: absent(def.sourceFrom) ? 'editor' : def.sourceFrom,
      action: absent(def.action) ? 'load' : def.action,
      targetType: absent(def.targetType) ? 'device' : def.targetType,
      version: absent(def.version) ? '1.0.0' : def.version,
      autoStart: def.autoStart ?? true,
      timeoutS: absent(def.timeoutS) ? 30 : def.timeoutS,
      successTarget: absent(def.successTarget) ? 95 : def.successTarget,
      profile: absent(def.profile) ? 'default' : def.profile,
    }),
  },
];
