/**
 * The project's one alert shape: what fleet-health raises, what a device's own alert becomes, and
 * what fleet-alerts routes. Modelled on Alertmanager's alert (labels, annotations, startsAt, endsAt,
 * fingerprint) so operators recognise it.
 */
import { createHash } from 'node:crypto';

export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

export interface FleetAlert {
  /** Alert name, also in labels.alertname, e.g. DeviceCritical. */
  readonly name: string;
  readonly severity: Severity;
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
  readonly severity: Severity;
  readonly device: string | null;
  readonly labels?: Readonly<Record<string, string | null | undefined>>;
  readonly summary: string;
  readonly description?: string;
  readonly startsAt: number;
  readonly endsAt?: number | null;
  readonly source: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export function makeAlert(a: AlertInput): FleetAlert {
  const labels: Record<string, string> = { alertname: a.name, severity: a.severity };
  if (a.device) labels.device = a.device;
  for (const [k, v] of Object.entries(a.labels ?? {})) if (typeof v === 'string' && v !== '') labels[k] = v;
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
  const severity = (payload.severity === 'critical' || payload.severity === 'warning' || payload.severity === 'info' ? payload.severity : 'warning') as Severity;
  const message = typeof payload.message === 'string' ? payload.message : 'device alert';
  return makeAlert({
    name: 'DeviceReported', severity, device, labels: { ...labels, message }, summary: `${device}: ${message}`,
    startsAt: typeof payload.timestamp === 'number' ? payload.timestamp : at, source: 'device', details: { payload },
  });
}
