/**
 * Health scoring configuration: every factor's thresholds and costs, per-kind overrides, silence
 * rules and hysteresis, with defaults from the fleet's deployment guides. Versioned, so a flow saved
 * today still scores the same way after an upgrade, and every output names the version it used.
 */
import { DEVICE_KINDS, KIND, type DeviceKind } from '../../firmware/contract/topics';

export const HEALTH_CONFIG_VERSION = 1;

export type FactorName =
  | 'heap' | 'memory' | 'cpu' | 'rssi' | 'sensor-age' | 'sensor-timing' | 'invalid-readings'
  | 'stuck-sensor' | 'restarts' | 'errors' | 'device-reported' | 'ota' | 'steel';

/** `lower`: small values are bad (free heap, RSSI). `higher`: large values are bad. */
export type Direction = 'lower' | 'higher';

export interface FactorConfig {
  enabled: boolean;
  direction: Direction;
  warn: number;
  crit: number;
  /** Points a warning costs; a critical costs `critCost`. */
  warnCost: number;
  critCost: number;
  unit: string;
  /** What the factor measures, for help text and reasons. */
  label: string;
}

export interface HealthConfig {
  version: number;
  factors: Record<FactorName, FactorConfig>;
  /** Overrides per device kind, e.g. audio devices need 50 KB of free heap, not 5 KB. */
  kinds: Partial<Record<DeviceKind, Partial<Record<FactorName, Partial<FactorConfig>>>>>;
  /** Offline after `multiple` × the expected interval without a message. */
  silence: { multiple: number; intervals: Record<DeviceKind, number> };
  /** Consecutive evaluations a worse (raise) or better (clear) state must hold before it is taken. */
  hysteresis: { raiseAfter: number; clearAfter: number };
  /** Score bands: several warnings together can make a device degraded or critical. */
  degradedBelow: number;
  criticalBelow: number;
  /** Windows for counted factors, in seconds. */
  windows: { restarts: number; invalidReadings: number; failures: number };
}

const f = (label: string, unit: string, direction: Direction, warn: number, crit: number, warnCost: number, critCost: number): FactorConfig =>
  ({ enabled: true, label, unit, direction, warn, crit, warnCost, critCost });

export function defaultHealthConfig(): HealthConfig {
  return {
    version: HEALTH_CONFIG_VERSION,
    factors: {
      heap: f('free heap', 'B', 'lower', 5000, 2500, 20, 45),
      memory: f('memory use', '%', 'higher', 80, 95, 10, 30),
      cpu: f('CPU use', '%', 'higher', 70, 90, 10, 30),
      rssi: f('Wi-Fi signal', 'dBm', 'lower', -70, -80, 10, 25),
      'sensor-age': f('sensor reading age', 's', 'higher', 120, 600, 15, 45),
      'sensor-timing': f('sensor read time', 'μs', 'higher', 500, 1000, 5, 15),
      'invalid-readings': f('rejected readings', 'in window', 'higher', 1, 5, 10, 30),
      'stuck-sensor': f('identical readings in a row', 'readings', 'higher', 10, 30, 15, 30),
      restarts: f('restarts', 'in window', 'higher', 1, 3, 10, 45),
      errors: f('error rate', '/h', 'higher', 10, 60, 5, 20),
      'device-reported': f('device-reported health', 'level', 'higher', 1, 2, 15, 45),
      ota: f('OTA failures', 'in window', 'higher', 1, 3, 10, 25),
      steel: f('failed Steel programs', 'in window', 'higher', 1, 3, 10, 25),
    },
    kinds: {
      [KIND.audioDevice]: { heap: { warn: 50 * 1024, crit: 25 * 1024 } },
      [KIND.csiSensor]: { heap: { warn: 20 * 1024, crit: 10 * 1024 } },
    },
    silence: { multiple: 2, intervals: { [KIND.envSensor]: 30, [KIND.envMonitor]: 60, [KIND.csiSensor]: 5, [KIND.audioDevice]: 30, [KIND.steelDevice]: 300 } },
    hysteresis: { raiseAfter: 2, clearAfter: 2 },
    degradedBelow: 70,
    criticalBelow: 40,
    windows: { restarts: 3600, invalidReadings: 600, failures: 3600 },
  };
}

