/**
 * fleet-command's controller, without Node-RED: reads a message (a fleet file to push, a command,
 * a device's answer, a decoded status, a question for the summary or the audit trail), drives the
 * service, and builds the three outputs. Secrets come from the credentials and from the environment
 * variables the texts name; every output but the first goes through the redactor. The adapter only
 * moves messages, the timer and the status badge.
 */
import { CONFIG_ACK_PATTERN } from '../../firmware/contract/device-config';
import { topicFor } from '../../firmware/contract/topics';
import { alertTopic } from '../alert-shape';
import type { AuditLog } from '../registry/audit';
import type { PushResult } from './ack';
import { parseConfigPatch, parseFleet, parseFleetFile, FLEET_FILE_LIMITS, type FleetError, type FleetModel, type FleetParse, type Patch } from './fleet-file';
import { parseScopeText, parseTargetList, type CommandNodeConfig } from './node-config';
import type { Plan } from './plan';
import { FleetResolver } from './resolve';
import { secretSource, type BrokerConnection } from './secrets';
import { CommandError, CommandService, type Actor, type RegistryDevice, type ServiceStore } from './service';

/** A type, not an interface: it must fit Node-RED's NodeMessage (an index signature). */
export type CommandMessage = { topic: string; payload: unknown; [k: string]: unknown };
/** Output 1 to `mqtt out`, output 2 results, output 3 an alert. */
export type CommandOutputs = [CommandMessage[] | null, CommandMessage[] | CommandMessage | null, CommandMessage | null];

export interface CommandCredentials { readonly wifiPassword?: string; readonly mqttPassword?: string }

/** The registry as the controller uses it: its devices (with labels) and its audit trail. */
export interface CommandRegistry {
  devices(): Iterable<RegistryDevice>;
  /** Null when the registry has none (its journal could not be opened). */
  audit(): AuditLog | null;
}

export interface ControllerDeps {
  readonly config: CommandNodeConfig;
  readonly store: ServiceStore;
  readonly credentials: CommandCredentials;
  /** Reads one environment variable; only names a text refers to are asked for. */
  readonly env: (name: string) => string | undefined;
  readonly broker: BrokerConnection;
  readonly node: { readonly id: string; readonly name?: string };
  /** The chosen registry, asked at each use (null: none chosen, or not deployed). */
  readonly registry: () => CommandRegistry | null;
  readonly clock?: () => number;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const REF = /\$\{([A-Z][A-Z0-9_]{0,63})\}/g;
/** Names whose values are hidden in every output (the secrets module refuses them in plain fields). */
export const SECRET_NAME = /PASS|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL/;
const ACK_TOPIC = new RegExp(`^${CONFIG_ACK_PATTERN.replace('{device}', '([^/]+)')}$`);
export const SUMMARY_TOPIC = 'fleet-command/summary';
export const AUDIT_TOPIC = 'fleet-command/audit';

/** The names a text refers to with ${NAME}: only those environment variables are read. */
export function referencedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(REF)) out.add(m[1]);
  return out;
}

function textOf(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return null;
}

function fleetErrorText(errors: readonly FleetError[]): string {
  const shown = errors.slice(0, 5).map((e) => e.message).join('; ');
  return errors.length > 5 ? `${shown}; and ${errors.length - 5} more` : shown;
}

const invalid = (message: string): CommandError => new CommandError('invalid', `fleet-command: ${message}`);

function patchOrThrow(raw: unknown, path: string[]): Patch {
  const p = parseConfigPatch(raw, 'msg', path);
  if (!p.ok) throw invalid(fleetErrorText(p.errors));
  return p.patch;
}

/** The run-time overrides of a message: `overrides` for every device, `deviceOverrides` per device. */
function runtimeOverrides(msg: Readonly<Record<string, unknown>>): { all?: Patch; byDevice?: Map<string, Patch> } {
  const out: { all?: Patch; byDevice?: Map<string, Patch> } = {};
  if (msg.overrides !== undefined) out.all = patchOrThrow(msg.overrides, ['overrides']);
  if (msg.deviceOverrides !== undefined) {
    if (!isObj(msg.deviceOverrides)) throw invalid('msg.deviceOverrides must be a mapping of device id to fields');
    out.byDevice = new Map(Object.entries(msg.deviceOverrides).map(([d, raw]) => [d, patchOrThrow(raw, ['deviceOverrides', d])]));
  }
  return out;
}

