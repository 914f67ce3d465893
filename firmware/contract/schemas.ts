/**
 * The wire contract's JSON Schemas, compiled once per contract version and per
 * unknown-field policy. Schema files are plain JSON so firmware teams can use them as they are.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

import esp32c3Sensor from './schemas/v1/esp32c3-sensor.json';
import esp32c3Heartbeat from './schemas/v1/esp32c3-heartbeat.json';
import esp32c3Status from './schemas/v1/esp32c3-status.json';
import esp32Health from './schemas/v1/esp32-health.json';
import esp32Metrics from './schemas/v1/esp32-metrics.json';
import esp32Log from './schemas/v1/esp32-log.json';
import esp32Alert from './schemas/v1/esp32-alert.json';
import presence from './schemas/v1/presence.json';
import audioHealth from './schemas/v1/audio-health.json';
import csiData from './schemas/v1/csi-data.json';
import csiStats from './schemas/v1/csi-stats.json';
import csiHeartbeat from './schemas/v1/csi-heartbeat.json';
import otaUpdate from './schemas/v1/ota-update.json';
import otaCancel from './schemas/v1/ota-cancel.json';
import otaProgress from './schemas/v1/ota-progress.json';
import configUpdate from './schemas/v1/config-update.json';
import command from './schemas/v1/command.json';
import emergency from './schemas/v1/emergency.json';
import steelLoad from './schemas/v1/steel-load.json';
import steelResult from './schemas/v1/steel-result.json';
import steelProgramLoad from './schemas/v1/steel-program-load.json';
import steelProgramRequest from './schemas/v1/steel-program-request.json';
import steelProgramStatus from './schemas/v1/steel-program-status.json';
import steelStatusFullReport from './schemas/v1/steel-status-full-report.json';
import steelProgramResult from './schemas/v1/steel-program-result.json';
import steelShadowUpdate from './schemas/v1/steel-shadow-update.json';
import steelOtaStatus from './schemas/v1/steel-ota-status.json';
import steelOtaFirmwareRequest from './schemas/v1/steel-ota-firmware-request.json';
import ti0162Sensor from './schemas/v1/ti0162-sensor.json';
import ti0162Status from './schemas/v1/ti0162-status.json';
import ti0162libSensor from './schemas/v1/ti0162lib-sensor.json';
import ti0162libHeartbeat from './schemas/v1/ti0162lib-heartbeat.json';
import ti0162libStatus from './schemas/v1/ti0162lib-status.json';
import whofiEsphomeData from './schemas/v1/whofi-esphome-data.json';
import whofiArduinoData from './schemas/v1/whofi-arduino-data.json';
import whofiIdfData from './schemas/v1/whofi-idf-data.json';
import whofiIdfStatus from './schemas/v1/whofi-idf-status.json';
import whofiIdfMetrics from './schemas/v1/whofi-idf-metrics.json';
import whofiIdfAlert from './schemas/v1/whofi-idf-alert.json';
import whofiIdfCommand from './schemas/v1/whofi-idf-command.json';
import whofiPresence from './schemas/v1/whofi-presence.json';
import whofiPracticalData from './schemas/v1/whofi-practical-data.json';
import csiConfig from './schemas/v1/csi-config.json';
import deviceConfig from './schemas/v1/device-config.json';
import deviceConfigUpdate from './schemas/v1/device-config-update.json';
import deviceConfigAck from './schemas/v1/device-config-ack.json';

/** The contract version this build speaks. A payload may name its version in `v`. */
export const CONTRACT_VERSION = 1;
export const SUPPORTED_VERSIONS: readonly number[] = [1];

const V1 = {
  'esp32c3-sensor': esp32c3Sensor,
  'esp32c3-heartbeat': esp32c3Heartbeat,
  'esp32c3-status': esp32c3Status,
  'esp32-health': esp32Health,
  'esp32-metrics': esp32Metrics,
  'esp32-log': esp32Log,
  'esp32-alert': esp32Alert,
  presence,
  'audio-health': audioHealth,
  'csi-data': csiData,
  'csi-stats': csiStats,
  'csi-heartbeat': csiHeartbeat,
  'ota-update': otaUpdate,
  'ota-cancel': otaCancel,
  'ota-progress': otaProgress,
  'config-update': configUpdate,
  command,
  emergency,
  'steel-load': steelLoad,
  'steel-result': steelResult,
  // The aws-iot-steel device's own messages (steel.ts): what the topic map's steel.* routes check.
  'steel-program-load': steelProgramLoad,
  'steel-program-request': steelProgramRequest,
  'steel-program-status': steelProgramStatus,
  'steel-status-full-report': steelStatusFullReport,
  'steel-program-result': steelProgramResult,
  'steel-shadow-update': steelShadowUpdate,
  // The aws-iot-steel device's OTA records (ota.ts OTA_ROUTES).
  'steel-ota-status': steelOtaStatus,
  'steel-ota-firmware-request': steelOtaFirmwareRequest,
  'ti0162-sensor': ti0162Sensor,
  'ti0162-status': ti0162Status,
  'ti0162lib-sensor': ti0162libSensor,
  'ti0162lib-heartbeat': ti0162libHeartbeat,
  'ti0162lib-status': ti0162libStatus,
  'whofi-esphome-data': whofiEsphomeData,
  'whofi-arduino-data': whofiArduinoData,
  'whofi-idf-data': whofiIdfData,
  'whofi-idf-status': whofiIdfStatus,
  'whofi-idf-metrics': whofiIdfMetrics,
  'whofi-idf-alert': whofiIdfAlert,
  'whofi-idf-command': whofiIdfCommand,
  'whofi-presence': whofiPresence,
  'whofi-practical-data': whofiPracticalData,
  'csi-config': csiConfig,
  'device-config': deviceConfig,
  'device-config-update': deviceConfigUpdate,
  'device-config-ack': deviceConfigAck,
} as const;

