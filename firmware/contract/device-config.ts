/**
 * The device configuration of the environmental monitoring guide (dev.config.toml and
 * prod.config.toml: [network], [sensor], [system]) as a contract: its field names, the short
 * names a fleet file may use for them, its JSON Schema, and the hash a device reports back.
 * Secrets never appear here as values: a secret field holds a `${NAME}` reference.
 */
import { createHash } from 'node:crypto';

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

import deviceConfigSchema from './schemas/v1/device-config.json';
import deviceConfigUpdateSchema from './schemas/v1/device-config-update.json';
import deviceConfigAckSchema from './schemas/v1/device-config-ack.json';

export const DEVICE_CONFIG_SECTIONS = ['network', 'sensor', 'system'] as const;
export type DeviceConfigSection = (typeof DEVICE_CONFIG_SECTIONS)[number];

export interface DeviceConfigField {
  readonly section: DeviceConfigSection;
  readonly name: string;
  /** Holds a `${NAME}` reference; its value is only put in the message sent to the device. */
  readonly secret: boolean;
}

const field = (section: DeviceConfigSection, name: string, secret = false): DeviceConfigField => ({ section, name, secret });

/** Every leaf of the configuration; leaf names are unique across sections, so a leaf name alone says where it goes. */
export const DEVICE_CONFIG_FIELDS: readonly DeviceConfigField[] = [
  field('network', 'wifi_ssid'),
  field('network', 'wifi_password', true),
  field('network', 'mqtt_broker'),
  field('network', 'mqtt_port'),
  field('network', 'mqtt_username'),
  field('network', 'mqtt_password', true),
  field('network', 'tls_enabled'),
  field('network', 'device_id_prefix'),
  field('sensor', 'bme280_address'),
  field('sensor', 'measurement_interval_seconds'),
  field('sensor', 'calibration_offset_temp'),
  field('system', 'log_level'),
  field('system', 'heartbeat_interval_minutes'),
  field('system', 'status_report_interval_minutes'),
  field('system', 'watchdog_timeout_seconds'),
];

/**
 * Other names for fields: `measurement_interval` is the guide's own (fleet_config.yaml overrides and
 * the Rust DeviceConfig, in seconds). `heartbeat_interval` and `status_report_interval` are not
 * aliases: the first contract's config-update sent `heartbeat_interval` in seconds where the guide's
 * field is in minutes, so a fleet file must say which (the error suggests the `_minutes` name).
 */
export const DEVICE_CONFIG_ALIASES: ReadonlyMap<string, string> = new Map([
  ['measurement_interval', 'measurement_interval_seconds'],
  ['watchdog_timeout', 'watchdog_timeout_seconds'],
  ['mqtt_host', 'mqtt_broker'],
  ['tls', 'tls_enabled'],
]);

/**
 * A value as a fleet file may write it, in the form the schema checks. The guide's TOML writes
 * `bme280_address = 0x76`; YAML reads `0x76` as 118, but JSON (a msg.payload fleet object) and a
 * quoted YAML value can only say "0x76".
 */
export function normaliseConfigValue(field: DeviceConfigField, value: ConfigScalar): ConfigScalar {
  if (field.name === 'bme280_address' && typeof value === 'string' && /^0x[0-9a-f]{1,2}$/i.test(value.trim())) return Number(value.trim());
  return value;
}

export const FIELDS_BY_NAME: ReadonlyMap<string, DeviceConfigField> = new Map(DEVICE_CONFIG_FIELDS.map((f) => [f.name, f]));

/** The field a leaf name or alias stands for, or undefined. */
export function configField(name: string): DeviceConfigField | undefined {
  return FIELDS_BY_NAME.get(DEVICE_CONFIG_ALIASES.get(name) ?? name);
}

export type ConfigScalar = string | number | boolean;
export type DeviceConfigSectionValues = Readonly<Record<string, ConfigScalar>>;

/** The stored form: device_id plus the three sections, secrets as references. */
export interface DeviceConfig {
  readonly device_id: string;
  readonly network: DeviceConfigSectionValues;
  readonly sensor: DeviceConfigSectionValues;
  readonly system?: DeviceConfigSectionValues;
}

/** `${NAME}`: upper-case letters, digits and `_`, as environment variables are written. */
export const REFERENCE = /^\$\{([A-Z][A-Z0-9_]{0,63})\}$/;

export function referenceName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = REFERENCE.exec(value);
  return m ? m[1] : null;
}

/** Where the device should answer a push. Not yet in topics.ts (see docs/command.md). */
export const CONFIG_ACK_PATTERN = 'config/ack/{device}';

