/**
 * The Steel program messages, as the device runtime spells them: mparkachov/aws-iot-steel
 * aws-iot-core/src/types.rs (ProgramMessage, ProgramMetadata, ProgramResult, DeviceState),
 * program_delivery.rs (topics, ProgramExecutionRequest, ProgramAction, ProgramExecutionStatus,
 * ProgramDeliveryStatus, ProgramStatusReport, calculate_checksum) and shadow_manager.rs (the shadow
 * topic and `{"state": {"reported": DeviceState}}`), commit bc93bcc7c4733abc7d82ed62e0731158d1740999.
 *
 * The structs carry no serde renames, so field names are snake_case as written, enum variants are
 * PascalCase strings (`"Load"`, `"Running"`), data-carrying variants are externally tagged
 * (`{"ExecutingProgram": {...}}`), `Option` fields are `null` when sent and may be absent when
 * received, and `DateTime<Utc>` is an RFC 3339 string.
 *
 * Builders make the downlink messages (and throw a clear TypeError on bad input, since the input
 * is ours); parsers read the uplink ones and never throw: a value or a list of field errors.
 */
import { createHash } from 'node:crypto';

import { deviceIdProblem } from './identity';
// Types only: topics.ts imports STEEL_ROUTES from here, so a value import back would be a cycle.
import type { MessageKind, TopicRoute } from './topics';
import type { SchemaName } from './schemas';

// ---------------------------------------------------------------------------------------------
// Topics

/** The operations a device subscribes to (program_delivery.rs subscribe_to_program_topics). */
export const STEEL_OPERATIONS = ['load', 'execute', 'stop', 'remove', 'status'] as const;
export type SteelOperation = (typeof STEEL_OPERATIONS)[number];
/** On steel-programs/broadcast/… the device subscribes to these two only. */
export const STEEL_BROADCAST_OPERATIONS: readonly SteelOperation[] = ['load', 'execute'];
export const STEEL_BROADCAST = 'broadcast';

export type SteelRouteId =
  | 'steel.load' | 'steel.execute' | 'steel.stop' | 'steel.remove' | 'steel.status'
  | 'steel.status-report' | 'steel.status-full-report' | 'steel.result' | 'steel.shadow-update';

export interface SteelTopicRoute {
  readonly id: SteelRouteId;
  /** Same pattern language as topics.ts: {device} one segment; {thing} the AWS IoT thing name. */
  readonly pattern: string;
  readonly direction: 'up' | 'down';
  readonly broadcast: boolean;
  /** Schema file under schemas/v1 (without .json). */
  readonly schema: string;
}

/**
 * To join TOPIC_ROUTES in topics.ts (kind `steel-*`, deviceKind `steel-device`, encoding json,
 * profile standard). `steel.result` keeps the topic the contract already had: the device code
 * builds ProgramResult but publishes it through its execution callback, with no topic of its own.
 * The shadow is matched on both spellings: the device code writes `$aws/thing/…`
 * (shadow_manager.rs get_shadow_topic), the guide and production.toml write `$aws/things/…`.
 */
export const STEEL_TOPIC_ROUTES: readonly SteelTopicRoute[] = [
  { id: 'steel.status-full-report', pattern: 'steel-programs/{device}/status/full-report', direction: 'up', broadcast: false, schema: 'steel-status-full-report' },
  { id: 'steel.status-report', pattern: 'steel-programs/{device}/status/report', direction: 'up', broadcast: false, schema: 'steel-program-status' },
  { id: 'steel.result', pattern: 'steel-programs/{device}/result', direction: 'up', broadcast: false, schema: 'steel-program-result' },
  { id: 'steel.load', pattern: 'steel-programs/{device}/load', direction: 'down', broadcast: true, schema: 'steel-program-load' },
  { id: 'steel.execute', pattern: 'steel-programs/{device}/execute', direction: 'down', broadcast: true, schema: 'steel-program-request' },
  { id: 'steel.stop', pattern: 'steel-programs/{device}/stop', direction: 'down', broadcast: false, schema: 'steel-program-request' },
  { id: 'steel.remove', pattern: 'steel-programs/{device}/remove', direction: 'down', broadcast: false, schema: 'steel-program-request' },
  { id: 'steel.status', pattern: 'steel-programs/{device}/status', direction: 'down', broadcast: false, schema: 'steel-program-request' },
  { id: 'steel.shadow-update', pattern: '$aws/thing/{thing}/shadow/update', direction: 'up', broadcast: false, schema: 'steel-shadow-update' },
  { id: 'steel.shadow-update', pattern: '$aws/things/{thing}/shadow/update', direction: 'up', broadcast: false, schema: 'steel-shadow-update' },
];