/** The editor's check: the runtime's parser and resolver, answering with errors only (no values). */
export function validateFleetRequest(body: unknown, env: (name: string) => string | undefined): { status: number; body: Record<string, unknown> } {
  const text = isObj(body) ? body.text : undefined;
  if (typeof text !== 'string') return { status: 400, body: { error: 'bad-request', field: 'text', reason: 'must be the fleet file as text' } };
  if (Buffer.byteLength(text) > FLEET_FILE_LIMITS.maxBytes) return { status: 413, body: { error: 'too-large', reason: 'the fleet file is larger than 4 MiB' } };
  const parsed = parseFleetFile(text, { file: 'fleet file' });
  if (!parsed.ok) return { status: 200, body: { ok: false, errors: parsed.errors.map((e) => e.message), warnings: parsed.warnings.map((e) => e.message) } };
  // Only names whose value is not secret are looked up; secret references are checked by name.
  const values = new Map<string, string>();
  for (const n of referencedNames(text)) { const v = env(n); if (v !== undefined && !SECRET_NAME.test(n)) values.set(n, v); }
  const resolved = new FleetResolver(parsed.fleet).resolveAll(values);
  return {
    status: 200,
    body: {
      ok: resolved.every((r) => r.errors.length === 0), devices: parsed.fleet.devices.length,
      errors: resolved.flatMap((r) => r.errors.map((e) => e.message)).slice(0, 50),
      warnings: [...parsed.warnings.map((e) => e.message), ...resolved.flatMap((r) => r.warnings.map((e) => e.message))].slice(0, 50),
    },
  };
}

export class CommandController {
  readonly service: CommandService;
  private readonly configured: FleetParse | null;

  constructor(private readonly deps: ControllerDeps) {
    const { config } = deps;
    const initial = this.secretsFor([config.fleetFile]);
    this.service = new CommandService(deps.store, initial.source, {
      broker: deps.broker, allowCleartextSecrets: config.allowCleartextSecrets, broadcast: config.broadcast,
      ack: { timeoutMs: config.ackTimeoutS * 1000, retries: config.retries },
      audit: () => deps.registry()?.audit() ?? null,
    }, deps.clock);
    this.service.setSecrets(initial.source, initial.hide);
    this.configured = config.fleetFile.trim() ? parseFleetFile(config.fleetFile, { file: 'fleet file' }) : null;
  }

  /** Credentials first, then the environment variables the texts name; `hide` is what to redact. */
  private secretsFor(texts: readonly string[]) {
    const names = new Set<string>();
    for (const x of texts) for (const n of referencedNames(x)) names.add(n);
    const env: Record<string, string | undefined> = {};
    for (const n of names) env[n] = this.deps.env(n);
    const { config, credentials: creds } = this.deps;
    const source = secretSource({ [config.wifiSecretName]: creds.wifiPassword, [config.mqttSecretName]: creds.mqttPassword }, env);
    const hide = [creds.wifiPassword, creds.mqttPassword, ...[...names].filter((n) => SECRET_NAME.test(n)).map((n) => env[n])]
      .filter((v): v is string => typeof v === 'string' && v !== '');
    return { source, hide };
  }

  redact(text: string): string { return this.service.redact.text(text); }
  private clean<T>(v: T): T { return this.service.redact.value(v) as T; }

  /** Once the store is restored: reads it back; returns a warning about the configured fleet file, if any. */
  restore(): string | null {
    this.service.restore();
    if (this.configured?.ok) { this.service.setFleet(this.configured.fleet); return null; }
    return this.configured ? this.redact(`fleet-command: ${fleetErrorText(this.configured.errors)}`) : null;
  }

  /** The badge: counts and whether anything failed or waits. */
  status(): { fill: 'red' | 'yellow' | 'green'; counts: { pending: number; applied: number; failed: number; stopped: number } } {
    const s = this.service.summary();
    const stopped = this.service.commanded().length;
    const failed = s.failed + s.rejected;
    return { fill: failed > 0 ? 'red' : s.pending > 0 || stopped > 0 ? 'yellow' : 'green', counts: { pending: s.pending, applied: s.applied, failed, stopped } };
  }

  private who(msg: Readonly<Record<string, unknown>>): Actor {
    const { id, name } = this.deps.node;
    return { node: id, ...(name ? { name } : {}), ...(typeof msg.by === 'string' && msg.by ? { actor: msg.by.slice(0, 128) } : {}) };
  }

  private resultMsg(r: PushResult): CommandMessage { return { topic: `fleet-command/result/${r.device}`, device: r.device, payload: this.clean(r) }; }

