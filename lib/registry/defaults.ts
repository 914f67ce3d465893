/** fleet-registry's settings and their bounds, read by the editor's checks and the runtime alike. */

export const FLUSH_MS = { min: 100, max: 600_000, default: 1000 } as const;

/** A write interval from a saved flow, or a reason naming the bounds. */
export function parseFlushMs(v: unknown): { ok: true; value: number } | { ok: false; reason: string } {
  if (v === undefined || v === null || v === '') return { ok: true, value: FLUSH_MS.default };
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < FLUSH_MS.min || n > FLUSH_MS.max) return { ok: false, reason: `must be a whole number of milliseconds from ${FLUSH_MS.min} to ${FLUSH_MS.max}` };
  return { ok: true, value: n };
}

/** The device cap: a node's own value, else FLEET_MAX_DEVICES, else the default. */
export const MAX_DEVICES = { min: 1, max: 1_000_000, default: 10_000 } as const;

/** A device cap from a saved flow (empty: `fallback`, the environment's), or a reason naming the bounds. */
export function parseMaxDevices(v: unknown, fallback: number = MAX_DEVICES.default): { ok: true; value: number } | { ok: false; reason: string } {
  if (v === undefined || v === null || v === '') return { ok: true, value: fallback };
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < MAX_DEVICES.min || n > MAX_DEVICES.max) return { ok: false, reason: `must be a whole number of devices from ${MAX_DEVICES.min} to ${MAX_DEVICES.max}` };
  return { ok: true, value: n };
}
