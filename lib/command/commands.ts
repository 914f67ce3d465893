/**
 * Device commands of the guide's recovery and emergency procedures, as checked requests and the
 * downlink messages they become: `reset` on esp32/{device}/command and `shutdown` on
 * esp32/{device}/emergency. The guide publishes to `esp32/+/emergency`, which MQTT does not
 * allow (no wildcards in a PUBLISH topic), so a fleet or site stop fans out to every known
 * device, plus one esp32/broadcast/emergency message when asked for.
 */
import { deviceIdProblem } from '../../firmware/contract/identity';
import { SchemaBook } from '../../firmware/contract/schemas';
import { BROADCAST_TARGET, topicFor } from '../../firmware/contract/topics';

export type DeviceCommand = 'reset' | 'restart' | 'report' | 'identify';
export type EmergencyAction = 'shutdown' | 'safe-mode' | 'resume';
const DEVICE_COMMANDS: ReadonlySet<string> = new Set(['reset', 'restart', 'report', 'identify']);
const EMERGENCY_ACTIONS: ReadonlySet<string> = new Set(['shutdown', 'safe-mode', 'resume']);

export interface InventoryDevice {
  readonly id: string;
  /** The fleet file's labels (location, site, labels). */
  readonly labels: ReadonlyMap<string, string>;
  /** The registry's labels for the device, when it has any: a label matches if either source gives it. */
  readonly registryLabels?: ReadonlyMap<string, string>;
}

const hasLabel = (d: InventoryDevice, key: string, value: string): boolean => d.labels.get(key) === value || d.registryLabels?.get(key) === value;

export type Target =
  | { readonly device: string }
  | { readonly devices: readonly string[] }
  | { readonly selector: Readonly<Record<string, string>> }
  | { readonly all: true };

export type Scope = { readonly fleet: true } | { readonly label: string; readonly value: string };

export type CommandRequest =
  | { readonly kind: 'command'; readonly command: DeviceCommand; readonly target: Target; readonly reason?: string; readonly confirm?: string; readonly by?: string }
  | { readonly kind: 'emergency'; readonly action: EmergencyAction; readonly scope: Scope; readonly reason?: string; readonly confirm?: string; readonly by?: string };

export type Parsed<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const MAX_TARGETS = 100_000;

function optionalText(raw: Record<string, unknown>, key: string, max: number): Parsed<string | undefined> {
  const v = raw[key];
  if (v === undefined) return { ok: true, value: undefined };
  if (typeof v !== 'string' || v.length > max) return { ok: false, field: key, reason: `must be text of at most ${max} characters` };
  return { ok: true, value: v };
}

function parseSelector(raw: unknown, field: string): Parsed<Record<string, string>> {
  if (!isObj(raw)) return { ok: false, field, reason: 'must be a mapping of label to value, e.g. {site: "building-a"}' };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string' || v === '') return { ok: false, field: `${field}.${k}`, reason: 'must be a non-empty string' };
    out[k] = v;
  }
  if (Object.keys(out).length === 0) return { ok: false, field, reason: 'is empty; to address every device say all: true' };
  return { ok: true, value: out };
}

function parseTarget(raw: Record<string, unknown>): Parsed<Target> {
  const given = ['device', 'devices', 'selector', 'all'].filter((k) => raw[k] !== undefined);
  if (given.length !== 1) return { ok: false, field: 'target', reason: given.length ? `names ${given.join(' and ')}; give exactly one of device, devices, selector, all` : 'is missing: give device, devices, selector or all' };
  if (raw.device !== undefined) {
    const p = deviceIdProblem(raw.device);
    return p ? { ok: false, field: 'device', reason: p } : { ok: true, value: { device: raw.device as string } };
  }
  if (raw.devices !== undefined) {
    if (!Array.isArray(raw.devices) || raw.devices.length === 0) return { ok: false, field: 'devices', reason: 'must be a non-empty list of device ids' };
    if (raw.devices.length > MAX_TARGETS) return { ok: false, field: 'devices', reason: `lists more than ${MAX_TARGETS} devices` };
    for (let i = 0; i < raw.devices.length; i++) {
      const p = deviceIdProblem(raw.devices[i]);
      if (p) return { ok: false, field: `devices[${i}]`, reason: p };
    }
    return { ok: true, value: { devices: [...new Set(raw.devices as string[])] } };
  }
  if (raw.selector !== undefined) {
    const s = parseSelector(raw.selector, 'selector');
    return s.ok ? { ok: true, value: { selector: s.value } } : s;
  }
  return raw.all === true ? { ok: true, value: { all: true } } : { ok: false, field: 'all', reason: 'must be true when given' };
}

function parseScope(raw: unknown): Parsed<Scope> {
  if (raw === 'fleet') return { ok: true, value: { fleet: true } };
  if (isObj(raw)) {
    const keys = Object.keys(raw);
    if (keys.length === 1 && (keys[0] === 'site' || keys[0] === 'location') && typeof raw[keys[0]] === 'string' && raw[keys[0]] !== '') {
      return { ok: true, value: { label: keys[0], value: raw[keys[0]] as string } };
    }
  }
  return { ok: false, field: 'scope', reason: 'must be "fleet", {site: "<site>"} or {location: "<location>"}' };
}

/**
 * Reads a request from a message payload:
 *   {command: "reset", device | devices | selector | all, reason?, confirm?}
 *   {emergency: "shutdown" | "safe-mode" | "resume", scope: "fleet" | {site}, reason?, confirm?}
 */
