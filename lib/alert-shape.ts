/**
 * The project's one alert shape: what fleet-health raises, what a device's own alert becomes, and
 * what fleet-alerts routes. Modelled on Alertmanager's alert (labels, annotations, startsAt, endsAt,
 * fingerprint) so operators recognise it.
 */
import { createHash } from 'node:crypto';

/** The severities fleet-health and devices raise. Alerts from elsewhere may carry any severity. */
export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

export interface FleetAlert {
  /** Alert name, also in labels.alertname, e.g. DeviceCritical ('' for an alert whose labels carry none). */
  readonly name: string;
  /** One of SEVERITIES for our own alerts; any text (or '') for an Alertmanager-style alert. */
  readonly severity: string;
  readonly status: 'firing' | 'resolved';
  /** The device it concerns, or null for a fleet-wide alert. */
  readonly device: string | null;
  /** Identity of the alert: alertname, device, severity, kind, arch, and site/location where known. */
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
  readonly description: string;
  /** ISO 8601. */
  readonly startsAt: string;
  /** ISO 8601 once resolved; null while firing. */
  readonly endsAt: string | null;
  /** Stable hash of the labels: the same alert firing and resolving has the same fingerprint. */
  readonly fingerprint: string;
  /** Which node raised it. */
  readonly source: string;
  /** Extra structured detail (health factors, device payload). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const canonical = Object.keys(labels).sort().map((k) => `${k}\u0000${labels[k]}`).join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export interface AlertInput {
  readonly name: string;
  readonly severity: string;
  readonly device: string | null;
  readonly labels?: Readonly<Record<string, string | null | undefined>>;
  readonly summary: string;
  readonly description?: string;
  readonly startsAt: number;
  readonly endsAt?: number | null;
  readonly source: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Sets a label as an own property: a label named `__proto__` is a label, never a prototype. */
function setLabel(labels: Record<string, string>, k: string, v: string): void {
  Object.defineProperty(labels, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Epoch ms a Date can print as ISO 8601 with a four-digit year: 1970 to 9999. */
export const MAX_TIME_MS = 253_402_300_799_999;
export const isAlertTime = (t: unknown): t is number => typeof t === 'number' && Number.isFinite(t) && t >= 0 && t <= MAX_TIME_MS;

/**
 * The topic our nodes send an alert on: `alert/<alertname>/<device>`, `fleet` when it names none.
 * Flows route on it (the dashboard passes fleet-ota's `alert/…` messages on to fleet-alerts).
 */
export const alertTopic = (a: Pick<FleetAlert, 'labels' | 'device'>): string => `alert/${a.labels.alertname}/${a.device ?? 'fleet'}`;

export function makeAlert(a: AlertInput): FleetAlert {
  // alertname, severity and device come first and cannot be overridden by the other labels; an
  // empty one is absent, as in Prometheus (so an Alertmanager alert without severity has none).
  const labels: Record<string, string> = {};
  if (a.name) labels.alertname = a.name;
  if (a.severity) labels.severity = a.severity;
  if (a.device) labels.device = a.device;
  for (const [k, v] of Object.entries(a.labels ?? {})) if (typeof v === 'string' && v !== '' && !Object.hasOwn(labels, k)) setLabel(labels, k, v);
  const resolved = a.endsAt !== undefined && a.endsAt !== null;
  return {
    name: a.name,
    severity: a.severity,
    status: resolved ? 'resolved' : 'firing',
    device: a.device,
    labels,
    summary: a.summary,
    description: a.description ?? a.summary,
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: resolved ? new Date(a.endsAt as number).toISOString() : null,
    fingerprint: fingerprint(labels),
    source: a.source,
    ...(a.details ? { details: a.details } : {}),
  };
}

/** A device's own alert (esp32/{id}/alerts, whofi devices/{id}/alerts) in the shared shape. */
export function deviceAlert(device: string, payload: Readonly<Record<string, unknown>>, labels: Readonly<Record<string, string | null | undefined>>, at: number): FleetAlert {
  const severity: Severity = payload.severity === 'critical' || payload.severity === 'warning' || payload.severity === 'info' ? payload.severity : 'warning';
  const message = typeof payload.message === 'string' ? payload.message.slice(0, 1024) : 'device alert';
  // A device clock far off (timestamp 9e12 s) is not a reason to lose its alert: the receive time stands in.
  return makeAlert({
    name: 'DeviceReported', severity, device, labels: { ...labels, message }, summary: `${device}: ${message}`,
    startsAt: isAlertTime(payload.timestamp) ? payload.timestamp : at, source: 'device', details: { payload },
  });
}
