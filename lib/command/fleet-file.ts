/**
 * The fleet file: the guide's fleet_config.yaml (fleet.devices with device_id and location,
 * fleet.configuration with base_config and overrides) read with the `yaml` package into a
 * checked model. Never throws; every error names the file, the path in it
 * (`fleet.devices[3].overrides.measurement_interval`) and, for text, the line.
 */
import YAML, { LineCounter } from 'yaml';

import { configField, DEVICE_CONFIG_SECTIONS, FIELDS_BY_NAME, normaliseConfigValue, type ConfigScalar, type DeviceConfigField } from '../../firmware/contract/device-config';
import { deviceIdProblem } from '../../firmware/contract/identity';

export type PathPart = string | number;

export interface FleetError {
  readonly file: string;
  /** e.g. `fleet.devices[3].overrides.measurement_interval`; empty for the whole file. */
  readonly path: string;
  readonly line?: number;
  readonly reason: string;
  /** `file:line: path: reason`, ready to show. */
  readonly message: string;
}

/** One field set by one place in the file: null unsets an optional field. */
export interface PatchEntry {
  readonly field: DeviceConfigField;
  readonly value: ConfigScalar | null;
  /** Path of the value in the file, for provenance and errors. */
  readonly path: string;
}

export type Patch = readonly PatchEntry[];

export interface FleetDevice {
  readonly id: string;
  /** `location`, `site` and the entry's `labels`. */
  readonly labels: ReadonlyMap<string, string>;
  /** The entry's own `overrides`. */
  readonly overrides: Patch;
  readonly path: string;
}

export interface OverrideRule {
  /** Devices named by `device` / `devices`; null when the rule selects by label only. */
  readonly devices: ReadonlySet<string> | null;
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly patch: Patch;
  readonly path: string;
}

export interface FleetModel {
  readonly file: string;
  readonly name: string | null;
  readonly base: Patch;
  readonly devices: readonly FleetDevice[];
  readonly rules: readonly OverrideRule[];
}

export type FleetParse =
  | { readonly ok: true; readonly fleet: FleetModel; readonly warnings: readonly FleetError[] }
  | { readonly ok: false; readonly errors: readonly FleetError[]; readonly warnings: readonly FleetError[] };

export interface FleetFileOptions {
  /** Shown in errors. */
  readonly file?: string;
  readonly maxBytes?: number;
  readonly maxDevices?: number;
  readonly maxErrors?: number;
  /** Base configurations a `base_config: "production.toml"` may name, already read by the caller. */
  readonly bases?: ReadonlyMap<string, unknown>;
}

export const FLEET_FILE_LIMITS = { maxBytes: 4 * 1024 * 1024, maxDevices: 50_000, maxErrors: 50 } as const;

const DEVICE_KEYS = new Set(['device_id', 'location', 'site', 'labels', 'overrides']);
/** Kept in the guide's file for people and other tools; read past, never sent. */
const DEVICE_METADATA = new Set(['ip_range', 'description', 'name', 'notes']);
const SELECTOR_KEYS = new Set(['device', 'devices', 'location', 'site', 'labels']);
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_LABEL_VALUE = 256;

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

export function formatPath(parts: readonly PathPart[]): string {
  let s = '';
  for (const p of parts) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

class Collector {
  readonly errors: FleetError[] = [];
  readonly warnings: FleetError[] = [];
  constructor(readonly file: string, readonly maxErrors: number, private readonly lineOf: (path: readonly PathPart[]) => number | undefined) {}

  private make(path: readonly PathPart[], reason: string): FleetError {
    const p = formatPath(path);
    const line = this.lineOf(path);
    return { file: this.file, path: p, ...(line !== undefined ? { line } : {}), reason, message: `${this.file}${line !== undefined ? `:${line}` : ''}: ${p ? `${p}: ` : ''}${reason}` };
  }

  error(path: readonly PathPart[], reason: string): void {
    if (this.errors.length < this.maxErrors) this.errors.push(this.make(path, reason));
  }

  warn(path: readonly PathPart[], reason: string): void {
    if (this.warnings.length < this.maxErrors) this.warnings.push(this.make(path, reason));
  }

  get full(): boolean { return this.errors.length >= this.maxErrors; }
}

const describeType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : typeof v);