const KIND_OF: Readonly<Record<SteelRouteId, MessageKind>> = {
  'steel.load': 'steel-load', 'steel.execute': 'steel-request', 'steel.stop': 'steel-request', 'steel.remove': 'steel-request', 'steel.status': 'steel-request',
  'steel.status-report': 'steel-status', 'steel.status-full-report': 'steel-report', 'steel.result': 'steel-result', 'steel.shadow-update': 'steel-shadow',
};

/**
 * STEEL_TOPIC_ROUTES in the topic map's terms (composed into TOPIC_ROUTES by topics.ts): kind
 * steel-*, device kind steel-device, JSON, profile standard. The shadow's two spellings get two ids
 * (`steel.shadow-update`, `steel.shadow-update.things`); {thing} is the device id.
 */
export const STEEL_ROUTES: readonly TopicRoute[] = STEEL_TOPIC_ROUTES.map((r, i): TopicRoute => ({
  id: r.id === 'steel.shadow-update' && STEEL_TOPIC_ROUTES.findIndex((x) => x.id === r.id) !== i ? 'steel.shadow-update.things' : r.id,
  profile: 'standard', pattern: r.pattern.replace('{thing}', '{device}'), kind: KIND_OF[r.id], deviceKind: 'steel-device',
  schema: r.schema as SchemaName, encoding: 'json', direction: r.direction, ...(r.broadcast ? { broadcast: true } : {}),
}));

/**
 * The device dispatches on `topic.contains("/load")`, then "/execute", "/stop", "/remove",
 * "/status" (program_delivery.rs handle_program_mqtt_message), so an id that starts with one of
 * those words turns every message to it into that operation: `steel-programs/loader-1/execute`
 * is handled as a load. Returns why an id cannot address a Steel device, or null.
 */
export function steelDeviceIdProblem(id: unknown): string | null {
  const p = deviceIdProblem(id);
  if (p) return p;
  const s = id as string;
  if (s === STEEL_BROADCAST) return '"broadcast" addresses every device, not one';
  for (const op of STEEL_OPERATIONS) {
    if (s.startsWith(op)) return `device id starts with "${op}": the device would read every steel-programs/${s}/… message as ${op} (it matches topics with contains("/${op}"))`;
  }
  return null;
}

/** The topic a downlink message goes to. Throws TypeError for an id or operation the device cannot take. */
export function steelTopic(operation: SteelOperation, target: string): string {
  if (!(STEEL_OPERATIONS as readonly string[]).includes(operation)) throw new TypeError(`unknown Steel operation ${JSON.stringify(operation)}`);
  if (target === STEEL_BROADCAST) {
    if (!STEEL_BROADCAST_OPERATIONS.includes(operation)) throw new TypeError(`devices do not subscribe to steel-programs/broadcast/${operation}; broadcast takes ${STEEL_BROADCAST_OPERATIONS.join(' and ')}`);
    return `steel-programs/broadcast/${operation}`;
  }
  const problem = steelDeviceIdProblem(target);
  if (problem) throw new TypeError(`cannot address Steel device ${JSON.stringify(target)}: ${problem}`);
  return `steel-programs/${target}/${operation}`;
}

export interface SteelTopicMatch {
  readonly route: SteelRouteId;
  readonly direction: 'up' | 'down';
  /** The device id or thing name; null for broadcast. */
  readonly device: string | null;
  readonly broadcast: boolean;
}

const ROUTE_BY_SUFFIX = new Map<string, SteelRouteId>([
  ['load', 'steel.load'], ['execute', 'steel.execute'], ['stop', 'steel.stop'], ['remove', 'steel.remove'],
  ['status', 'steel.status'], ['status/report', 'steel.status-report'], ['status/full-report', 'steel.status-full-report'],
  ['result', 'steel.result'],
]);