export type SchemaName = keyof typeof V1;
export type JsonSchema = Record<string, unknown>;

const SCHEMAS_BY_VERSION: Readonly<Record<number, Readonly<Record<SchemaName, JsonSchema>>>> = { 1: V1 };

/**
 * keep: unknown fields pass through untouched (firmware may add fields before we learn of them)
 * strip: unknown fields are removed from the reading
 * reject: an unknown field makes the message a reject
 */
export type UnknownFieldPolicy = 'keep' | 'strip' | 'reject';

export function schemaFor(name: SchemaName, version = CONTRACT_VERSION): JsonSchema {
  const set = Object.prototype.hasOwnProperty.call(SCHEMAS_BY_VERSION, version) ? SCHEMAS_BY_VERSION[version] : undefined;
  if (!set || !Object.prototype.hasOwnProperty.call(set, name)) throw new Error(`contract version ${version} has no schema ${String(name)}`);
  return set[name];
}

export function schemaNames(): SchemaName[] {
  return Object.keys(V1) as SchemaName[];
}

/** Deep copy of a schema with additionalProperties:false on every object that lists properties. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === 'examples' ? v : closed(v);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export interface SchemaError {
  /** JSON pointer of the failing field, e.g. `/metrics/cpu_usage_percent`; empty for the whole payload. */
  readonly path: string;
  readonly reason: string;
}

/** `finiteChecked`: the caller knows the data holds no NaN or Infinity (JSON text without huge numbers). */
export type Validator = (data: unknown, finiteChecked?: boolean) => SchemaError | null;

function firstError(errors: ErrorObject[] | null | undefined): SchemaError {
  const e = errors?.[0];
  if (!e) return { path: '', reason: 'invalid' };
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { path: `${e.instancePath}/${missing}`, reason: `is required` };
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return { path: `${e.instancePath}/${extra}`, reason: 'is not a field of the contract' };
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    return { path: e.instancePath, reason: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}` };
  }
  return { path: e.instancePath, reason: e.message ?? e.keyword };
}

/**
 * JSON Schema's `number` admits Infinity (and JSON.parse turns 1e400 into it); a function node can
 * hand us NaN. Neither is a reading, so the decoder looks for them before the schema does.
 */
export function nonFinitePath(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== 'object' || depth > 8) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = nonFinitePath(value[i], `${path}/${i}`, depth + 1);
      if (p !== null) return p;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const p = nonFinitePath((value as Record<string, unknown>)[key], `${path}/${key}`, depth + 1);
    if (p !== null) return p;
  }
  return null;
}

/** Compiles validators lazily, once per (version, policy, schema), and keeps them. */
export class SchemaBook {
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv: Record<UnknownFieldPolicy, Ajv>;

  constructor() {
    const base = { allErrors: false, strict: false, allowUnionTypes: true } as const;
    this.ajv = {
      keep: new Ajv(base),
      strip: new Ajv({ ...base, removeAdditional: true }),
      reject: new Ajv(base),
    };
  }

  validator(name: SchemaName, policy: UnknownFieldPolicy, version = CONTRACT_VERSION): Validator {
    const key = `${version}:${policy}:${name}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      const raw = schemaFor(name, version);
      const schema = policy === 'keep' ? raw : (closed(raw) as JsonSchema);
      const { $id: _id, ...withoutId } = schema;
      fn = this.ajv[policy].compile(withoutId);
      this.compiled.set(key, fn);
    }
    const f = fn;
    return (data, finiteChecked = false) => {
      const nonFinite = finiteChecked ? null : nonFinitePath(data);
      if (nonFinite !== null) return { path: nonFinite, reason: 'must be a finite number (NaN and Infinity are not readings)' };
      return f(data) ? null : firstError(f.errors);
    };
  }
}
