/**
 * Saved-flow migrations, run by the runtime when a node is deployed and by the editor when it opens
 * an old node, so both see the same upgraded configuration. No Node-RED and no Node.js imports:
 * the editor bundle includes this file.
 */

/** A node's configuration as a flow file holds it: whatever the editor (or a hand) saved. */
export type SavedDef = Readonly<Record<string, unknown>>;

/** One step: a configuration saved at version `from` rewritten as version `to` (to = from + 1). */
export interface Migration {
  readonly from: number;
  readonly to: number;
  migrate(def: SavedDef): SavedDef;
}

export type MigrationResult =
  | { readonly ok: true; readonly def: SavedDef; readonly from: number; readonly applied: number }
  | { readonly ok: false; readonly field: 'configVersion'; readonly reason: string };

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

/**
 * The first step of most nodes: a def saved without a version (by hand, or before versioning) may
 * leave out what the runtime defaulted; this writes those defaults, so the editor checks what runs.
 */
export function fillAbsent(defaults: Readonly<Record<string, unknown>>): Migration {
  return {
    from: 0,
    to: 1,
    migrate: (def) => {
      const out: Record<string, unknown> = { ...def };
      for (const [k, v] of Object.entries(defaults)) if (absent(out[k])) out[k] = Array.isArray(v) ? [...v] : v;
      return out;
    },
  };
}

/** The version a def was saved at: 0 when it has none (flows from before versioning, or written by hand). */
export function savedVersion(def: SavedDef): number | null {
  const v = def.configVersion;
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** Upgrades `def` step by step to `current`; refuses a version newer than this package or a gap in the steps. */
export function migrate(def: SavedDef, migrations: readonly Migration[], current: number): MigrationResult {
  const from = savedVersion(def);
  if (from === null) return { ok: false, field: 'configVersion', reason: `configuration version ${JSON.stringify(def.configVersion)} is not a whole number` };
  if (from > current) {
    return { ok: false, field: 'configVersion', reason: `configuration version ${from} is newer than this package understands (${current})` };
  }
  const steps = new Map(migrations.map((m) => [m.from, m]));
  let out: SavedDef = def;
  let version = from;
  let applied = 0;
  while (version < current) {
    const step = steps.get(version);
    if (!step || step.to !== version + 1) return { ok: false, field: 'configVersion', reason: `no migration from configuration version ${version}` };
    out = { ...step.migrate(out), configVersion: step.to };
    version = step.to;
    applied++;
  }
  return { ok: true, def: out, from, applied };
}

/** The keys whose values a migration changed or added: what the editor must write back into its form. */
export function changedKeys(before: SavedDef, after: SavedDef): string[] {
  return Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}