/** Which Steel route a topic is, or null. Never throws. */
export function matchSteelTopic(topic: unknown): SteelTopicMatch | null {
  if (typeof topic !== 'string') return null;
  const seg = topic.split('/');
  if ((seg[0] === '$aws') && (seg[1] === 'thing' || seg[1] === 'things') && seg.length === 5 && seg[3] === 'shadow' && seg[4] === 'update') {
    return deviceIdProblem(seg[2]) ? null : { route: 'steel.shadow-update', direction: 'up', device: seg[2], broadcast: false };
  }
  if (seg[0] !== 'steel-programs' || seg.length < 3 || seg.length > 4) return null;
  const route = ROUTE_BY_SUFFIX.get(seg.slice(2).join('/'));
  if (!route) return null;
  const def = STEEL_TOPIC_ROUTES.find((r) => r.id === route) as SteelTopicRoute;
  if (seg[1] === STEEL_BROADCAST) return def.broadcast ? { route, direction: def.direction, device: null, broadcast: true } : null;
  if (deviceIdProblem(seg[1])) return null;
  return { route, direction: def.direction, device: seg[1], broadcast: false };
}

// ---------------------------------------------------------------------------------------------
// Message types (types.rs, program_delivery.rs)

/** ProgramAction, serialised as its variant name. */
export const STEEL_ACTIONS = ['Load', 'Execute', 'Stop', 'Remove', 'Status'] as const;
export type SteelAction = (typeof STEEL_ACTIONS)[number];
/** ProgramExecutionStatus. */
export const STEEL_STATUSES = ['Pending', 'Loading', 'Running', 'Completed', 'Failed', 'Stopped'] as const;
export type SteelStatus = (typeof STEEL_STATUSES)[number];

export interface SteelProgramMetadata {
  readonly description: string | null;
  readonly author: string | null;
  /** RFC 3339; required by the device when metadata is sent. */
  readonly created_at: string;
  readonly memory_requirement: number | null;
  readonly execution_timeout: number | null;
}

/** ProgramMessage: what steel-programs/{device|broadcast}/load carries. */
export interface SteelLoadMessage {
  readonly program_id: string;
  readonly program_name: string;
  readonly steel_code: string;
  readonly version: string;
  /** Bare lowercase hex SHA-256 of steel_code's UTF-8 bytes (calculate_checksum). */
  readonly checksum: string;
  readonly auto_start: boolean;
  readonly metadata: SteelProgramMetadata | null;
}

/** ProgramExecutionRequest: execute, stop, remove (and status) payloads. */
export interface SteelRequest {
  readonly program_id: string;
  readonly action: SteelAction;
  readonly parameters: unknown;
  readonly timeout_seconds: number | null;
}

/** ProgramDeliveryStatus, on steel-programs/{device}/status/report. */
export interface SteelStatusReport {
  readonly program_id: string;
  readonly status: SteelStatus;
  readonly message: string | null;
  readonly timestamp: string;
  readonly execution_time_ms: number | null;
}

/** ProgramStatusReport, on steel-programs/{device}/status/full-report. */
export interface SteelFullReport {
  readonly device_id: string;
  readonly programs: readonly SteelStatusReport[];
  readonly timestamp: string;
}

/** ProgramResult. `result` is a string on the device (Option<String>). */
export interface SteelResult {
  readonly program_id: string;
  readonly success: boolean;
  readonly result: string | null;
  readonly error: string | null;
  readonly execution_time_ms: number;
  readonly timestamp: string;
}

export type SteelRuntimeStatus =
  | { readonly state: 'Idle' }
  | { readonly state: 'ExecutingProgram'; readonly program_id: string; readonly started_at: string }
  | { readonly state: 'Error'; readonly message: string; readonly timestamp: string };
export type SteelSleepStatus = { readonly state: 'Awake' } | { readonly state: 'Sleeping'; readonly wake_time: string };

/** DeviceState, the reported shadow. Enums flattened to `{state, ...}` for the reader's convenience. */
export interface SteelDeviceState {
  readonly runtime_status: SteelRuntimeStatus;
  readonly hardware_state: {
    readonly led_status: boolean;
    readonly sleep_status: SteelSleepStatus;
    readonly memory_usage: { readonly total_bytes: number; readonly free_bytes: number; readonly used_bytes: number; readonly largest_free_block: number };
  };
  readonly system_info: { readonly firmware_version: string; readonly platform: string; readonly uptime_seconds: number; readonly steel_runtime_version: string };
  readonly timestamp: string;
}

export interface SteelShadowUpdate {
  /** state.reported, when present. */
  readonly reported: SteelDeviceState | null;
  /** state.desired as sent (DesiredState: led_control, sleep_duration, configuration, program_commands). */
  readonly desired: Readonly<Record<string, unknown>> | null;
  readonly version: number | null;
}

