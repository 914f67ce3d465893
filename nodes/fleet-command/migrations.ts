/**
 * fleet-command's saved-flow migrations. Version 0 (no configVersion: written by hand or by a
 * script) may leave fields out; version 1 writes every field with its default, so the editor's
 * checks see what the runtime runs.
 */
import { COMMAND_DEFAULTS } from '../../lib/command/node-config';
import type { Migration } from '../shared/migrations';

export const FLEET_COMMAND_VERSION = 1;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => {
      const out: Record<string, unknown> = { ...def };
      for (const [k, v] of Object.entries(COMMAND_DEFAULTS)) if (absent(out[k]) && !absent(v)) out[k] = Array.isArray(v) ? v.join(', ') : v;
      return out as typeof def;
    },
  },
];