function scalar(v: unknown): v is ConfigScalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** A configuration mapping: sections, leaf names or aliases. `skip` holds keys the caller reads itself (selectors). */
function parsePatch(raw: Record<string, unknown>, path: readonly PathPart[], c: Collector, allowUnset: boolean, skip: ReadonlySet<string> = new Set()): PatchEntry[] {
  const out: PatchEntry[] = [];
  const seen = new Map<string, string>();
  const add = (name: string, value: unknown, at: readonly PathPart[], section: string | null) => {
    const f = configField(name);
    if (!f) { c.error(at, `is not a configuration field${section ? ` of [${section}]` : ''}${suggest(name)}`); return; }
    if (section !== null && f.section !== section) { c.error(at, `belongs in [${f.section}], not [${section}]`); return; }
    if (value === null && !allowUnset) { c.error(at, 'has no value'); return; }
    if (value !== null && !scalar(value)) { c.error(at, `must be a string, number or boolean, not ${describeType(value)}`); return; }
    const p = formatPath(at);
    const prev = seen.get(f.name);
    if (prev !== undefined) c.error(at, `sets ${f.section}.${f.name} again (already set at ${prev})`);
    seen.set(f.name, p);
    out.push({ field: f, value: value === null ? null : normaliseConfigValue(f, value as ConfigScalar), path: p });
  };
  for (const [k, v] of Object.entries(raw)) {
    if (skip.has(k)) continue;
    if (k === 'device_id') { c.error([...path, k], 'the device id comes from the device entry and cannot be overridden'); continue; }
    if ((DEVICE_CONFIG_SECTIONS as readonly string[]).includes(k)) {
      if (!isObj(v)) { c.error([...path, k], `must be a mapping of [${k}] fields, not ${describeType(v)}`); continue; }
      for (const [leaf, value] of Object.entries(v)) add(leaf, value, [...path, k, leaf], k);
    } else {
      add(k, v, [...path, k], null);
    }
  }
  return out;
}

function suggest(name: string): string {
  const lower = name.toLowerCase();
  for (const f of FIELDS_BY_NAME.keys()) if (lower.length >= 4 && (f.startsWith(lower) || lower.startsWith(f))) return ` (did you mean ${f}?)`;
  return '';
}

/** Overrides given at run time (a message's `overrides`), read like the file's. */
export function parseConfigPatch(raw: unknown, file = 'msg', path: readonly PathPart[] = ['overrides']): { ok: true; patch: Patch } | { ok: false; errors: readonly FleetError[] } {
  const c = new Collector(file, FLEET_FILE_LIMITS.maxErrors, () => undefined);
  if (!isObj(raw)) { c.error(path, `must be a mapping of configuration fields, not ${describeType(raw)}`); return { ok: false, errors: c.errors }; }
  const patch = parsePatch(raw, path, c, true);
  return c.errors.length ? { ok: false, errors: c.errors } : { ok: true, patch };
}

function labelValue(v: unknown, path: readonly PathPart[], c: Collector): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string' || v === '') { c.error(path, `must be a non-empty string, not ${describeType(v)}`); return null; }
  if (v.length > MAX_LABEL_VALUE) { c.error(path, `is longer than ${MAX_LABEL_VALUE} characters`); return null; }
  return v;
}

function parseLabels(raw: Record<string, unknown>, path: readonly PathPart[], c: Collector): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of ['location', 'site'] as const) {
    if (raw[key] === undefined) continue;
    const v = labelValue(raw[key], [...path, key], c);
    if (v !== null) out.push([key, v]);
  }
  if (raw.labels !== undefined) {
    if (!isObj(raw.labels)) c.error([...path, 'labels'], `must be a mapping of label to value, not ${describeType(raw.labels)}`);
    else for (const [k, v] of Object.entries(raw.labels)) {
      if (!LABEL_KEY.test(k)) { c.error([...path, 'labels', k], 'is not a label name (letters, digits and _, starting with a letter or _)'); continue; }
      if (k === 'location' || k === 'site') { if (raw[k] !== undefined) { c.error([...path, 'labels', k], `is given twice (also as ${k})`); continue; } }
      const value = labelValue(v, [...path, 'labels', k], c);
      if (value !== null) out.push([k, value]);
    }
  }
  return out;
}

