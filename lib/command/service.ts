/**
 * The fleet-command service: the domain modules joined into the one object a node drives. It owns
 * the state that decides what is sent — the last applied configuration per device, pending pushes
 * and the commanded-offline list — and writes every change to its store *before* handing back the
 * messages to send, so a crash between the two re-sends instead of forgetting. Every push, dry run
 * and command goes into an audit trail (the registry's, or one in the node's own store) before it
 * is sent, and a push's entry is updated as its devices answer, fail or time out.
 * Nothing it returns outside `PushMessage.payload` holds a secret value.
 */
import { parseDeviceConfigAck, type DeviceConfig } from '../../firmware/contract/device-config';
import type { FleetAlert } from '../alert-shape';
import { AckTracker, DEFAULT_ACK_OPTIONS, type AckOptions, type AckSummary, type PushResult } from './ack';
import { AuditLog, describeTargets, type AuditAction, type AuditEntry, type AuditOutcomeState } from '../registry/audit';
import { buildDownlinks, parseCommandRequest, resolveTargets, type Downlink, type InventoryDevice, type Targets } from './commands';
import type { FleetModel } from './fleet-file';
import { buildPushMessages, planPush, type Plan, type PushedState, type PushRefusal } from './plan';
import { FleetResolver, type RuntimeOverrides } from './resolve';
import { DEFAULT_RATE_LIMITS, SafetyGate, type RateLimits } from './safety';
import { Redactor, type BrokerConnection, type SecretSource } from './secrets';

/** The part of a node's state store the service uses: a durable store commits before returning. */
export interface ServiceStore {
  get(key: string): unknown;
  keys(): string[];
  commit(changes: Iterable<readonly [string, unknown]>): void;
}

export interface ServiceOptions {
  readonly ack?: AckOptions;
  readonly broker: BrokerConnection;
  readonly allowCleartextSecrets?: boolean;
  /** Also publish esp32/broadcast/emergency on a fleet-wide stop. */
  readonly broadcast?: boolean;
  readonly limits?: RateLimits;
  /** The registry's audit trail, asked at each use (null: not deployed); without it the node keeps its own. */
  readonly audit?: () => AuditLog | null;
  /** Capacity of the node's own trail. */
  readonly auditCapacity?: number;
}

/** Who acts: the node (id and name) and, when the message names one, the person or system behind it. */
export interface Actor {
  readonly node?: string;
  readonly name?: string;
  readonly actor?: string;
}

/** A device the registry knows, with its labels (site, location) for scopes and selectors. */
export interface RegistryDevice {
  readonly id: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A refusal a flow can catch: the code says which rule, the message names device and field. */
export class CommandError extends Error {
  constructor(readonly code: 'invalid' | 'confirmation' | 'rate-limit' | 'target' | 'refused', message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'CommandError';
  }
}

/** A pending push as stored: references only, so a resend fills the secrets again. */
interface StoredPending {
  device: string;
  version: number;
  hash: string;
  requestId: string;
  config: DeviceConfig;
  attempts: number;
  sentAt: number;
  /** The audit entry of the push that sent it, updated when it settles. */
  auditSeq?: number;
}

export interface OutMessage {
  readonly topic: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly device: string;
}

export interface PushOutcome {
  readonly plan: Plan;
  readonly dryRun: boolean;
  /** For the broker only (holds secret values). */
  readonly messages: readonly OutMessage[];
  readonly refused: readonly PushRefusal[];
  readonly superseded: readonly PushResult[];
}

export interface CommandOutcome {
  readonly kind: 'command' | 'emergency';
  readonly what: string;
  readonly targets: Targets;
  readonly messages: readonly Downlink[];
  readonly alert: FleetAlert | null;
  /** Set when the commanded-offline list changed. */
  readonly commanded: { readonly action: string; readonly devices: readonly string[] } | null;
}

const PUSHED = 'pushed/';
const PENDING = 'pending/';
const COMMANDED = 'commanded/';
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

function readPending(v: unknown): StoredPending | null {
  if (!isObj(v)) return null;
  const ok = typeof v.device === 'string' && typeof v.version === 'number' && typeof v.hash === 'string' && typeof v.requestId === 'string'
    && isObj(v.config) && typeof v.attempts === 'number' && typeof v.sentAt === 'number';
  return ok ? (v as unknown as StoredPending) : null;
}

function readPushed(v: unknown): PushedState | null {
  if (!isObj(v) || typeof v.version !== 'number' || typeof v.hash !== 'string' || !isObj(v.config)) return null;
  return v as unknown as PushedState;
}

export class CommandService {
  private readonly pushed = new Map<string, PushedState>();
  private readonly pending = new Map<string, StoredPending>();
  private readonly tracker: AckTracker;
  private readonly gate: SafetyGate;
  private readonly offlineSince = new Map<string, { action: string; since: number }>();
  private local: AuditLog | null = null;
  private redactor: Redactor;
  private fleet: FleetModel | null = null;