// ---------------------------------------------------------------------------------------------
// Builders (downlink)

export function steelChecksum(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

const PROGRAM_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function programIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return `program_id must be a string, got ${typeof id}`;
  if (!PROGRAM_ID.test(id)) return 'program_id must be 1–64 letters, digits, _ . - and start with a letter or digit';
  return null;
}

export interface LoadInput {
  readonly programId: string;
  readonly programName?: string;
  readonly steelCode: string;
  readonly version: string;
  readonly autoStart?: boolean;
  readonly metadata?: { readonly description?: string; readonly author?: string; readonly createdAt?: Date | string; readonly memoryRequirement?: number; readonly executionTimeout?: number };
}

const nonNegInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

export function buildLoadMessage(input: LoadInput): SteelLoadMessage {
  const p = programIdProblem(input.programId);
  if (p) throw new TypeError(p);
  if (typeof input.steelCode !== 'string' || input.steelCode.length === 0) throw new TypeError('steel_code must be a non-empty string');
  if (typeof input.version !== 'string' || input.version.length === 0) throw new TypeError('version must be a non-empty string');
  const name = input.programName ?? input.programId;
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('program_name must be a non-empty string');
  let metadata: SteelProgramMetadata | null = null;
  const m = input.metadata;
  if (m) {
    const created = m.createdAt === undefined ? new Date() : new Date(m.createdAt);
    if (Number.isNaN(created.getTime())) throw new TypeError('metadata.createdAt is not a date');
    for (const [k, v] of [['memoryRequirement', m.memoryRequirement], ['executionTimeout', m.executionTimeout]] as const) {
      if (v !== undefined && !nonNegInt(v)) throw new TypeError(`metadata.${k} must be a non-negative integer`);
    }
    metadata = {
      description: m.description ?? null, author: m.author ?? null, created_at: created.toISOString(),
      memory_requirement: m.memoryRequirement ?? null, execution_timeout: m.executionTimeout ?? null,
    };
  }
  return {
    program_id: input.programId, program_name: name, steel_code: input.steelCode, version: input.version,
    checksum: steelChecksum(input.steelCode), auto_start: input.autoStart ?? false, metadata,
  };
}

const ACTION_OF: Record<Exclude<SteelOperation, 'load'>, SteelAction> = { execute: 'Execute', stop: 'Stop', remove: 'Remove', status: 'Status' };

/**
 * The payload for execute/stop/remove/status. The device's stop and remove handlers act on
 * program_id whatever the action says, and its status handler ignores the payload and answers
 * with a full report; execute with action Status answers with one program's status/report.
 */
export function buildRequest(operation: Exclude<SteelOperation, 'load'>, programId: string, options: { parameters?: unknown; timeoutSeconds?: number; action?: SteelAction } = {}): SteelRequest {
  const action = options.action ?? ACTION_OF[operation];
  if (!action) throw new TypeError(`unknown Steel operation ${JSON.stringify(operation)}`);
  if (!(STEEL_ACTIONS as readonly string[]).includes(action)) throw new TypeError(`unknown Steel action ${JSON.stringify(action)}`);
  const p = programIdProblem(programId);
  if (p) throw new TypeError(p);
  if (options.timeoutSeconds !== undefined && !nonNegInt(options.timeoutSeconds)) throw new TypeError('timeout_seconds must be a non-negative integer');
  return { program_id: programId, action, parameters: options.parameters ?? null, timeout_seconds: options.timeoutSeconds ?? null };
}

// ---------------------------------------------------------------------------------------------
// Parsers (uplink). Never throw.

export interface FieldError { readonly field: string; readonly message: string }
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly FieldError[] };

type Obj = Record<string, unknown>;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