function parseDevices(raw: unknown, path: readonly PathPart[], c: Collector, maxDevices: number): FleetDevice[] {
  if (raw === undefined) { c.error(path, 'is required: the list of devices'); return []; }
  if (!Array.isArray(raw)) { c.error(path, `must be a list of devices, not ${describeType(raw)}`); return []; }
  if (raw.length > maxDevices) { c.error(path, `lists ${raw.length} devices; at most ${maxDevices} are read`); return []; }
  const out: FleetDevice[] = [];
  const ids = new Map<string, string>();
  for (let i = 0; i < raw.length && !c.full; i++) {
    const at = [...path, i];
    const d = raw[i];
    if (!isObj(d)) { c.error(at, `must be a mapping with device_id, not ${describeType(d)}`); continue; }
    for (const k of Object.keys(d)) if (!DEVICE_KEYS.has(k) && !DEVICE_METADATA.has(k)) c.error([...at, k], `is not a device entry field (device_id, location, site, labels, overrides${configField(k) ? `; put ${k} under overrides` : ''})`);
    const problem = deviceIdProblem(d.device_id);
    if (problem) { c.error([...at, 'device_id'], d.device_id === undefined ? 'is required' : problem); continue; }
    const id = d.device_id as string;
    const dup = ids.get(id);
    if (dup !== undefined) { c.error([...at, 'device_id'], `${id} is listed twice (also at ${dup})`); continue; }
    ids.set(id, formatPath(at));
    let overrides: PatchEntry[] = [];
    if (d.overrides !== undefined) {
      if (!isObj(d.overrides)) c.error([...at, 'overrides'], `must be a mapping of configuration fields, not ${describeType(d.overrides)}`);
      else overrides = parsePatch(d.overrides, [...at, 'overrides'], c, true);
    }
    out.push({ id, labels: new Map(parseLabels(d, at, c)), overrides, path: formatPath(at) });
  }
  return out;
}

function parseRules(raw: unknown, path: readonly PathPart[], c: Collector, known: ReadonlyMap<string, FleetDevice>): OverrideRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) { c.error(path, `must be a list of overrides, not ${describeType(raw)}`); return []; }
  const out: OverrideRule[] = [];
  for (let i = 0; i < raw.length && !c.full; i++) {
    const at = [...path, i];
    const r = raw[i];
    if (!isObj(r)) { c.error(at, `must be a mapping with a selector (device, devices, location, site or labels) and fields, not ${describeType(r)}`); continue; }
    let devices: Set<string> | null = null;
    const names: Array<[unknown, PathPart[]]> = [];
    if (r.device !== undefined) names.push([r.device, [...at, 'device']]);
    if (r.devices !== undefined) {
      if (!Array.isArray(r.devices)) c.error([...at, 'devices'], `must be a list of device ids, not ${describeType(r.devices)}`);
      else r.devices.forEach((d, j) => names.push([d, [...at, 'devices', j]]));
    }
    if (names.length) {
      devices = new Set();
      for (const [d, p] of names) {
        const problem = deviceIdProblem(d);
        if (problem) { c.error(p, problem); continue; }
        if (!known.has(d as string)) { c.error(p, `${d as string} is not in the device list`); continue; }
        devices.add(d as string);
      }
    }
    const labels = parseLabels(r, at, c);
    if (devices === null && labels.length === 0) { c.error(at, 'names no device, devices, location, site or labels, so it would apply to nothing'); continue; }
    const patch = parsePatch(r, at, c, true, SELECTOR_KEYS);
    if (patch.length === 0) c.warn(at, 'sets no configuration field');
    const rule: OverrideRule = { devices, labels, patch, path: formatPath(at) };
    if (devices === null && ![...known.values()].some((d) => ruleMatches(rule, d))) c.warn(at, 'matches no device');
    out.push(rule);
  }
  return out;
}

export function ruleMatches(rule: OverrideRule, device: FleetDevice): boolean {
  if (rule.devices !== null && !rule.devices.has(device.id)) return false;
  for (const [k, v] of rule.labels) if (device.labels.get(k) !== v) return false;
  return true;
}

function parseBase(conf: Record<string, unknown>, path: readonly PathPart[], c: Collector, bases: ReadonlyMap<string, unknown>): PatchEntry[] {
  const out: PatchEntry[] = [];
  if (conf.base_config !== undefined) {
    const at = [...path, 'base_config'];
    if (typeof conf.base_config !== 'string' || conf.base_config === '') c.error(at, 'must name a base configuration');
    else if (!bases.has(conf.base_config)) c.error(at, `${conf.base_config} is not loaded; give the base inline under configuration.base, or load it into the node`);
    else {
      const b = bases.get(conf.base_config);
      if (!isObj(b)) c.error(at, `${conf.base_config} is not a mapping of configuration sections`);
      else out.push(...parsePatch(b, [conf.base_config], c, false));
    }
  }
  if (conf.base !== undefined) {
    if (!isObj(conf.base)) c.error([...path, 'base'], `must be a mapping of configuration sections, not ${describeType(conf.base)}`);
    // An inline base after base_config refines it, like an override would.
    else out.push(...parsePatch(conf.base, [...path, 'base'], c, false));
  }
  return out;
}