export const FACTOR_NAMES = Object.keys(defaultHealthConfig().factors) as FactorName[];
const KINDS: readonly DeviceKind[] = DEVICE_KINDS;

export type HealthConfigResult = { ok: true; value: HealthConfig } | { ok: false; field: string; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const num = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

function checkFactorPatch(patch: unknown, field: string): string | null {
  if (!isObj(patch)) return `${field} must be an object`;
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'enabled') { if (typeof v !== 'boolean') return `${field}.enabled must be true or false`; continue; }
    if (['warn', 'crit', 'warnCost', 'critCost'].includes(k)) { if (!num(v)) return `${field}.${k} must be a number`; continue; }
    if (k === 'direction') { if (v !== 'lower' && v !== 'higher') return `${field}.direction must be "lower" or "higher"`; continue; }
    if (k === 'unit' || k === 'label') { if (typeof v !== 'string' || v.length > 100) return `${field}.${k} must be text of at most 100 characters`; continue; }
    return `${field}.${k} is not a factor setting (enabled, warn, crit, warnCost, critCost)`;
  }
  return null;
}

function checkFactor(fc: FactorConfig, field: string): string | null {
  const worse = fc.direction === 'lower' ? fc.crit <= fc.warn : fc.crit >= fc.warn;
  if (!worse) return `${field}: crit (${fc.crit}) must be ${fc.direction === 'lower' ? 'at or below' : 'at or above'} warn (${fc.warn})`;
  if (fc.warnCost < 0 || fc.critCost < fc.warnCost || fc.critCost > 100) return `${field}: costs must satisfy 0 ≤ warnCost ≤ critCost ≤ 100`;
  return null;
}

/**
 * Reads a saved configuration (a partial one is filled from the defaults) and checks it, naming the
 * field at fault. Also used for `msg.thresholds`, which patches the node's configuration for one message.
 */
