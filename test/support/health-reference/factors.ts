/**
 * Each factor turns what we know of a device into ok / warning / critical / unknown, the points it
 * costs and a reason a person can read. A factor without data is `unknown`: it costs nothing and
 * never counts as healthy.
 */
import { KIND } from '../../../firmware/contract/topics';
import type { FactorConfig, FactorName, HealthConfig } from '../../../lib/health/config';
import { ERROR_TAU_MS, errorLoadAt, type DeviceObs } from './observations';

export type FactorStatus = 'ok' | 'warning' | 'critical' | 'unknown';

/** A factor as scored on every message: numbers only, updated in place so scoring allocates nothing. */
export interface FactorScore {
  factor: FactorName;
  status: FactorStatus;
  cost: number;
  value: number | null;
  warn: number;
  crit: number;
}

/** A factor as shown to people: the score and the reason, built only when a message goes out. */
export interface FactorResult extends FactorScore {
  readonly reason: string;
}

/** Factors that only make sense for devices with a BME280. */
const SENSOR_KINDS: ReadonlySet<string> = new Set([KIND.envSensor, KIND.envMonitor]);

const countSince = (events: readonly number[], since: number): number => {
  let c = 0;
  for (let i = events.length - 1; i >= 0 && events[i] >= since; i--) c++;
  return c;
};

const thousands = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const fmt = (v: number, unit: string): string => {
  const r = Math.abs(v) >= 100 ? thousands(v) : String(Math.round(v * 10) / 10);
  return unit === 'in window' || unit === 'readings' || unit === 'level' ? r : `${r} ${unit}`;
};

const LEVEL_WORDS = ['fine', 'degraded', 'in error'];

function value(name: FactorName, o: DeviceObs, c: HealthConfig, now: number): number | null {
  switch (name) {
    case 'heap': return o.freeHeap;
    case 'memory': return o.memUsedPct;
    case 'cpu': return o.cpuPct;
    case 'rssi': return o.rssi;
    case 'sensor-age':
      if (o.kind && !SENSOR_KINDS.has(o.kind)) return null;
      if (o.lastSensorAt !== null) return Math.max(0, (now - o.lastSensorAt) / 1000);
      return o.reportedSensorAge;
    case 'sensor-timing': return o.sensorUs;
    case 'invalid-readings': return countSince(o.invalid, now - c.windows.invalidReadings * 1000);
    case 'stuck-sensor': return o.lastReading === null ? null : o.stuckRun + 1;
    case 'restarts': return o.lastUptime === null && o.lastRestartCount === null && o.restarts.length === 0 ? null : countSince(o.restarts, now - c.windows.restarts * 1000);
    case 'errors': return o.errorLoad === null ? null : errorLoadAt(o, now) / (ERROR_TAU_MS / 3_600_000);
    case 'device-reported': return o.reported;
    case 'ota': return countSince(o.otaFailures, now - c.windows.failures * 1000);
    case 'steel': return countSince(o.steelFailures, now - c.windows.failures * 1000);
  }
}

/** Scores a factor into `into` (reused between messages) or a new object. */
export function scoreFactor(name: FactorName, fc: FactorConfig, o: DeviceObs, c: HealthConfig, now: number, into?: FactorScore): FactorScore {
  const v = value(name, o, c, now);
  let status: FactorStatus = 'unknown';
  let cost = 0;
  if (v !== null) {
    const lower = fc.direction === 'lower';
    if (lower ? v < fc.crit : v >= fc.crit) { status = 'critical'; cost = fc.critCost; }
    else if (lower ? v < fc.warn : v >= fc.warn) { status = 'warning'; cost = fc.warnCost; }
    else status = 'ok';
  }
  const r = into ?? { factor: name, status, cost, value: v, warn: fc.warn, crit: fc.crit };
  r.factor = name;
  r.status = status;
  r.cost = cost;
  r.value = v;
  r.warn = fc.warn;
  r.crit = fc.crit;
  return r;
}

export function explain(f: FactorScore, fc: FactorConfig): FactorResult {
  const { label, unit, direction } = fc;
  let reason: string;
  if (f.value === null) reason = `${label}: no data yet`;
  else {
    const shown = f.factor === 'device-reported' ? LEVEL_WORDS[f.value] ?? String(f.value) : fmt(f.value, unit);
    const side = direction === 'lower' ? 'under' : 'at or over';
    reason = f.status === 'critical' ? `${label} ${shown} ${side} the critical ${fmt(f.crit, unit)}`
      : f.status === 'warning' ? `${label} ${shown} ${side} the warning ${fmt(f.warn, unit)}`
      : `${label} ${shown}`;
  }
  return { factor: f.factor, status: f.status, cost: f.cost, value: f.value, warn: f.warn, crit: f.crit, reason };
}

/**
 * Factors that count events: zero events reads as `ok`, but says nothing about the device's own
 * condition, so a device known only through these is not called healthy.
 */
export const EVENT_FACTORS: ReadonlySet<FactorName> = new Set(['invalid-readings', 'ota', 'steel']);