class Fields {
  readonly errors: FieldError[] = [];
  constructor(private readonly o: Obj, private readonly prefix = '') {}
  private has(k: string): boolean { return Object.prototype.hasOwnProperty.call(this.o, k); }
  private err(k: string, m: string): void { this.errors.push({ field: this.prefix + k, message: m }); }
  /** A field error on `k`, named with this object's path. */
  fail(k: string, m: string): void { this.err(k, m); }
  raw(k: string): unknown { return this.has(k) ? this.o[k] : undefined; }
  string(k: string): string {
    const v = this.raw(k);
    if (typeof v !== 'string') { this.err(k, v === undefined ? 'missing' : `expected a string, got ${typeName(v)}`); return ''; }
    return v;
  }
  optString(k: string): string | null {
    const v = this.raw(k);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') { this.err(k, `expected a string or null, got ${typeName(v)}`); return null; }
    return v;
  }
  bool(k: string): boolean {
    const v = this.raw(k);
    if (typeof v !== 'boolean') { this.err(k, v === undefined ? 'missing' : `expected true or false, got ${typeName(v)}`); return false; }
    return v;
  }
  u64(k: string): number {
    const v = this.raw(k);
    if (!nonNegInt(v)) { this.err(k, v === undefined ? 'missing' : 'expected a non-negative integer'); return 0; }
    return v;
  }
  optU64(k: string): number | null {
    const v = this.raw(k);
    if (v === undefined || v === null) return null;
    if (!nonNegInt(v)) { this.err(k, 'expected a non-negative integer or null'); return null; }
    return v;
  }
  time(k: string): string {
    const v = this.string(k);
    if (v !== '' && (!RFC3339.test(v) || Number.isNaN(Date.parse(v)))) this.err(k, 'expected an RFC 3339 date-time');
    return v;
  }
  oneOf<T extends string>(k: string, allowed: readonly T[]): T {
    const v = this.raw(k);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) { this.err(k, `expected one of ${allowed.join(', ')}`); return allowed[0]; }
    return v as T;
  }
  object(k: string): Fields | null {
    const v = this.raw(k);
    if (!isObj(v)) { this.err(k, v === undefined ? 'missing' : `expected an object, got ${typeName(v)}`); return null; }
    return new Fields(v, `${this.prefix}${k}.`);
  }
  merge(f: Fields | null): void { if (f) this.errors.push(...f.errors); }
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** JSON text, a Buffer or an already parsed value → an object, or a field error on the whole body. */
function body(input: unknown): { readonly obj: Obj } | { readonly error: FieldError } {
  let v = input;
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    try { v = JSON.parse(v.toString()); } catch { return { error: { field: '', message: 'payload is not JSON' } }; }
  }
  return isObj(v) ? { obj: v } : { error: { field: '', message: `payload must be a JSON object, got ${typeName(v)}` } };
}

function statusFields(x: Fields): SteelStatusReport {
  return {
    program_id: x.string('program_id'), status: x.oneOf('status', STEEL_STATUSES), message: x.optString('message'),
    timestamp: x.time('timestamp'), execution_time_ms: x.optU64('execution_time_ms'),
  };
}

export const parseStatusReport = (input: unknown): Parsed<SteelStatusReport> => parseWith(input, statusFields);

export const parseFullReport = (input: unknown): Parsed<SteelFullReport> => parseWith(input, (x) => {
  const device_id = x.string('device_id');
  const list = x.raw('programs');
  const programs: SteelStatusReport[] = [];
  if (!Array.isArray(list)) x.merge(errorOnly('programs', list === undefined ? 'missing' : 'expected an array'));
  else list.forEach((p, i) => {
    if (!isObj(p)) { x.merge(errorOnly(`programs[${i}]`, 'expected an object')); return; }
    const f = new Fields(p, `programs[${i}].`);
    programs.push(statusFields(f));
    x.merge(f);
  });
  return { device_id, programs, timestamp: x.time('timestamp') };
});

export const parseResult = (input: unknown): Parsed<SteelResult> => parseWith(input, (x) => ({
  program_id: x.string('program_id'), success: x.bool('success'), result: x.optString('result'), error: x.optString('error'),
  execution_time_ms: x.u64('execution_time_ms'), timestamp: x.time('timestamp'),
}));

/** Reads a load message (for the simulator and for checking what we send). */
export const parseLoadMessage = (input: unknown): Parsed<SteelLoadMessage> => parseWith(input, (x) => {
  const m = x.raw('metadata');
  let metadata: SteelProgramMetadata | null = null;
  if (m !== undefined && m !== null) {
    const f = x.object('metadata');
    if (f) {
      metadata = { description: f.optString('description'), author: f.optString('author'), created_at: f.time('created_at'), memory_requirement: f.optU64('memory_requirement'), execution_timeout: f.optU64('execution_timeout') };
      x.merge(f);
    }
  }
  const checksum = x.string('checksum');
  if (checksum !== '' && !/^[0-9a-f]{64}$/.test(checksum)) x.merge(errorOnly('checksum', 'expected 64 lowercase hex digits (SHA-256 of steel_code)'));
  return {
    program_id: x.string('program_id'), program_name: x.string('program_name'), steel_code: x.string('steel_code'), version: x.string('version'),
    checksum, auto_start: x.bool('auto_start'), metadata,
  };
});

