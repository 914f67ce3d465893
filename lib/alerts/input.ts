/**
 * Reads an alert from any flow: the documented alert shape, or just its essentials (name, severity,
 * summary, labels), which are completed the same way fleet-health completes its own.
 */
import { makeAlert, SEVERITIES, type FleetAlert, type Severity } from '../health/alert';

export type AlertInput = { ok: true; value: FleetAlert } | { ok: false; field: string; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

function time(x: unknown): number | null {
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'string') { const t = Date.parse(x); return Number.isNaN(t) ? null : t; }
  return null;
}

export function readAlert(x: unknown, now: number): AlertInput {
  if (!isObj(x)) return { ok: false, field: 'payload', reason: 'an alert is an object with name, severity and summary' };
  if (typeof x.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(x.name)) return { ok: false, field: 'payload.name', reason: 'must be an alert name such as DeviceOffline' };
  if (!SEVERITIES.includes(x.severity as Severity)) return { ok: false, field: 'payload.severity', reason: `must be one of ${SEVERITIES.join(', ')}` };
  if (typeof x.summary !== 'string' || x.summary.length === 0 || x.summary.length > 2000) return { ok: false, field: 'payload.summary', reason: 'must be a text of 1 to 2,000 characters' };
  if (x.labels !== undefined && (!isObj(x.labels) || Object.entries(x.labels).some(([k, v]) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || typeof v !== 'string'))) {
    return { ok: false, field: 'payload.labels', reason: 'must map label names to text' };
  }
  if (x.device !== undefined && x.device !== null && typeof x.device !== 'string') return { ok: false, field: 'payload.device', reason: 'must be a device id or null' };
  if (x.status !== undefined && x.status !== 'firing' && x.status !== 'resolved') return { ok: false, field: 'payload.status', reason: 'must be firing or resolved' };
  const startsAt = x.startsAt === undefined ? now : time(x.startsAt);
  if (startsAt === null) return { ok: false, field: 'payload.startsAt', reason: 'must be a time (ISO 8601 or epoch ms)' };
  let endsAt = x.endsAt === undefined || x.endsAt === null ? null : time(x.endsAt);
  if (x.endsAt !== undefined && x.endsAt !== null && endsAt === null) return { ok: false, field: 'payload.endsAt', reason: 'must be a time (ISO 8601 or epoch ms)' };
  if (x.status === 'resolved' && endsAt === null) endsAt = now;
  const labels = { ...(x.labels as Record<string, string> | undefined) };
  // Our own labels are recomputed, so a fingerprint never depends on who completed the alert.
  delete labels.alertname;
  delete labels.severity;
  delete labels.device;
  return {
    ok: true,
    value: makeAlert({
      name: x.name, severity: x.severity as Severity, device: (x.device as string | undefined) ?? null, labels,
      summary: x.summary, description: typeof x.description === 'string' ? x.description : undefined,
      startsAt, endsAt, source: typeof x.source === 'string' ? x.source : 'flow',
      details: isObj(x.details) ? x.details : undefined,
    }),
  };
}