export interface ConfigFieldError {
  /** Dotted path in the configuration, e.g. `sensor.measurement_interval_seconds`; empty for the whole. */
  readonly field: string;
  readonly reason: string;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `sensor.measurement_interval_seconds`; a key that is not a plain name is quoted, `["a.b"]`, so a path reads one way. */
function dotted(parts: readonly string[]): string {
  let s = '';
  for (const p of parts) s += PLAIN_KEY.test(p) ? (s ? `.${p}` : p) : `[${JSON.stringify(p)}]`;
  return s;
}

function describe(e: ErrorObject): ConfigFieldError {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const base = dotted(parts);
  const join = (leaf: string) => dotted([...parts, leaf]);
  if (e.keyword === 'required') return { field: join((e.params as { missingProperty: string }).missingProperty), reason: 'is required' };
  if (e.keyword === 'additionalProperties') return { field: join((e.params as { additionalProperty: string }).additionalProperty), reason: 'is not a configuration field' };
  if (e.keyword === 'enum') return { field: base, reason: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((a) => JSON.stringify(a)).join(', ')}` };
  if (e.keyword === 'pattern' && /password/.test(base)) return { field: base, reason: 'must be a ${NAME} reference to a credential or environment variable, not the secret itself' };
  return { field: base, reason: e.message ?? e.keyword };
}

let compiled: { config: ValidateFunction; update: ValidateFunction; ack: ValidateFunction } | null = null;

function validators(): { config: ValidateFunction; update: ValidateFunction; ack: ValidateFunction } {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const strip = <T extends { $id?: string }>(s: T): Omit<T, '$id'> => { const { $id: _id, ...rest } = s; return rest; };
    compiled = { config: ajv.compile(strip(deviceConfigSchema)), update: ajv.compile(strip(deviceConfigUpdateSchema)), ack: ajv.compile(strip(deviceConfigAckSchema)) };
  }
  return compiled;
}

function nonFinite(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value === null || typeof value !== 'object' || depth > 4) return null;
  for (const [k, v] of Object.entries(value)) {
    const p = nonFinite(v, `${path}${PLAIN_KEY.test(k) ? (path ? `.${k}` : k) : `[${JSON.stringify(k)}]`}`, depth + 1);
    if (p !== null) return p;
  }
  return null;
}

/** Every schema error of a stored configuration, at most `limit`; an empty list means valid. */
export function deviceConfigErrors(value: unknown, limit = 20): ConfigFieldError[] {
  const nf = nonFinite(value, '', 0);
  if (nf !== null) return [{ field: nf, reason: 'must be a finite number' }];
  const v = validators().config;
  if (v(value)) return [];
  const seen = new Set<string>();
  const out: ConfigFieldError[] = [];
  for (const e of v.errors ?? []) {
    const d = describe(e);
    const key = `${d.field}\u0000${d.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
    if (out.length >= limit) break;
  }
  return out.length ? out : [{ field: '', reason: 'invalid' }];
}

export function isDeviceConfig(value: unknown): value is DeviceConfig {
  return deviceConfigErrors(value, 1).length === 0;
}

export function deviceConfigUpdateErrors(value: unknown): ConfigFieldError[] {
  const v = validators().update;
  return v(value) ? [] : (v.errors ?? []).map(describe);
}

/**
 * The guide's runtime `DeviceConfig` (its config.rs): a flat struct that its config_update_task reads
 * straight from the config/update payload with serde_json. Each of its fields and where it lives in
 * the sectioned configuration; `device_id` is the configuration's own.
 */
const GUIDE_RUNTIME_FIELDS: ReadonlyArray<readonly [string, DeviceConfigSection | null, string]> = [
  ['device_id', null, 'device_id'],
  ['wifi_ssid', 'network', 'wifi_ssid'],
  ['wifi_password', 'network', 'wifi_password'],
  ['mqtt_broker', 'network', 'mqtt_broker'],
  ['measurement_interval', 'sensor', 'measurement_interval_seconds'],
];

/** The guide's flat fields of a configuration (those it has), to send beside `config` so the guide's firmware reads them. */
export function guideRuntimeFields(config: DeviceConfig): Record<string, ConfigScalar> {
  const out: Record<string, ConfigScalar> = {};
  for (const [flat, section, name] of GUIDE_RUNTIME_FIELDS) {
    const v = section === null ? config.device_id : config[section]?.[name];
    if (v !== undefined) out[flat] = v;
  }
  return out;
}

/** True when a config/update payload is the guide's flat DeviceConfig alone (no `config`). */
export function isGuideRuntimeUpdate(body: Readonly<Record<string, unknown>>): boolean {
  return body.config === undefined && GUIDE_RUNTIME_FIELDS.some(([flat]) => body[flat] !== undefined);
}

/**
 * The older shape a device still accepts: the guide's flat DeviceConfig, laid over the configuration
 * the device runs (its other fields stay; with none, the guide's development defaults: port 1883).
 * The result is checked by the caller like any configuration.
 */
export function fromGuideRuntimeUpdate(body: Readonly<Record<string, unknown>>, current: DeviceConfig | undefined): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {
    network: { mqtt_port: 1883, ...(current?.network ?? {}) }, sensor: { ...(current?.sensor ?? {}) }, ...(current?.system ? { system: { ...current.system } } : {}),
  };
  let deviceId: unknown = current?.device_id;
  for (const [flat, section, name] of GUIDE_RUNTIME_FIELDS) {
    if (body[flat] === undefined) continue;
    if (section === null) deviceId = body[flat]; else out[section][name] = body[flat];
  }
  return { device_id: deviceId, ...out };
}

export interface DeviceConfigAck {
  readonly config_version?: number;
  readonly config_hash?: string;
  readonly request_id?: string;
  readonly result: 'applied' | 'rejected';
  readonly reason?: string;
}

export function parseDeviceConfigAck(value: unknown): { ok: true; value: DeviceConfigAck } | { ok: false; errors: ConfigFieldError[] } {
  const v = validators().ack;
  return v(value) ? { ok: true, value: value as DeviceConfigAck } : { ok: false, errors: (v.errors ?? []).map(describe) };
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/**
 * 16 hex digits of SHA-256 over the stored form with sorted keys. Secrets are hashed as their
 * references, so the hash can be logged and compared; a changed secret value under the same
 * name does not change it (rotate by renaming the reference, or push with `force`).
 */
export function configHash(config: DeviceConfig): string {
  return createHash('sha256').update(canonical(config)).digest('hex').slice(0, 16);
}
