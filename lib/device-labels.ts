/**
 * msg.device as fleet-decode writes it, read once for every node that takes decoded messages, and the
 * one label builder health and alerts share: which labels each keeps differs, how they are read does not.
 */
import { ALERT_LIMITS } from './alerts/limits';

export interface DeviceField {
  readonly id: string | null;
  readonly kind: string | null;
  readonly arch: string | null;
  readonly online: boolean | undefined;
  /** The device's own labels that are text (the registry's view), in their order. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  /** How many labels the device sent, text or not (the cap counts them all). */
  readonly labelCount: number;
}

const isObject = (x: unknown): x is Readonly<Record<string, unknown>> => x !== null && typeof x === 'object';
const text = (x: unknown): string | null => (typeof x === 'string' ? x : null);

/** Reads msg.device; null when it is not an object. */
export function readDevice(x: unknown): DeviceField | null {
  if (!isObject(x)) return null;
  const own = isObject(x.labels) ? Object.entries(x.labels) : [];
  return {
    id: text(x.id), kind: text(x.kind), arch: text(x.arch), online: typeof x.online === 'boolean' ? x.online : undefined,
    labels: own.filter((e): e is [string, string] => typeof e[1] === 'string'), labelCount: own.length,
  };
}

/** The location labels health keeps on a device record (and puts on its alerts). */
export const HEALTH_LABEL_KEYS: readonly string[] = ['site', 'location', 'building', 'floor', 'room'];

export type LabelsResult = { readonly ok: true; readonly labels: Record<string, string> } | { readonly ok: false; readonly field: string; readonly reason: string };

/**
 * The labels a node puts on what it derives from a device: `keys` picks some of the device's own
 * (health: location), else all of them, after the device's kind and arch when `withIdentity`.
 * More own labels than `limit` is refused, naming the field.
 */
export function deviceLabels(d: DeviceField | null, opts: { keys?: readonly string[]; withIdentity?: boolean; limit?: number } = {}): LabelsResult {
  const out: Record<string, string> = {};
  if (!d) return { ok: true, labels: out };
  if (opts.limit !== undefined && d.labelCount > opts.limit) return { ok: false, field: 'device.labels', reason: `${d.labelCount} labels; at most ${opts.limit}` };
  if (opts.withIdentity) {
    if (d.kind !== null) out.kind = d.kind;
    if (d.arch !== null) out.arch = d.arch;
  }
  if (opts.keys) {
    const own = new Map(d.labels);
    for (const k of opts.keys) { const v = own.get(k); if (v !== undefined) out[k] = v; }
  } else {
    for (const [k, v] of d.labels) out[k] = v;
  }
  return { ok: true, labels: out };
}

/** Health's labels: the location keys of the device's own labels. */
export const healthLabels = (d: DeviceField | null): Record<string, string> => {
  const r = deviceLabels(d, { keys: HEALTH_LABEL_KEYS });
  return r.ok ? r.labels : {};
};

/** An alert's labels from its device: kind, arch and every own text label, at most ALERT_LIMITS.labels of them. */
export const alertLabels = (d: DeviceField | null): LabelsResult => deviceLabels(d, { withIdentity: true, limit: ALERT_LIMITS.labels });
