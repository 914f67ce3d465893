/**
 * Reads an alert from any flow, in either of two shapes:
 * - ours: name, severity, summary and optional labels, device, status, startsAt, endsAt, ...,
 *   completed the same way fleet-health completes its own;
 * - Alertmanager's (its API's postable alert): `{labels: {alertname, ...}, annotations?, startsAt?,
 *   endsAt?, generatorURL?}`, where the labels are the whole identity: any severity, or none.
 * Never throws: anything else is a field error. Label counts and sizes are bounded so one flow
 * cannot make the alert state unsavable.
 */
import { isWellFormed } from './matcher-parse';
import { isAlertTime, makeAlert, type FleetAlert } from '../alert-shape';

export type AlertInput = { ok: true; value: FleetAlert } | { ok: false; field: string; reason: string };

/** What one alert may carry (labels include alertname, severity and device). */
export const ALERT_LIMITS = {
  labels: 64,
  labelNameLength: 128,
  labelValueLength: 1024,
  summaryLength: 2000,
  descriptionLength: 16_384,
  annotations: 64,
  annotationValueLength: 16_384,
} as const;

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
type Fail = { ok: false; field: string; reason: string };
const bad = (field: string, reason: string): Fail => ({ ok: false, field, reason });

/** Go's zero time: what Alertmanager clients send for "not set". */
const GO_ZERO_TIME = -62_135_596_800_000; // 0001-01-01T00:00:00Z

/** A time as epoch ms or ISO 8601, within what a Date prints (years 1970 to 9999); undefined when unset. */
function time(x: unknown, field: string): number | undefined | Fail {
  if (x === undefined || x === null) return undefined;
  let t: number;
  if (typeof x === 'number') t = x;
  else if (typeof x === 'string' && x.length <= 64) t = Date.parse(x);
  else return bad(field, 'must be a time (ISO 8601 or epoch ms)');
  if (t === GO_ZERO_TIME) return undefined;
  if (!isAlertTime(t)) return bad(field, 'must be a time (ISO 8601 or epoch ms) between 1970 and 9999');
  return t;
}

const isFail = (x: unknown): x is Fail => isObj(x) && x.ok === false;