  private summaryMsg(extra: Record<string, unknown> = {}): CommandMessage {
    return { topic: SUMMARY_TOPIC, payload: this.clean({ ...extra, acks: this.service.summary(), pending: this.service.pendingCount(), commanded: this.service.commanded().length }) };
  }

  private settledOutputs(r: PushResult | null): CommandOutputs | null {
    return r ? [null, [this.resultMsg(r), this.summaryMsg()], null] : null;
  }

  /**
   * One message. Returns what to send (null: nothing), or throws a CommandError naming what is wrong
   * (already redacted). A push with invalid devices sends the valid ones (`partial`) and throws too.
   */
  input(msg: Readonly<Record<string, unknown>>, send: (out: CommandOutputs) => void): void {
    try {
      const out = this.dispatch(msg, send);
      if (out) send(out);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      err.message = this.redact(err.message);
      throw err;
    }
  }

  private dispatch(msg: Readonly<Record<string, unknown>>, send: (out: CommandOutputs) => void): CommandOutputs | null {
    const topic = typeof msg.topic === 'string' ? msg.topic : '';
    const ack = ACK_TOPIC.exec(topic);
    if (ack) return this.ack(ack[1], msg.payload);
    // A decoded message from fleet-decode: an answer, or a status or health whose config_version/config_hash settles a push.
    const dev = isObj(msg.device) && typeof msg.device.id === 'string' ? msg.device.id : null;
    if (dev !== null && typeof msg.kind === 'string') {
      if (msg.kind === 'config-ack') return this.ack(dev, msg.payload);
      return isObj(msg.payload) ? this.settledOutputs(this.service.status(dev, msg.payload)) : null;
    }
    if (topic === SUMMARY_TOPIC) return [null, { ...this.summaryMsg(), results: this.clean(this.service.results()), audit: this.service.auditEntries({ limit: 50 }) }, null];
    if (topic === AUDIT_TOPIC) return [null, this.auditMsg(msg), null];
    const p = msg.payload;
    if (isObj(p) && (p.command !== undefined || p.emergency !== undefined)) return this.command(msg);
    if (this.deps.config.mode === 'push') return this.push(msg, send);
    return this.command(msg);
  }

  private auditMsg(msg: Readonly<Record<string, unknown>>): CommandMessage {
    const whole = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
    const { log, source } = this.service.auditLog();
    const since = whole(msg.since);
    const limit = whole(msg.limit);
    return { topic: AUDIT_TOPIC, payload: { source, size: log.size, capacity: log.capacity, entries: log.entries({ ...(since !== undefined ? { since } : {}), ...(limit ? { limit } : {}) }) } };
  }

  private ack(device: string, payload: unknown): CommandOutputs | null {
    let body = payload;
    const text = textOf(payload);
    if (text !== null) {
      try { body = JSON.parse(text); } catch { throw invalid(`${topicFor('config.ack', { device })}: payload is not JSON`); }
    }
    return this.settledOutputs(this.service.reply(device, body));
  }

  private fleetFrom(msg: Readonly<Record<string, unknown>>): { fleet: FleetModel; text: string } {
    const text = textOf(msg.payload);
    let parsed: FleetParse | null = this.configured;
    let raw = this.deps.config.fleetFile;
    if (text !== null && text.trim() !== '') { parsed = parseFleetFile(text, { file: 'msg.payload' }); raw = text; }
    else if (isObj(msg.payload) && isObj(msg.payload.fleet)) {
      raw = JSON.stringify(msg.payload);
      if (raw.length > FLEET_FILE_LIMITS.maxBytes) throw invalid('msg.payload is larger than 4 MiB');
      parsed = parseFleet(msg.payload, { file: 'msg.payload' });
    }
    if (!parsed) throw invalid('no fleet file: set one in the node or send it as msg.payload (YAML text or an object with `fleet`)');
    if (!parsed.ok) throw invalid(fleetErrorText(parsed.errors));
    return { fleet: parsed.fleet, text: raw };
  }

  private planPayload(plan: Plan): unknown {
    return this.clean({ summary: plan.summary, devices: plan.entries.map((e) => ({ device: e.device, action: e.action, version: e.version, hash: e.hash, changes: e.changes, errors: e.errors.map((x) => x.message), warnings: e.warnings.map((x) => x.message) })) });
  }

