/** fleet-registry's settings and their bounds, read by the editor's checks and the runtime alike. */

export const FLUSH_MS = { min: 100, max: 600_000, default: 1000 } as const;

/** A write interval from a saved flow, or a reason naming the bounds. */
export function parseFlushMs(v: unknown): { ok: true; value: number } | { ok: false; reason: string } {
  if (v === undefined || v === null || v === '') return { ok: true, value: FLUSH_MS.default };
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < FLUSH_MS.min || n > FLUSH_MS.max) return { ok: false, reason: `must be a whole number of milliseconds from ${FLUSH_MS.min} to ${FLUSH_MS.max}` };
  return { ok: true, value: n };
}