/** Labels as a fresh map of text, checked against ALERT_LIMITS. */
function readLabels(x: unknown, field: string): Record<string, string> | Fail {
  if (x === undefined) return {};
  if (!isObj(x)) return bad(field, 'must map label names to text');
  const keys = Object.keys(x);
  if (keys.length > ALERT_LIMITS.labels) return bad(field, `has ${keys.length} labels; at most ${ALERT_LIMITS.labels}`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = x[k];
    if (k === '' || k.length > ALERT_LIMITS.labelNameLength || !isWellFormed(k)) return bad(field, `label name ${JSON.stringify(k.slice(0, 64))} must be 1 to ${ALERT_LIMITS.labelNameLength} characters of text`);
    if (typeof v !== 'string') return bad(`${field}.${k}`, 'must be text');
    if (v.length > ALERT_LIMITS.labelValueLength || !isWellFormed(v)) return bad(`${field}.${k}`, `must be text of at most ${ALERT_LIMITS.labelValueLength} characters`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function readAnnotations(x: unknown): Record<string, string> | Fail {
  if (x === undefined || x === null) return {};
  if (!isObj(x)) return bad('payload.annotations', 'must map names to text');
  const keys = Object.keys(x);
  if (keys.length > ALERT_LIMITS.annotations) return bad('payload.annotations', `has ${keys.length} annotations; at most ${ALERT_LIMITS.annotations}`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = x[k];
    if (typeof v !== 'string' || v.length > ALERT_LIMITS.annotationValueLength || k.length > ALERT_LIMITS.labelNameLength) return bad(`payload.annotations.${k.slice(0, 64)}`, `must be text of at most ${ALERT_LIMITS.annotationValueLength} characters`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const own = (o: Record<string, string>, k: string): string | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);

/** Alertmanager's postable alert: the labels are the identity. */
function readAlertmanagerAlert(x: Record<string, unknown>, now: number): AlertInput {
  const labels = readLabels(x.labels, 'payload.labels');
  if (isFail(labels)) return labels;
  if (Object.values(labels).every((v) => v === '')) return bad('payload.labels', 'an alert needs at least one label with a value');
  const annotations = readAnnotations(x.annotations);
  if (isFail(annotations)) return annotations;
  const startsAt = time(x.startsAt, 'payload.startsAt');
  if (isFail(startsAt)) return startsAt;
  const endsAt = time(x.endsAt, 'payload.endsAt');
  if (isFail(endsAt)) return endsAt;
  if (x.generatorURL !== undefined && (typeof x.generatorURL !== 'string' || x.generatorURL.length > 2048)) return bad('payload.generatorURL', 'must be a URL of at most 2,048 characters');
  // As Alertmanager's API does: no start time but an end time, and the end time is the start.
  const start = startsAt ?? endsAt ?? now;
  if (endsAt !== undefined && endsAt < start) return bad('payload.endsAt', 'must not be before startsAt');
  const alertname = own(labels, 'alertname') ?? '';
  const severity = own(labels, 'severity') ?? '';
  const device = own(labels, 'device') ?? '';
  const rest = withoutIdentity(labels);
  const summary = own(annotations, 'summary') || own(annotations, 'description') || alertname || Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(' ');
  // Alertmanager reads an endsAt in the past as resolved; one in the future is the time it would
  // resolve by itself, which fleet-alerts does not schedule, so the alert is firing.
  const resolved = endsAt !== undefined && endsAt <= now;
  return {
    ok: true,
    value: makeAlert({
      name: alertname, severity, device: device || null, labels: rest,
      summary: summary.slice(0, ALERT_LIMITS.summaryLength), description: own(annotations, 'description'),
      startsAt: start, endsAt: resolved ? endsAt : null, source: 'alertmanager',
      details: { annotations, ...(typeof x.generatorURL === 'string' ? { generatorURL: x.generatorURL } : {}) },
    }),
  };
}

function withoutIdentity(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k !== 'alertname' && k !== 'severity' && k !== 'device') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Details are kept as plain JSON data (a copy), at most DETAILS_BYTES of it. */
export const DETAILS_BYTES = 65_536;
function readDetails(x: unknown): Record<string, unknown> | undefined | Fail {
  if (!isObj(x)) return undefined;
  let text: string | undefined;
  try { text = JSON.stringify(x); } catch { return bad('payload.details', 'must be plain JSON data'); }
  if (text === undefined || text.length > DETAILS_BYTES) return bad('payload.details', `must be plain JSON data of at most ${DETAILS_BYTES.toLocaleString('en')} characters`);
  return JSON.parse(text) as Record<string, unknown>;
}

export function readAlert(x: unknown, now: number): AlertInput {
  if (!isObj(x)) return bad('payload', 'an alert is an object: {name, severity, summary, ...} or Alertmanager\'s {labels: {alertname, ...}, annotations, startsAt, endsAt}');
  if (x.name === undefined && isObj(x.labels)) return readAlertmanagerAlert(x, now);
  if (typeof x.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(x.name)) return bad('payload.name', 'must be an alert name such as DeviceOffline');
  if (typeof x.severity !== 'string' || x.severity === '' || x.severity.length > ALERT_LIMITS.labelValueLength || !isWellFormed(x.severity)) {
    return bad('payload.severity', `must be a severity such as critical, major, minor, warning or info (any text up to ${ALERT_LIMITS.labelValueLength} characters)`);
  }
  if (typeof x.summary !== 'string' || x.summary.length === 0 || x.summary.length > ALERT_LIMITS.summaryLength) return bad('payload.summary', `must be a text of 1 to ${ALERT_LIMITS.summaryLength.toLocaleString('en')} characters`);
  if (x.description !== undefined && (typeof x.description !== 'string' || x.description.length > ALERT_LIMITS.descriptionLength)) return bad('payload.description', `must be a text of at most ${ALERT_LIMITS.descriptionLength.toLocaleString('en')} characters`);
  const labels = readLabels(x.labels, 'payload.labels');
  if (isFail(labels)) return labels;
  if (x.device !== undefined && x.device !== null && (typeof x.device !== 'string' || x.device.length > ALERT_LIMITS.labelValueLength)) return bad('payload.device', 'must be a device id or null');
  if (x.status !== undefined && x.status !== 'firing' && x.status !== 'resolved') return bad('payload.status', 'must be firing or resolved');
  const startsAt = time(x.startsAt, 'payload.startsAt');
  if (isFail(startsAt)) return startsAt;
  const endsAtRead = time(x.endsAt, 'payload.endsAt');
  if (isFail(endsAtRead)) return endsAtRead;
  let endsAt = endsAtRead ?? null;
  if (x.status === 'resolved' && endsAt === null) endsAt = now;
  // Our own labels are recomputed, so a fingerprint never depends on who completed the alert.
  const rest = withoutIdentity(labels);
  if (Object.keys(rest).length + 3 > ALERT_LIMITS.labels) return bad('payload.labels', `at most ${ALERT_LIMITS.labels - 3} labels besides alertname, severity and device`);
  if (x.source !== undefined && (typeof x.source !== 'string' || x.source.length > 128)) return bad('payload.source', 'must be a text of at most 128 characters');
  const details = readDetails(x.details);
  if (isFail(details)) return details;
  return {
    ok: true,
    value: makeAlert({
      name: x.name, severity: x.severity, device: typeof x.device === 'string' && x.device !== '' ? x.device : null, labels: rest,
      summary: x.summary, description: typeof x.description === 'string' ? x.description : undefined,
      startsAt: startsAt ?? now, endsAt, source: typeof x.source === 'string' ? x.source : 'flow',
      details,
    }),
  };
}