  private push(msg: Readonly<Record<string, unknown>>, send: (out: CommandOutputs) => void): null {
    const { fleet, text } = this.fleetFrom(msg);
    const runtime = runtimeOverrides(msg);
    const { source, hide } = this.secretsFor([text, JSON.stringify(msg.overrides ?? null), JSON.stringify(msg.deviceOverrides ?? null)]);
    this.service.setSecrets(source, hide);
    const only = parseTargetList(msg.targets);
    if (!only.ok) throw invalid(`msg.targets: ${only.reason}`);
    const dryRun = msg.dryRun === undefined ? this.deps.config.dryRun : msg.dryRun === true;
    const force = msg.force === true ? 'all' as const : Array.isArray(msg.force) ? new Set(msg.force.map(String)) : undefined;
    const out = this.service.push(fleet, { runtime, dryRun, ...(force ? { force } : {}), ...(only.value.length ? { only: new Set(only.value) } : {}), who: this.who(msg) });
    const results: CommandMessage[] = out.superseded.map((r) => this.resultMsg(r));
    results.push({ topic: dryRun ? 'fleet-command/dry-run' : 'fleet-command/plan', payload: this.planPayload(out.plan) });
    const byDevice = new Map(this.service.results().map((r) => [r.device, r]));
    for (const m of out.messages) { const r = byDevice.get(m.device); if (r) results.push(this.resultMsg(r)); }
    results.push(this.summaryMsg({ plan: out.plan.summary, refused: out.refused.length }));
    send([out.messages.map((m) => ({ topic: m.topic, payload: m.payload, qos: 1, retain: false })), results, null]);
    const problems = [
      ...out.plan.entries.filter((e) => e.action === 'invalid').flatMap((e) => e.errors.map((x) => x.message)),
      ...out.refused.map((r) => `device ${r.device}: ${r.field ? `${r.field} ` : ''}${r.reason}`),
    ];
    // Valid devices went; the invalid ones did not, and a catch node hears which and why.
    if (problems.length) throw invalid(`not sent: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` and ${problems.length - 10} more` : ''}`);
    return null;
  }

  /** The request a message stands for: its payload's, or the node's mode with the message's targets, scope and action. */
  private commandRequest(msg: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const p = isObj(msg.payload) ? msg.payload : {};
    const pick = (k: 'confirm' | 'reason') => (typeof p[k] === 'string' ? p[k] : typeof msg[k] === 'string' ? msg[k] : undefined);
    const extra = Object.fromEntries((['confirm', 'reason'] as const).map((k) => [k, pick(k)]).filter((e) => e[1] !== undefined));
    if (p.command !== undefined || p.emergency !== undefined) return { ...p, ...extra };
    const { config } = this.deps;
    if (config.mode === 'reset') {
      const listed = msg.targets !== undefined ? parseTargetList(msg.targets) : { ok: true as const, value: [...config.targets] };
      if (!listed.ok) throw invalid(`msg.targets: ${listed.reason}`);
      return { command: 'reset', ...(listed.value.length ? { devices: listed.value } : { all: true }), ...extra };
    }
    return { emergency: typeof msg.action === 'string' ? msg.action : 'shutdown', scope: msg.scope !== undefined ? msg.scope : parseScopeText(config.scope), ...extra };
  }

  private command(msg: Readonly<Record<string, unknown>>): CommandOutputs {
    const registry = this.deps.registry();
    const out = this.service.command(this.commandRequest(msg), { who: this.who(msg), registry: registry ? registry.devices() : [] });
    const results: CommandMessage[] = [{ topic: `fleet-command/${out.kind}`, payload: this.clean({ what: out.what, scope: out.targets.scope, devices: out.targets.devices, sent: out.messages.length }) }];
    if (out.commanded) results.push({ topic: 'commanded', payload: { action: out.commanded.action, devices: [...out.commanded.devices] } });
    return [out.messages.map((m) => ({ topic: m.topic, payload: m.payload, qos: 1, retain: false })), results, out.alert ? { topic: alertTopic({ labels: out.alert.labels, device: null }), payload: this.clean(out.alert) } : null];
  }

  /** On close: what is batched is written. */
  close(): void {
    this.service.flushAudit();
  }

  /** Timeouts: pushes to send again and pushes that failed (null: nothing due). */
  tick(): CommandOutputs | null {
    const due = this.service.tick();
    if (due.resend.length === 0 && due.failed.length === 0) return null;
    return [due.resend.map((m) => ({ topic: m.topic, payload: m.payload, qos: 1, retain: false })), [...due.failed.map((r) => this.resultMsg(r)), this.summaryMsg()], null];
  }
}
