/**
 * fleet-health's overload settings: defaults and bounds, shared by the runtime's parser and the dialog
 * (no imports: the editor bundle includes this file).
 */
export interface OverloadOptions {
  /** Readings are coalesced while the lag is at least this many ms; 0: never. */
  readonly coalesceMs: number;
  /** PipelineOverloaded fires when the lag stays over this many ms for `overloadForMs`; 0: no alert. */
  readonly overloadMs: number;
  /** How long the lag must stay over the threshold to fire, and under half of it to resolve. */
  readonly overloadForMs: number;
}

export const DEFAULT_OVERLOAD: OverloadOptions = { coalesceMs: 200, overloadMs: 1000, overloadForMs: 10_000 };

/** The saved fields (coalesceMs, overloadMs, overloadS) and what each may be. */
export const OVERLOAD_BOUNDS = {
  coalesceMs: { min: 0, max: 60_000 },
  overloadMs: { min: 0, max: 600_000 },
  overloadS: { min: 1, max: 3600 },
} as const;