  constructor(private readonly store: ServiceStore, private secrets: SecretSource, private readonly options: ServiceOptions, private readonly clock: () => number = Date.now) {
    this.tracker = new AckTracker(options.ack ?? DEFAULT_ACK_OPTIONS);
    this.gate = new SafetyGate(options.limits ?? DEFAULT_RATE_LIMITS);
    this.redactor = Redactor.from(secrets);
  }

  /** The trail in use: the registry's when it is there, else the node's own (in the node's store, under `audit/`). */
  auditLog(): { log: AuditLog; source: 'registry' | 'node' } {
    const shared = this.options.audit?.() ?? null;
    if (shared) return { log: shared, source: 'registry' };
    this.local ??= new AuditLog(this.store, this.options.auditCapacity, this.clock);
    return { log: this.local, source: 'node' };
  }

  /**
   * Replaces the secret values (credentials or environment changed). `redact` are the values to
   * hide in every output (default: all of the source's values).
   */
  setSecrets(secrets: SecretSource, redact?: Iterable<string>): void {
    this.secrets = secrets;
    this.redactor = redact ? new Redactor(redact) : Redactor.from(secrets);
  }

  /** The fleet commands are targeted against, before any push (the node's configured file). */
  setFleet(fleet: FleetModel): void {
    this.fleet = fleet;
  }

  get redact(): Redactor { return this.redactor; }

  /** Reads the store back (call once it is restored, before the first message). */
  restore(): void {
    for (const k of this.store.keys()) {
      const v = this.store.get(k);
      if (k.startsWith(PUSHED)) { const p = readPushed(v); if (p) this.pushed.set(k.slice(PUSHED.length), p); }
      else if (k.startsWith(PENDING)) { const p = readPending(v); if (p) this.pending.set(p.device, p); }
      else if (k.startsWith(COMMANDED) && isObj(v) && typeof v.action === 'string' && typeof v.since === 'number') this.offlineSince.set(k.slice(COMMANDED.length), { action: v.action, since: v.since });
    }
    // A pending push survives a restart: it is tracked again and re-sent at its next deadline.
    for (const p of this.pending.values()) this.tracker.start(p, p.sentAt);
  }