export function parseHealthConfig(saved: unknown, base: HealthConfig = defaultHealthConfig()): HealthConfigResult {
  if (saved === undefined || saved === null || saved === '') return { ok: true, value: base };
  let raw: unknown = saved;
  if (typeof raw === 'string') {
    try { raw = JSON.parse(raw); } catch (err) { return { ok: false, field: 'config', reason: `not valid JSON: ${(err as Error).message}` }; }
  }
  if (!isObj(raw)) return { ok: false, field: 'config', reason: 'must be an object' };
  const version = raw.version ?? HEALTH_CONFIG_VERSION;
  if (version !== HEALTH_CONFIG_VERSION) return { ok: false, field: 'version', reason: `scoring configuration version ${String(version)} is not one this package reads (${HEALTH_CONFIG_VERSION})` };

  const out: HealthConfig = structuredClone(base);
  if (raw.factors !== undefined) {
    if (!isObj(raw.factors)) return { ok: false, field: 'factors', reason: 'must be an object of factor name → settings' };
    for (const [name, patch] of Object.entries(raw.factors)) {
      if (!(FACTOR_NAMES as string[]).includes(name)) return { ok: false, field: `factors.${name}`, reason: `unknown factor; known: ${FACTOR_NAMES.join(', ')}` };
      const problem = checkFactorPatch(patch, `factors.${name}`);
      if (problem) return { ok: false, field: `factors.${name}`, reason: problem };
      Object.assign(out.factors[name as FactorName], patch);
      const bad = checkFactor(out.factors[name as FactorName], `factors.${name}`);
      if (bad) return { ok: false, field: `factors.${name}`, reason: bad };
    }
  }
  if (raw.kinds !== undefined) {
    if (!isObj(raw.kinds)) return { ok: false, field: 'kinds', reason: 'must be an object of device kind → factor overrides' };
    for (const [kind, factors] of Object.entries(raw.kinds)) {
      if (!(KINDS as string[]).includes(kind)) return { ok: false, field: `kinds.${kind}`, reason: `unknown device kind; known: ${KINDS.join(', ')}` };
      if (!isObj(factors)) return { ok: false, field: `kinds.${kind}`, reason: 'must be an object of factor name → settings' };
      const target = (out.kinds[kind as DeviceKind] ??= {});
      for (const [name, patch] of Object.entries(factors)) {
        if (!(FACTOR_NAMES as string[]).includes(name)) return { ok: false, field: `kinds.${kind}.${name}`, reason: 'unknown factor' };
        const problem = checkFactorPatch(patch, `kinds.${kind}.${name}`);
        if (problem) return { ok: false, field: `kinds.${kind}.${name}`, reason: problem };
        target[name as FactorName] = { ...target[name as FactorName], ...(patch as Partial<FactorConfig>) };
        const bad = checkFactor({ ...out.factors[name as FactorName], ...target[name as FactorName] }, `kinds.${kind}.${name}`);
        if (bad) return { ok: false, field: `kinds.${kind}.${name}`, reason: bad };
      }
    }
  }
  if (raw.silence !== undefined) {
    if (!isObj(raw.silence)) return { ok: false, field: 'silence', reason: 'must be an object' };
    const { multiple, intervals } = raw.silence;
    if (multiple !== undefined) {
      if (!num(multiple) || (multiple as number) < 1 || (multiple as number) > 100) return { ok: false, field: 'silence.multiple', reason: 'must be a number from 1 to 100' };
      out.silence.multiple = multiple as number;
    }
    if (intervals !== undefined) {
      if (!isObj(intervals)) return { ok: false, field: 'silence.intervals', reason: 'must be an object of device kind → seconds' };
      for (const [kind, s] of Object.entries(intervals)) {
        if (!(KINDS as string[]).includes(kind)) return { ok: false, field: `silence.intervals.${kind}`, reason: 'unknown device kind' };
        if (!num(s) || (s as number) <= 0 || (s as number) > 86400) return { ok: false, field: `silence.intervals.${kind}`, reason: 'must be seconds, above 0 and at most 86400' };
        out.silence.intervals[kind as DeviceKind] = s as number;
      }
    }
  }
  if (raw.hysteresis !== undefined) {
    if (!isObj(raw.hysteresis)) return { ok: false, field: 'hysteresis', reason: 'must be an object' };
    for (const k of ['raiseAfter', 'clearAfter'] as const) {
      const v = raw.hysteresis[k];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 100) return { ok: false, field: `hysteresis.${k}`, reason: 'must be a whole number of evaluations from 1 to 100' };
      out.hysteresis[k] = v as number;
    }
  }
  for (const k of ['degradedBelow', 'criticalBelow'] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (!num(v) || (v as number) < 0 || (v as number) > 100) return { ok: false, field: k, reason: 'must be a score from 0 to 100' };
    out[k] = v as number;
  }
  if (out.criticalBelow > out.degradedBelow) return { ok: false, field: 'criticalBelow', reason: 'must not be above degradedBelow' };
  if (raw.windows !== undefined) {
    if (!isObj(raw.windows)) return { ok: false, field: 'windows', reason: 'must be an object' };
    for (const k of ['restarts', 'invalidReadings', 'failures'] as const) {
      const v = raw.windows[k];
      if (v === undefined) continue;
      if (!num(v) || (v as number) < 1 || (v as number) > 7 * 86400) return { ok: false, field: `windows.${k}`, reason: 'must be seconds from 1 to 604800' };
      out.windows[k] = v as number;
    }
  }
  return { ok: true, value: out };
}

/** The factor settings that apply to a device of a kind. */
export function factorFor(config: HealthConfig, kind: DeviceKind | null, name: FactorName): FactorConfig {
  const override = kind ? config.kinds[kind]?.[name] : undefined;
  return override ? { ...config.factors[name], ...override } : config.factors[name];
}

const EFFECTIVE = new WeakMap<HealthConfig, Map<string, ReadonlyArray<readonly [FactorName, FactorConfig]>>>();

/** The enabled factors with their settings for a kind, computed once per configuration and kind. */
export function effectiveFactors(config: HealthConfig, kind: DeviceKind | null): ReadonlyArray<readonly [FactorName, FactorConfig]> {
  let byKind = EFFECTIVE.get(config);
  if (!byKind) { byKind = new Map(); EFFECTIVE.set(config, byKind); }
  const key = kind ?? '';
  let list = byKind.get(key);
  if (!list) {
    list = FACTOR_NAMES.map((name) => [name, factorFor(config, kind, name)] as const).filter(([, fc]) => fc.enabled);
    byKind.set(key, list);
  }
  return list;
}