/** Reads an already-parsed fleet document (a `msg.payload` object, or the YAML's value). */
export function parseFleet(doc: unknown, options: FleetFileOptions = {}, lineOf: (path: readonly PathPart[]) => number | undefined = () => undefined): FleetParse {
  const c = new Collector(options.file ?? 'fleet', options.maxErrors ?? FLEET_FILE_LIMITS.maxErrors, lineOf);
  const done = (fleet: FleetModel | null): FleetParse => (fleet && c.errors.length === 0 ? { ok: true, fleet, warnings: c.warnings } : { ok: false, errors: c.errors.length ? c.errors : [{ file: c.file, path: '', reason: 'invalid', message: `${c.file}: invalid` }], warnings: c.warnings });
  if (!isObj(doc)) { c.error([], `a fleet file is a mapping with fleet.devices and fleet.configuration, not ${describeType(doc)}`); return done(null); }
  const root: PathPart[] = isObj(doc.fleet) ? ['fleet'] : [];
  const fleet = isObj(doc.fleet) ? doc.fleet : doc;
  for (const k of Object.keys(fleet)) if (!['name', 'devices', 'configuration'].includes(k)) c.error([...root, k], 'is not a fleet field (name, devices, configuration)');
  if (fleet.name !== undefined && typeof fleet.name !== 'string') c.error([...root, 'name'], 'must be a string');
  const devices = parseDevices(fleet.devices, [...root, 'devices'], c, options.maxDevices ?? FLEET_FILE_LIMITS.maxDevices);
  const known = new Map(devices.map((d) => [d.id, d]));
  let base: PatchEntry[] = [];
  let rules: OverrideRule[] = [];
  const confPath = [...root, 'configuration'];
  if (fleet.configuration === undefined) c.error(confPath, 'is required: base_config or base, and overrides');
  else if (!isObj(fleet.configuration)) c.error(confPath, `must be a mapping, not ${describeType(fleet.configuration)}`);
  else {
    const conf = fleet.configuration;
    for (const k of Object.keys(conf)) if (!['base_config', 'base', 'overrides'].includes(k)) c.error([...confPath, k], 'is not a configuration field (base_config, base, overrides)');
    if (conf.base_config === undefined && conf.base === undefined) c.error(confPath, 'needs base_config or base');
    base = parseBase(conf, confPath, c, options.bases ?? new Map());
    rules = parseRules(conf.overrides, [...confPath, 'overrides'], c, known);
  }
  return done({ file: c.file, name: typeof fleet.name === 'string' ? fleet.name : null, base, devices, rules });
}

/** Reads fleet-file text. Bounded: size, aliases (no billion laughs), devices, errors. */
export function parseFleetFile(text: string, options: FleetFileOptions = {}): FleetParse {
  const file = options.file ?? 'fleet_config.yaml';
  const fail = (reason: string, line?: number): FleetParse => ({ ok: false, errors: [{ file, path: '', ...(line !== undefined ? { line } : {}), reason, message: `${file}${line !== undefined ? `:${line}` : ''}: ${reason}` }], warnings: [] });
  if (typeof text !== 'string') return fail('the fleet file must be text');
  const maxBytes = options.maxBytes ?? FLEET_FILE_LIMITS.maxBytes;
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) return fail(`is larger than ${maxBytes} bytes`);
  const lines = new LineCounter();
  let doc: YAML.Document.Parsed;
  let value: unknown;
  try {
    doc = YAML.parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true, version: '1.2', logLevel: 'error' });
    if (doc.errors.length) {
      const e = doc.errors[0];
      return fail(`is not valid YAML: ${e.message.split('\n')[0]}`, e.linePos?.[0]?.line);
    }
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // toJS throws on alias bombs and on keys that are mappings; both are bad files, not our crash.
    return fail(`is not a usable YAML document: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const lineOf = (path: readonly PathPart[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      try {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node && Array.isArray(node.range)) return lines.linePos(node.range[0]).line;
      } catch {
        // a path into a scalar: try its parent
      }
    }
    return undefined;
  };
  return parseFleet(value, { ...options, file }, lineOf);
}