  /**
   * The devices the service knows: the last fleet file's and the registry's, each with the labels
   * both give (a site scope reaches a device when either says that site).
   */
  inventory(registry: Iterable<RegistryDevice | string> = []): InventoryDevice[] {
    const out = new Map<string, InventoryDevice>();
    for (const d of this.fleet?.devices ?? []) out.set(d.id, { id: d.id, labels: d.labels });
    for (const r of registry) {
      const id = typeof r === 'string' ? r : r.id;
      const labels = typeof r === 'string' || !r.labels ? null : new Map(Object.entries(r.labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
      const known = out.get(id);
      if (!known) out.set(id, { id, labels: labels ?? new Map() });
      else if (labels && labels.size) out.set(id, { ...known, registryLabels: labels });
    }
    return [...out.values()];
  }

  /** What the plan compares against: a pending push counts as pushed, so it is not sent twice. */
  private last(): Map<string, PushedState> {
    const m = new Map(this.pushed);
    for (const p of this.pending.values()) m.set(p.device, { version: p.version, hash: p.hash, config: p.config });
    return m;
  }

  /** On record (durable) before the caller sends anything; every text redacted with the current secrets. */
  private record(who: Actor | undefined, e: { action: AuditAction; what: string; target: string; count: number; result: string; awaiting?: number }): AuditEntry {
    const r = (x: string | undefined) => (x === undefined ? undefined : this.redactor.text(x));
    const shown = who?.actor ?? who?.name ?? (who?.node ? `node ${who.node}` : undefined);
    return this.auditLog().log.record({
      who: r(shown), node: who?.node ?? null, actor: r(who?.actor) ?? null, action: e.action, what: r(e.what)!, target: r(e.target)!,
      count: e.count, result: r(e.result)!, ...(e.awaiting !== undefined ? { awaiting: e.awaiting } : {}),
    });
  }

  /** A push to one device ended: its entry in the trail that recorded it says so (when that trail still has it). */
  private auditSettle(p: StoredPending | undefined, state: AuditOutcomeState, reason: string | null): void {
    if (p?.auditSeq === undefined) return;
    this.auditLog().log.settle(p.auditSeq, p.device, state, reason === null ? null : this.redactor.text(reason));
  }

  /**
   * Plans a push and, unless a dry run, records the pending pushes and the audit entry, then
   * returns the messages. Invalid devices never get a message; the plan says why.
   */
  push(fleet: FleetModel, input: { runtime?: RuntimeOverrides; dryRun?: boolean; force?: ReadonlySet<string> | 'all'; only?: ReadonlySet<string>; who?: Actor }): PushOutcome {
    this.fleet = fleet;
    const resolver = new FleetResolver(fleet);
    const resolved = resolver.resolveAll(this.secrets, input.runtime);
    const plan = planPush(resolved, this.last(), { ...(input.force ? { force: input.force } : {}), ...(input.only ? { only: input.only } : {}) });
    const s = plan.summary;
    const counts = `${s.push} to push, ${s.unchanged} unchanged, ${s.invalid} invalid, ${s.removed} removed`;
    const target = describeTargets(plan.entries.map((e) => e.device));
    const what = `config push (${fleet.name ?? 'fleet file'})`;
    if (input.dryRun) {
      this.record(input.who, { action: 'config-dry-run', what, target, count: 0, result: counts });
      return { plan, dryRun: true, messages: [], refused: [], superseded: [] };
    }
    const built = buildPushMessages(plan, new Map(resolved.map((r) => [r.device, r])), this.secrets, { broker: this.options.broker, allowCleartextSecrets: this.options.allowCleartextSecrets, requestPrefix: 'cfg' });
    const refusedText = built.refused.length ? `, refused ${built.refused.map((r) => `${r.device} ${r.field}: ${r.reason}`).join(', ')}` : '';
    const entry = this.record(input.who, {
      action: 'config-push', what, target: describeTargets(built.messages.map((m) => m.device)) || target, count: built.messages.length,
      result: `${counts}${refusedText}`, awaiting: built.messages.length,
    });
    const now = this.clock();
    const changes: Array<[string, unknown]> = [];
    const superseded: PushResult[] = [];
    for (const m of built.messages) {
      const p: StoredPending = { device: m.device, version: m.version, hash: m.hash, requestId: m.requestId, config: m.config, attempts: 1, sentAt: now, auditSeq: entry.seq };
      const before = this.pending.get(m.device);
      this.pending.set(m.device, p);
      const old = this.tracker.start(p, now);
      if (old) { superseded.push(old); this.auditSettle(before, 'superseded', old.reason); }
      changes.push([`${PENDING}${m.device}`, p]);
    }
    // Durable before the effect: once this returns, a restart knows these pushes are pending.
    this.store.commit(changes);
    return { plan, dryRun: false, messages: built.messages.map((m) => ({ topic: m.topic, payload: m.payload, device: m.device })), refused: built.refused, superseded };
  }

  /** A reset, restart or emergency: parsed, targeted, confirmed and rate-limited, or a CommandError. */
  command(raw: unknown, input: { who?: Actor; registry?: Iterable<RegistryDevice | string> } = {}): CommandOutcome {
    const by = input.who?.actor ?? input.who?.name ?? (input.who?.node ? `node ${input.who.node}` : undefined);
    const parsed = parseCommandRequest(raw, by === undefined ? undefined : this.redactor.text(by));
    if (!parsed.ok) throw new CommandError('invalid', `fleet-command: msg.payload${parsed.field ? `.${parsed.field}` : ''} ${parsed.reason}`);
    const request = parsed.value;
    const targets = resolveTargets(request, this.inventory(input.registry));
    if (!targets.ok) throw new CommandError('target', `fleet-command: msg.payload.${targets.field}: ${targets.reason}`);
    const what = request.kind === 'emergency' ? request.action : request.command;
    const action: AuditAction = request.kind === 'emergency' ? 'emergency' : 'command';
    const now = this.clock();
    const verdict = this.gate.check(request, targets.value, now);
    if (!verdict.ok) {
      this.record(input.who, { action, what, target: targets.value.scope, count: 0, result: `refused: ${verdict.reason}` });
      throw new CommandError(verdict.code, `fleet-command: ${verdict.reason}`, verdict.retryAfterMs);
    }
    const downlinks = buildDownlinks(request, targets.value, { broadcast: this.options.broadcast, requestId: `cmd-${now}` });
    if (!downlinks.ok) throw new CommandError('invalid', `fleet-command: ${downlinks.field}: ${downlinks.reason}`);
    const changes: Array<[string, unknown]> = [];
    let commanded: CommandOutcome['commanded'] = null;
    if (request.kind === 'emergency') {
      for (const d of targets.value.devices) {
        if (request.action === 'resume') { this.offlineSince.delete(d); changes.push([`${COMMANDED}${d}`, undefined]); }
        else { this.offlineSince.set(d, { action: request.action, since: now }); changes.push([`${COMMANDED}${d}`, { action: request.action, since: now }]); }
      }
      commanded = { action: request.action, devices: targets.value.devices };
    }
    this.record(input.who, { action, what, target: `${targets.value.scope} (${describeTargets(targets.value.devices)})`, count: targets.value.devices.length, result: `sent to ${targets.value.devices.length} devices` });
    this.store.commit(changes);
    return { kind: request.kind, what, targets: targets.value, messages: downlinks.value, alert: verdict.alert, commanded };
  }

  private settled(r: PushResult | null): PushResult | null {
    if (!r) return null;
    const changes: Array<[string, unknown]> = [[`${PENDING}${r.device}`, undefined]];
    const p = this.pending.get(r.device);
    this.pending.delete(r.device);
    if (r.state === 'applied' && p) {
      const state: PushedState = { version: p.version, hash: p.hash, config: p.config };
      this.pushed.set(r.device, state);
      changes.push([`${PUSHED}${r.device}`, state]);
    }
    this.store.commit(changes);
    if (r.state !== 'pending') this.auditSettle(p, r.state, r.reason ?? (r.via ? `by ${r.via}` : null));
    return r;
  }

  /** The device's reply on config/ack/{device}; a malformed reply is a CommandError naming the field. */
  reply(device: string, payload: unknown): PushResult | null {
    const ack = parseDeviceConfigAck(payload);
    if (!ack.ok) throw new CommandError('invalid', `fleet-command: config/ack/${device}: ${ack.errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`);
    return this.settled(this.tracker.reply(device, ack.value, this.clock()));
  }

  /** A status or health payload: settles a pending push that it reports as applied. */
  status(device: string, reported: { config_version?: unknown; config_hash?: unknown }): PushResult | null {
    return this.settled(this.tracker.status(device, reported, this.clock()));
  }

  /** Writes the node's own trail's batched result updates (the registry flushes its own). */
  flushAudit(): void {
    this.local?.flush();
  }

  /** Timeouts: messages to send again (secrets filled again) and pushes that failed. */
  tick(): { resend: OutMessage[]; failed: PushResult[] } {
    const due = this.tracker.tick(this.clock());
    const resend: OutMessage[] = [];
    const failed: PushResult[] = [];
    const changes: Array<[string, unknown]> = [];
    for (const r of due.resend) {
      const p = this.pending.get(r.device);
      if (!p) continue;
      p.attempts = r.attempts;
      changes.push([`${PENDING}${r.device}`, p]);
      const msg = this.rebuild(p);
      if (msg) resend.push(msg);
    }
    if (changes.length) this.store.commit(changes);
    for (const r of due.failed) { const s = this.settled(r); if (s) failed.push(s); }
    this.flushAudit();
    return { resend, failed };
  }

  private rebuild(p: StoredPending): OutMessage | null {
    const plan: Plan = { entries: [{ device: p.device, action: 'push', version: p.version, hash: p.hash, changes: [], errors: [], warnings: [] }], summary: { devices: 1, push: 1, unchanged: 0, invalid: 0, removed: 0 } };
    const resolved = new Map([[p.device, { device: p.device, labels: new Map<string, string>(), config: p.config, hash: p.hash, sources: new Map<string, string>(), errors: [], warnings: [] }]]);
    const built = buildPushMessages(plan, resolved, this.secrets, { broker: this.options.broker, allowCleartextSecrets: this.options.allowCleartextSecrets, requestPrefix: 'cfg' });
    const m = built.messages[0];
    return m ? { topic: m.topic, payload: m.payload, device: m.device } : null;
  }

  results(): PushResult[] { return this.tracker.results(); }
  summary(devices?: ReadonlySet<string>): AckSummary { return this.tracker.summary(devices); }
  pendingCount(): number { return this.pending.size; }
  lastPushed(device: string): PushedState | undefined { return this.pushed.get(device); }
  auditEntries(options: { since?: number; limit?: number } = {}): AuditEntry[] { return this.auditLog().log.entries(options); }
  /** Devices offline by command, with the action and since when (for fleet-health). */
  commanded(): Array<{ device: string; action: string; since: number }> {
    return [...this.offlineSince].map(([device, v]) => ({ device, ...v }));
  }
}