export const parseRequest = (input: unknown): Parsed<SteelRequest> => parseWith(input, (x) => ({
  program_id: x.string('program_id'), action: x.oneOf('action', STEEL_ACTIONS), parameters: x.raw('parameters') ?? null,
  timeout_seconds: x.optU64('timeout_seconds'),
}));

function tagged(x: Fields, k: string, unit: string, variants: Record<string, (f: Fields) => Obj>): Obj {
  const v = x.raw(k);
  if (v === unit) return { state: unit };
  if (isObj(v) && Object.keys(v).length === 1) {
    const tag = Object.keys(v)[0];
    const build = Object.prototype.hasOwnProperty.call(variants, tag) ? variants[tag] : undefined;
    if (build) {
      const fk = x.object(k) as Fields;
      const ft = fk.object(tag);
      if (!ft) { x.merge(fk); return { state: unit }; }
      const out = { state: tag, ...build(ft) };
      x.merge(ft);
      return out;
    }
  }
  x.fail(k, `expected "${unit}" or one of ${Object.keys(variants).map((t) => `{"${t}": {...}}`).join(', ')}`);
  return { state: unit };
}

function deviceState(x: Fields): SteelDeviceState {
  const runtime_status = tagged(x, 'runtime_status', 'Idle', {
    ExecutingProgram: (f) => ({ program_id: f.string('program_id'), started_at: f.time('started_at') }),
    Error: (f) => ({ message: f.string('message'), timestamp: f.time('timestamp') }),
  }) as SteelRuntimeStatus;
  const hw = x.object('hardware_state');
  const sys = x.object('system_info');
  const mem = hw?.object('memory_usage') ?? null;
  const state: SteelDeviceState = {
    runtime_status,
    hardware_state: {
      led_status: hw?.bool('led_status') ?? false,
      sleep_status: (hw ? tagged(hw, 'sleep_status', 'Awake', { Sleeping: (f) => ({ wake_time: f.time('wake_time') }) }) : { state: 'Awake' }) as SteelSleepStatus,
      memory_usage: { total_bytes: mem?.u64('total_bytes') ?? 0, free_bytes: mem?.u64('free_bytes') ?? 0, used_bytes: mem?.u64('used_bytes') ?? 0, largest_free_block: mem?.u64('largest_free_block') ?? 0 },
    },
    system_info: { firmware_version: sys?.string('firmware_version') ?? '', platform: sys?.string('platform') ?? '', uptime_seconds: sys?.u64('uptime_seconds') ?? 0, steel_runtime_version: sys?.string('steel_runtime_version') ?? '' },
    timestamp: x.time('timestamp'),
  };
  x.merge(mem); x.merge(hw); x.merge(sys);
  return state;
}

/** `{"state": {"reported": DeviceState, "desired": {...}?}, "version"?: n}`. */
export const parseShadowUpdate = (input: unknown): Parsed<SteelShadowUpdate> => parseWith(input, (x) => {
  const st = x.object('state');
  let reported: SteelDeviceState | null = null;
  let desired: Obj | null = null;
  if (st) {
    const r = st.raw('reported');
    if (r !== undefined && r !== null) { const f = st.object('reported'); if (f) { reported = deviceState(f); st.merge(f); } }
    const d = st.raw('desired');
    if (isObj(d)) desired = d;
    else if (d !== undefined && d !== null) st.merge(errorOnly('state.desired', 'expected an object'));
    if (reported === null && desired === null && st.errors.length === 0) st.merge(errorOnly('state', 'has neither reported nor desired'));
    x.merge(st);
  }
  return { reported, desired, version: x.optU64('version') };
});

function errorOnly(field: string, message: string): Fields {
  const f = new Fields({}, '');
  f.errors.push({ field, message });
  return f;
}

function parseWith<T>(input: unknown, f: (x: Fields) => T): Parsed<T> {
  try {
    const b = body(input);
    if ('error' in b) return { ok: false, errors: [b.error] };
    const fields = new Fields(b.obj);
    const value = f(fields);
    return fields.errors.length > 0 ? { ok: false, errors: fields.errors } : { ok: true, value };
  } catch (err) {
    // A getter or proxy in a hand-made object: still a field error, never a throw.
    return { ok: false, errors: [{ field: '', message: `unreadable payload: ${(err as Error)?.message ?? String(err)}` }] };
  }
}