export function parseCommandRequest(raw: unknown, by?: string): Parsed<CommandRequest> {
  if (!isObj(raw)) return { ok: false, field: '', reason: 'a command is a mapping with `command` or `emergency`' };
  const reason = optionalText(raw, 'reason', 256);
  if (!reason.ok) return reason;
  const confirm = optionalText(raw, 'confirm', 128);
  if (!confirm.ok) return confirm;
  const extra = { ...(reason.value !== undefined ? { reason: reason.value } : {}), ...(confirm.value !== undefined ? { confirm: confirm.value } : {}), ...(by ? { by } : {}) };
  if (raw.command !== undefined && raw.emergency !== undefined) return { ok: false, field: 'command', reason: 'give command or emergency, not both' };
  if (raw.emergency !== undefined) {
    if (typeof raw.emergency !== 'string' || !EMERGENCY_ACTIONS.has(raw.emergency)) return { ok: false, field: 'emergency', reason: 'must be one of "shutdown", "safe-mode", "resume"' };
    const scope = parseScope(raw.scope);
    if (!scope.ok) return scope;
    return { ok: true, value: { kind: 'emergency', action: raw.emergency as EmergencyAction, scope: scope.value, ...extra } };
  }
  if (typeof raw.command !== 'string' || !DEVICE_COMMANDS.has(raw.command)) return { ok: false, field: 'command', reason: 'must be one of "reset", "restart", "report", "identify"' };
  const target = parseTarget(raw);
  if (!target.ok) return target;
  return { ok: true, value: { kind: 'command', command: raw.command as DeviceCommand, target: target.value, ...extra } };
}

export interface Targets {
  readonly devices: readonly string[];
  /** Every known device (or all: true): needs confirmation. */
  readonly fleetWide: boolean;
  /** For messages, alerts and the confirmation phrase: `fleet`, `site building-a`, `3 devices`, `env_001`. */
  readonly scope: string;
}

function matches(d: InventoryDevice, selector: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (!hasLabel(d, k, v)) return false;
  return true;
}

/** Which devices a request reaches. Named devices must be known when an inventory is given. */
export function resolveTargets(request: CommandRequest, inventory: readonly InventoryDevice[]): Parsed<Targets> {
  const known = new Set(inventory.map((d) => d.id));
  const pick = (devices: string[], scope: string, all = false): Parsed<Targets> => {
    if (devices.length === 0) return { ok: false, field: request.kind === 'emergency' ? 'scope' : 'target', reason: `${scope} reaches no known device` };
    const fleetWide = all || (inventory.length > 1 && devices.length === inventory.length);
    return { ok: true, value: { devices, fleetWide, scope: fleetWide && all ? 'fleet' : scope } };
  };
  if (request.kind === 'emergency') {
    const s = request.scope;
    if ('fleet' in s) return pick(inventory.map((d) => d.id), 'fleet', true);
    return pick(inventory.filter((d) => hasLabel(d, s.label, s.value)).map((d) => d.id), `${s.label} ${s.value}`);
  }
  const t = request.target;
  if ('all' in t) return pick(inventory.map((d) => d.id), 'fleet', true);
  if ('selector' in t) return pick(inventory.filter((d) => matches(d, t.selector)).map((d) => d.id), Object.entries(t.selector).map(([k, v]) => `${k} ${v}`).join(', '));
  const named = 'device' in t ? [t.device] : [...t.devices];
  if (inventory.length > 0) {
    const unknown = named.find((d) => !known.has(d));
    if (unknown !== undefined) return { ok: false, field: 'device' in t ? 'device' : 'devices', reason: `${unknown} is not a known device` };
  }
  return pick(named, named.length === 1 ? named[0] : `${named.length} devices`);
}

export interface Downlink {
  readonly device: string;
  readonly topic: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

const book = new SchemaBook();
const commandValid = book.validator('command', 'reject');
const emergencyValid = book.validator('emergency', 'reject');

/**
 * The downlink messages, each checked against the contract's command or emergency schema (closed:
 * a field the device does not know is a bug here, not something to send).
 */
export function buildDownlinks(request: CommandRequest, targets: Targets, options: { requestId?: string; broadcast?: boolean } = {}): Parsed<Downlink[]> {
  const out: Downlink[] = [];
  if (request.kind === 'command') {
    const payload = { command: request.command, ...(request.reason ? { reason: request.reason } : {}), ...(options.requestId ? { request_id: options.requestId.slice(0, 64) } : {}) };
    const bad = commandValid(payload);
    if (bad) return { ok: false, field: bad.path.slice(1), reason: bad.reason };
    for (const d of targets.devices) out.push({ device: d, topic: topicFor('esp32.command', { device: d }), payload });
    return { ok: true, value: out };
  }
  const payload = { action: request.action, ...(request.reason ? { reason: request.reason } : {}) };
  const bad = emergencyValid(payload);
  if (bad) return { ok: false, field: bad.path.slice(1), reason: bad.reason };
  for (const d of targets.devices) out.push({ device: d, topic: topicFor('esp32.emergency', { device: d }), payload });
  if (options.broadcast && targets.scope === 'fleet') out.push({ device: BROADCAST_TARGET, topic: topicFor('esp32.emergency', { device: BROADCAST_TARGET }), payload });
  return { ok: true, value: out };
}
