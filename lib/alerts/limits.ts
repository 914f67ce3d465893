/**
 * What one alert may weigh when fleet-alerts keeps it: every firing alert is held in memory and
 * written to the journal, so a publisher must not be able to make one huge (200 labels, labels of
 * 1 MiB) or give it a time no Date can hold.
 */
import type { FleetAlert } from '../alert-shape';

export const ALERT_LIMITS = {
  labels: 64,
  labelValueChars: 4096,
  /** The alert as JSON, labels, annotations and details together. */
  alertBytes: 256 * 1024,
} as const;

/** The largest epoch ms a JavaScript Date holds (±100,000,000 days). */
const MAX_TIME_MS = 8.64e15;

export type LimitViolation = { field: string; reason: string };

/** A device alert's own `timestamp` (epoch ms after fleet-decode) must be a time a Date can hold. */
export function checkDeviceTimestamp(payload: Readonly<Record<string, unknown>>): LimitViolation | null {
  const t = payload.timestamp;
  if (t === undefined || typeof t !== 'number') return null; // absent or not a number: the receive time is used
  if (!Number.isFinite(t) || Math.abs(t) > MAX_TIME_MS) return { field: 'payload.timestamp', reason: `must be a time in epoch ms (at most ${MAX_TIME_MS}), not ${t}` };
  return null;
}

export function checkAlertLimits(alert: FleetAlert, field = 'payload'): LimitViolation | null {
  const names = Object.keys(alert.labels);
  if (names.length > ALERT_LIMITS.labels) return { field: `${field}.labels`, reason: `${names.length} labels; at most ${ALERT_LIMITS.labels}` };
  for (const n of names) {
    if (n.length > ALERT_LIMITS.labelValueChars || alert.labels[n].length > ALERT_LIMITS.labelValueChars) {
      return { field: `${field}.labels.${n.slice(0, 64)}`, reason: `over ${ALERT_LIMITS.labelValueChars} characters` };
    }
  }
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(alert));
  } catch (err) {
    return { field: `${field}.details`, reason: `is not JSON data (${(err as Error).message})` };
  }
  if (bytes > ALERT_LIMITS.alertBytes) return { field, reason: `the alert is ${bytes} bytes as JSON; at most ${ALERT_LIMITS.alertBytes}` };
  return null;
}
