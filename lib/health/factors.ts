/**
 * Each factor turns what we know of a device into ok / warning / critical / unknown, the points it
 * costs and a reason a person can read. A factor without data is `unknown`: it costs nothing and
 * never counts as healthy.
 */
import { factorFor, type FactorName, type HealthConfig } from './config';
import { ERROR_TAU_MS, errorLoadAt, type DeviceObs } from './observations';

export type FactorStatus = 'ok' | 'warning' | 'critical' | 'unknown';

export interface FactorResult {
  readonly factor: FactorName;
  readonly status: FactorStatus;
  readonly cost: number;
  readonly value: number | null;
  readonly warn: number;
  readonly crit: number;
  readonly reason: string;
}

/** Factors that only make sense for devices with a BME280. */
const SENSOR_KINDS = new Set(['env-sensor', 'env-monitor']);

const countSince = (events: readonly number[], since: number): number => {
  let c = 0;
  for (let i = events.length - 1; i >= 0 && events[i] >= since; i--) c++;
  return c;
};

const fmt = (v: number, unit: string): string => {
  const r = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 10) / 10);
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

export function evaluateFactor(name: FactorName, o: DeviceObs, c: HealthConfig, now: number): FactorResult | null {
  const fc = factorFor(c, o.kind, name);
  if (!fc.enabled) return null;
  const v = value(name, o, c, now);
  const base = { factor: name, value: v, warn: fc.warn, crit: fc.crit };
  if (v === null) return { ...base, status: 'unknown', cost: 0, reason: `${fc.label}: no data yet` };
  const worse = (a: number, b: number): boolean => (fc.direction === 'lower' ? a < b : a >= b);
  const shown = name === 'device-reported' ? LEVEL_WORDS[v] ?? String(v) : fmt(v, fc.unit);
  if (worse(v, fc.crit)) {
    return { ...base, status: 'critical', cost: fc.critCost, reason: `${fc.label} ${shown} ${fc.direction === 'lower' ? 'under' : 'at or over'} the critical ${fmt(fc.crit, fc.unit)}` };
  }
  if (worse(v, fc.warn)) {
    return { ...base, status: 'warning', cost: fc.warnCost, reason: `${fc.label} ${shown} ${fc.direction === 'lower' ? 'under' : 'at or over'} the warning ${fmt(fc.warn, fc.unit)}` };
  }
  return { ...base, status: 'ok', cost: 0, reason: `${fc.label} ${shown}` };
}

/**
 * Factors that count events: zero events reads as `ok`, but says nothing about the device's own
 * condition, so a device known only through these is not called healthy.
 */
export const EVENT_FACTORS: ReadonlySet<FactorName> = new Set(['invalid-readings', 'ota', 'steel']);
