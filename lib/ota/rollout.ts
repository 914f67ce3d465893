/**
 * The rollout state machine: pure (no timers, no I/O; the clock comes in with every input).
 *
 * Each `handle(input)` returns the journal changes of the step, the effects to send (commands,
 * cancels, alerts) and the events that happened (for progress outputs). The node commits the
 * changes (lib/store/journal.ts) before it sends the effects, so a crash loses at most the effects of
 * the last step and never repeats one: a command's attempt number is durable before the command
 * goes out, and a command lost that way times out and is retried as the next attempt. An attempt that
 * was in flight with no word from the device when the machine was restored does not use up a retry
 * when it times out (the crash, not the device, may have lost it).
 *
 * Per device: PENDING → SENT → (the contract's QUEUED … UPDATING) → UPDATED (health gate) →
 * SUCCEEDED, or FAILED / ROLLED_BACK / REJECTED / TIMED_OUT (retried up to the plan's limits where
 * a retry can help), or CANCELED by an abort. A wave advances when all its devices are final, its
 * error rate is under hawkBit's group threshold, its updated devices do not score worse than the
 * not-yet-updated devices of the same kind by more than the margin, and its soak time has passed.
 */
import { OTA_JOB_ID_MAX_LENGTH } from '../../firmware/contract/ota';
import type { JournalChange } from '../store/journal';
import { makeAlert, type FleetAlert, type Severity } from '../alert-shape';
import type { HealthState } from '../health/tracker';
import { checkTarget, sameVersion, type Manifest } from './manifest';
import type { FailureType, RolloutPlan } from './plan';
import { planWaves } from './planner';
import type { OtaProgress } from './progress';
import {
  IN_FLIGHT, readDeviceRecord, readMeta,
  type DevicePhase, type DeviceRecord, type RolloutImage, type RolloutMeta, type RolloutStatus, type WaveState,
} from './rollout-record';

export type { DevicePhase, DeviceRecord, RolloutImage, RolloutMeta, RolloutStatus, WaveState } from './rollout-record';

export interface HealthView {
  readonly state: HealthState;
  readonly score: number;
}
/** fleet-health's current view of a device, or undefined when it has none. */
export type HealthLookup = (device: string) => HealthView | undefined;

export type RolloutInput =
  | { readonly type: 'progress'; readonly device: string; readonly progress: OtaProgress; readonly at: number }
  /** The version a device reports running (heartbeat, registry). */
  | { readonly type: 'version'; readonly device: string; readonly version: string; readonly at: number }
  /** A fleet-health state change. */
  | { readonly type: 'health'; readonly device: string; readonly state: HealthState; readonly at: number }
  | { readonly type: 'tick'; readonly at: number; readonly health?: HealthLookup }
  | { readonly type: 'pause' | 'resume' | 'abort'; readonly at: number; readonly reason?: string };

export type RolloutEffect =
  | { readonly type: 'command'; readonly device: string; readonly attempt: number; readonly jobId: string; readonly image: RolloutImage }
  | { readonly type: 'cancel'; readonly device: string; readonly jobId: string }
  | { readonly type: 'alert'; readonly alert: FleetAlert };

export type RolloutEvent =
  | { readonly type: 'device'; readonly device: string; readonly from: DevicePhase; readonly to: DevicePhase; readonly attempt: number; readonly reason: string | null; readonly at: number }
  | { readonly type: 'wave'; readonly wave: number; readonly name: string; readonly state: WaveState | 'started' | 'passed'; readonly note: string | null; readonly at: number }
  | { readonly type: 'rollout'; readonly status: RolloutStatus; readonly note: string | null; readonly at: number };

export interface StepOutput {
  /** Commit these (one journal commit) before sending `effects`. */
  readonly changes: JournalChange[];
  readonly effects: RolloutEffect[];
  readonly events: RolloutEvent[];
}

export interface RolloutTarget {
  readonly id: string;
  readonly kind: string;
  readonly arch?: string | null;
  readonly version?: string | null;
}

export interface WaveCounts {
  pending: number; inFlight: number; gating: number; succeeded: number;
  failed: number; rolledBack: number; rejected: number; timedOut: number; canceled: number;
}

/** The last health-margin comparison of a wave: mean scores per kind, updated against not yet updated. */
export interface GateView {
  readonly held: boolean;
  readonly margin: number;
  readonly kinds: ReadonlyArray<{ readonly kind: string; readonly updated: number; readonly updatedDevices: number; readonly waiting: number; readonly waitingDevices: number }>;
  readonly at: number;
}

export interface RolloutSummary {
  readonly id: string;
  readonly status: RolloutStatus;
  readonly wave: number;
  readonly waveName: string | null;
  readonly waveState: WaveState;
  readonly note: string | null;
  /** `gate`: the wave's last health-margin comparison (in memory: null again after a restart until it is next judged). */
  readonly waves: ReadonlyArray<{ readonly name: string; readonly size: number; readonly counts: WaveCounts; readonly gate: GateView | null }>;
  readonly totals: WaveCounts;
  readonly refused: number;
}

export interface RolloutSnapshot {
  readonly meta: RolloutMeta;
  readonly devices: readonly DeviceRecord[];
}

const ROLLOUT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
const SOURCE = 'fleet-ota';
const emptyCounts = (): WaveCounts => ({ pending: 0, inFlight: 0, gating: 0, succeeded: 0, failed: 0, rolledBack: 0, rejected: 0, timedOut: 0, canceled: 0 });

function countKey(p: DevicePhase): keyof WaveCounts {
  switch (p) {
    case 'PENDING': return 'pending';
    case 'UPDATED': return 'gating';
    case 'SUCCEEDED': return 'succeeded';
    case 'FAILED': return 'failed';
    case 'ROLLED_BACK': return 'rolledBack';
    case 'REJECTED': return 'rejected';
    case 'TIMED_OUT': return 'timedOut';
    case 'CANCELED': return 'canceled';
    default: return 'inFlight';
  }
}

/** AWS IoT Jobs' failure type of a final phase (ROLLED_BACK is a failed execution there). */
function failureTypeOf(p: DevicePhase): Exclude<FailureType, 'ALL'> | null {
  if (p === 'FAILED' || p === 'ROLLED_BACK') return 'FAILED';
  if (p === 'REJECTED') return 'REJECTED';
  if (p === 'TIMED_OUT') return 'TIMED_OUT';
  return null;
}

export const metaKey = (id: string): string => `ota:${id}:meta`;
export const deviceKey = (id: string, device: string): string => `ota:${id}:d:${device}`;
export const jobIdOf = (id: string, attempt: number): string => `${id}-a${attempt}`;

export class Rollout {
  private readonly devices = new Map<string, DeviceRecord>();
  /** Derived indexes, rebuilt on restore. */
  private readonly inFlight = new Set<string>();
  private readonly gating = new Set<string>();
  private queue: string[] = [];
  private queueAt = 0;
  private counts: WaveCounts[] = [];
  private refused = 0;
  private executed = 0;
  private readonly failures = { FAILED: 0, REJECTED: 0, TIMED_OUT: 0 };
  /** Attempts in flight, unheard from, when the machine was restored. */
  private readonly unconfirmed = new Set<string>();
  /** Download percent per device: shown, never journaled. */
  private readonly percent = new Map<string, number>();
  /** Each wave's last health-margin comparison: shown, never journaled. */
  private readonly gates = new Map<number, GateView>();

  /** The step's changed records (by identity: cheaper than hashing journal keys) and whether the rollout record changed. */
  private step: { devices: Set<DeviceRecord>; meta: boolean; effects: RolloutEffect[]; events: RolloutEvent[] } | null = null;

  private constructor(private meta: RolloutMeta) {}

  /** Plans a new rollout. Targets refused for kind, architecture or version are REJECTED up front, each with its reason. */
  static create(spec: { id: string; manifest: Manifest; imageName: string; plan: RolloutPlan; targets: readonly RolloutTarget[]; at: number }): { rollout: Rollout; output: StepOutput } {
    if (!ROLLOUT_ID.test(spec.id)) throw new Error('the rollout id may only hold letters, digits and _ . - (at most 48, starting with a letter or digit)');
    const m = spec.manifest;
    const image: RolloutImage = { name: spec.imageName, kind: m.kind, ...(m.arch !== undefined ? { arch: m.arch } : {}), version: m.version, size: m.size, sha256: m.sha256, signature: m.signature };
    const byId = new Map<string, RolloutTarget>();
    for (const t of spec.targets) if (!byId.has(t.id)) byId.set(t.id, t);
    const refusedReasons = new Map<string, string>();
    const eligible: string[] = [];
    // A fleet runs a handful of versions: judge each (kind, arch, version) once, not per device.
    // Nested maps keyed by the targets' own strings: no key string is built per device.
    const verdicts = new Map<string, Map<string, Map<string, ReturnType<typeof checkTarget>>>>();
    for (const t of byId.values()) {
      let byArch = verdicts.get(t.kind);
      if (!byArch) verdicts.set(t.kind, byArch = new Map());
      let byVersion = byArch.get(t.arch ?? '');
      if (!byVersion) byArch.set(t.arch ?? '', byVersion = new Map());
      let v = byVersion.get(t.version ?? '');
      if (v === undefined) {
        v = checkTarget(m, { kind: t.kind, arch: t.arch ?? null, version: t.version ?? null }, spec.plan.allowDowngrade);
        byVersion.set(t.version ?? '', v);
      }
      if (v.ok) eligible.push(t.id);
      else refusedReasons.set(t.id, v.reason);
    }
    const waves = planWaves(spec.id, eligible, spec.plan);
    const meta: RolloutMeta = {
      v: 1, id: spec.id, image, plan: spec.plan, waves: waves.map((w) => ({ name: w.name, size: w.devices.length })),
      status: 'running', wave: 0, waveState: 'updating', soakUntil: null, note: null, acknowledged: -1, nextQ: 0, recentSends: [], startedAt: spec.at, endedAt: null,
    };
    const r = new Rollout(meta);
    r.counts = waves.map(() => emptyCounts());
    r.begin();
    let q = 0;
    for (const w of waves) {
      for (const id of w.devices) {
        const t = byId.get(id) as RolloutTarget;
        r.put({ id, kind: t.kind, wave: w.index, q: q++, phase: 'PENDING', attempt: 0, since: spec.at, sentAt: null, failedRetries: 0, timedOutRetries: 0, reason: null });
      }
    }
    for (const [id, reason] of refusedReasons) {
      r.put({ id, kind: (byId.get(id) as RolloutTarget).kind, wave: -1, q: -1, phase: 'REJECTED', attempt: 0, since: spec.at, sentAt: null, failedRetries: 0, timedOutRetries: 0, reason });
    }
    meta.nextQ = q;
    r.event({ type: 'rollout', status: 'running', note: null, at: spec.at });
    if (waves.length === 0) r.finish(spec.at);
    else {
      r.startWave(0, spec.at);
      r.pump(spec.at);
    }
    return { rollout: r, output: r.end() };
  }

  /** Rebuilds a rollout from its journal entries (any others are ignored). */
  static restore(entries: Iterable<readonly [string, unknown]>, id: string): { ok: true; rollout: Rollout } | { ok: false; reason: string } {
    let meta: RolloutMeta | null = null;
    const records: DeviceRecord[] = [];
    const prefix = `ota:${id}:d:`;
    for (const [k, v] of entries) {
      if (k === metaKey(id)) {
        const m = readMeta(v);
        if (typeof m === 'string') return { ok: false, reason: `rollout ${id}: ${m}` };
        meta = m;
      } else if (k.startsWith(prefix)) {
        const d = readDeviceRecord(v);
        if (typeof d === 'string') return { ok: false, reason: `rollout ${id}, device ${k.slice(prefix.length)}: ${d}` };
        records.push(d);
      }
    }
    if (!meta) return { ok: false, reason: `rollout ${id} is not in the journal` };
    const r = new Rollout(meta);
    r.counts = meta.waves.map(() => emptyCounts());
    records.sort((a, b) => a.q - b.q);
    for (const d of records) {
      r.devices.set(d.id, d);
      r.index(d, null);
      if (d.phase === 'SENT') r.unconfirmed.add(d.id);
    }
    r.rebuildQueue();
    return { ok: true, rollout: r };
  }

  get id(): string { return this.meta.id; }
  get status(): RolloutStatus { return this.meta.status; }
  get finished(): boolean { return this.meta.status === 'aborted' || this.meta.status === 'completed'; }
  has(device: string): boolean { return this.devices.has(device); }
  device(device: string): Readonly<DeviceRecord> | undefined { return this.devices.get(device); }
  percentOf(device: string): number | undefined { return this.percent.get(device); }

  handle(input: RolloutInput): StepOutput {
    this.begin();
    const at = input.at;
    if (!this.finished) {
      switch (input.type) {
        case 'progress': this.onProgress(input.device, input.progress, at); break;
        case 'version': this.onVersion(input.device, input.version, at); break;
        case 'health': this.onHealth(input.device, input.state, at); break;
        case 'tick': this.onTick(at, input.health); break;
        case 'pause':
          if (this.meta.status === 'running') this.setStatus('paused', input.reason ?? 'paused by the operator', at);
          break;
        case 'resume':
          // Resuming after the group error threshold paused a wave accepts that wave's failures.
          if (this.meta.status === 'paused') { this.meta.acknowledged = this.meta.wave; this.setStatus('running', null, at); }
          break;
        case 'abort': this.abort(input.reason ?? 'aborted by the operator', at); break;
      }
      this.pump(at);
    }
    return this.end();
  }

  snapshot(): RolloutSnapshot {
    const devices = [...this.devices.values()].map((d) => ({ ...d })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { meta: structuredClone(this.meta), devices };
  }

  summary(): RolloutSummary {
    const totals = emptyCounts();
    for (const c of this.counts) for (const k of Object.keys(totals) as Array<keyof WaveCounts>) totals[k] += c[k];
    const w = this.meta.waves[this.meta.wave];
    return {
      id: this.meta.id, status: this.meta.status, wave: this.meta.wave, waveName: w ? w.name : null, waveState: this.meta.waveState, note: this.meta.note,
      waves: this.meta.waves.map((x, i) => ({ name: x.name, size: x.size, counts: { ...this.counts[i] }, gate: this.gates.get(i) ?? null })), totals, refused: this.refused,
    };
  }

  // --- inputs -------------------------------------------------------------------------------

  private onProgress(device: string, p: OtaProgress, at: number): void {
    const d = this.devices.get(device);
    if (!d || d.attempt === 0) return;
    const m = /^(.*)-a(\d+)$/.exec(p.job_id);
    // An earlier attempt's late report says nothing about this one. Foreign ids (the Steel firmware names its own request) count for the current attempt.
    if (m && m[1] === this.meta.id && Number(m[2]) !== d.attempt) return;
    if (d.phase === 'UPDATED' || d.phase === 'SUCCEEDED') {
      if (p.state === 'FAILED' || p.state === 'ROLLED_BACK') this.fail(d, 'ROLLED_BACK', `reported ${p.state} after UPDATED${p.reason ? `: ${p.reason}` : ''}`, at, false);
      else if (p.firmware_version !== undefined && !sameVersion(p.firmware_version, this.meta.image.version)) this.silentRollback(d, p.firmware_version, at);
      return;
    }
    if (!IN_FLIGHT.has(d.phase)) return;
    this.unconfirmed.delete(device);
    if (p.progress !== undefined) this.percent.set(device, p.progress);
    switch (p.state) {
      case 'QUEUED': case 'DOWNLOADING': case 'DOWNLOADED': case 'VERIFIED': case 'UPDATING':
        if (d.phase !== p.state) this.setPhase(d, p.state, null, at);
        break;
      case 'UPDATED':
        if (p.firmware_version !== undefined && !sameVersion(p.firmware_version, this.meta.image.version)) {
          this.fail(d, 'FAILED', `reported UPDATED running ${p.firmware_version}, not ${this.meta.image.version}`, at, true);
        } else {
          this.setPhase(d, 'UPDATED', null, at);
          this.percent.set(device, 100);
          this.checkGate(d, at, undefined);
        }
        break;
      case 'FAILED': this.fail(d, 'FAILED', p.reason ?? 'the device reported FAILED', at, true); break;
      case 'ROLLED_BACK': this.fail(d, 'ROLLED_BACK', p.reason ?? 'the device rolled back', at, true); break;
      case 'REJECTED': this.fail(d, 'REJECTED', p.reason ?? 'the device rejected the update', at, false); break;
    }
  }

  private onVersion(device: string, version: string, at: number): void {
    const d = this.devices.get(device);
    if (!d) return;
    if ((d.phase === 'UPDATED' || d.phase === 'SUCCEEDED') && !sameVersion(version, this.meta.image.version)) this.silentRollback(d, version, at);
  }

  private onHealth(device: string, state: HealthState, at: number): void {
    const d = this.devices.get(device);
    if (d && d.phase === 'UPDATED' && (state === 'critical' || state === 'offline')) {
      this.fail(d, 'FAILED', `health gate: ${state} within ${this.meta.plan.healthGate.windowSeconds} s of the update`, at, false);
    }
  }

  private onTick(at: number, health: HealthLookup | undefined): void {
    const timeoutMs = this.meta.plan.deviceTimeoutSeconds * 1000;
    for (const id of [...this.inFlight]) {
      const d = this.devices.get(id) as DeviceRecord;
      if (this.finished) return;
      if (IN_FLIGHT.has(d.phase) && d.sentAt !== null && at - d.sentAt >= timeoutMs) this.fail(d, 'TIMED_OUT', `no UPDATED within ${this.meta.plan.deviceTimeoutSeconds} s`, at, true);
    }
    for (const id of [...this.gating]) {
      if (this.finished) return;
      this.checkGate(this.devices.get(id) as DeviceRecord, at, health);
    }
    this.evaluateWave(at, health);
  }

  // --- device transitions --------------------------------------------------------------------

  private checkGate(d: DeviceRecord, at: number, health: HealthLookup | undefined): void {
    if (d.phase !== 'UPDATED') return;
    const h = health?.(d.id);
    if (h && (h.state === 'critical' || h.state === 'offline')) {
      this.fail(d, 'FAILED', `health gate: ${h.state} within ${this.meta.plan.healthGate.windowSeconds} s of the update`, at, false);
    } else if (at - d.since >= this.meta.plan.healthGate.windowSeconds * 1000) {
      this.setPhase(d, 'SUCCEEDED', null, at);
    }
  }

  private silentRollback(d: DeviceRecord, version: string, at: number): void {
    this.fail(d, 'FAILED', `silent rollback: reported ${this.meta.image.version} updated, now runs ${version}`, at, false);
    this.alert('OtaSilentRollback', 'major', d, `${d.id} went back to ${version} after updating to ${this.meta.image.version}`, at);
  }

  /** A failure: retried while the plan allows and a retry can help, else final (and counted for the abort criteria). */
  private fail(d: DeviceRecord, phase: 'FAILED' | 'ROLLED_BACK' | 'REJECTED' | 'TIMED_OUT', reason: string, at: number, retryable: boolean): void {
    const plan = this.meta.plan;
    const free = phase === 'TIMED_OUT' && this.unconfirmed.has(d.id);
    this.unconfirmed.delete(d.id);
    if (retryable && this.meta.status !== 'aborted') {
      const timedOut = phase === 'TIMED_OUT';
      const used = timedOut ? d.timedOutRetries : d.failedRetries;
      const limit = timedOut ? plan.retries.timedOut : plan.retries.failed;
      if (free || used < limit) {
        if (!free) { if (timedOut) d.timedOutRetries++; else d.failedRetries++; }
        d.q = this.meta.nextQ++;
        this.dirtyMeta();
        this.setPhase(d, 'PENDING', `${phase}: ${reason}; retry ${free ? '(not counted: the command may have been lost in a restart)' : `${used + 1} of ${limit}`}`, at);
        if (d.wave === this.meta.wave) this.queue.push(d.id);
        return;
      }
    }
    this.setPhase(d, phase, reason, at);
    if (phase !== 'FAILED' || !reason.startsWith('silent rollback')) {
      this.alert('OtaDeviceFailed', 'warning', d, `${d.id}: ${phase} on ${this.meta.image.version} (${reason})`, at);
    }
    this.checkAbortCriteria(at);
  }

  private setPhase(d: DeviceRecord, to: DevicePhase, reason: string | null, at: number): void {
    const from = d.phase;
    d.phase = to;
    d.since = at;
    d.reason = reason;
    this.index(d, from);
    this.dirty(d);
    this.event({ type: 'device', device: d.id, from, to, attempt: d.attempt, reason, at });
  }

  /** Keeps the derived sets and counters in step with a device's phase. */
  private index(d: DeviceRecord, from: DevicePhase | null): void {
    if (from !== null) {
      if (d.wave >= 0) this.counts[d.wave][countKey(from)]--;
      const t = failureTypeOf(from);
      if (t && d.attempt > 0) this.failures[t]--;
    } else if (d.attempt > 0) this.executed++;
    if (d.wave < 0) { if (from === null) this.refused++; return; }
    this.counts[d.wave][countKey(d.phase)]++;
    const t = failureTypeOf(d.phase);
    if (t && d.attempt > 0) this.failures[t]++;
    if (IN_FLIGHT.has(d.phase)) this.inFlight.add(d.id); else this.inFlight.delete(d.id);
    if (d.phase === 'UPDATED') this.gating.add(d.id); else this.gating.delete(d.id);
  }

  // --- waves and the rollout -----------------------------------------------------------------

  private pump(at: number): void {
    const meta = this.meta;
    if (meta.status !== 'running' || meta.waveState !== 'updating') return;
    const limit = meta.plan.maximumPerMinute;
    if (limit !== null) {
      const recent = meta.recentSends.filter((t) => at - t < 60_000);
      if (recent.length !== meta.recentSends.length) { meta.recentSends = recent; this.dirtyMeta(); }
    }
    while (this.inFlight.size < meta.plan.concurrency && this.queueAt < this.queue.length) {
      if (limit !== null && meta.recentSends.length >= limit) break;
      const d = this.devices.get(this.queue[this.queueAt++]) as DeviceRecord;
      if (d.phase !== 'PENDING' || d.wave !== meta.wave) continue;
      if (d.attempt === 0) this.executed++;
      d.attempt++;
      d.sentAt = at;
      const jobId = jobIdOf(meta.id, d.attempt);
      if (jobId.length > OTA_JOB_ID_MAX_LENGTH) throw new Error('job id too long');
      this.setPhase(d, 'SENT', null, at);
      if (limit !== null) { meta.recentSends.push(at); this.dirtyMeta(); }
      this.effect({ type: 'command', device: d.id, attempt: d.attempt, jobId, image: meta.image });
    }
    if (this.queueAt > 4096 && this.queueAt * 2 > this.queue.length) { this.queue = this.queue.slice(this.queueAt); this.queueAt = 0; }
  }

  private rebuildQueue(): void {
    const w = this.meta.wave;
    this.queue = [...this.devices.values()].filter((d) => d.wave === w && d.phase === 'PENDING').sort((a, b) => a.q - b.q).map((d) => d.id);
    this.queueAt = 0;
  }

  private startWave(index: number, at: number): void {
    this.meta.wave = index;
    this.meta.waveState = 'updating';
    this.meta.soakUntil = null;
    this.meta.note = null;
    this.dirtyMeta();
    this.rebuildQueue();
    this.event({ type: 'wave', wave: index, name: this.meta.waves[index].name, state: 'started', note: null, at });
  }

  private evaluateWave(at: number, health: HealthLookup | undefined): void {
    const meta = this.meta;
    if (meta.status !== 'running') return;
    const c = this.counts[meta.wave];
    if (c.pending + c.inFlight + c.gating > 0) return;
    const size = meta.waves[meta.wave].size;
    const name = meta.waves[meta.wave].name;
    const g = meta.plan.groupErrorThreshold;
    const failed = c.failed + c.rolledBack + c.rejected + c.timedOut;
    if (g && meta.acknowledged !== meta.wave && size > 0 && failed > 0 && (failed * 100) / size >= g.percentage) {
      const note = `${name}: ${failed} of ${size} devices failed, at or over the group error threshold of ${g.percentage} %`;
      if (g.action === 'abort') { this.abort(note, at); return; }
      meta.waveState = 'held';
      this.setStatus('paused', note, at);
      this.alert('OtaRolloutPaused', 'major', null, note, at);
      return;
    }
    if (meta.wave === meta.waves.length - 1) { this.finish(at); return; }
    if (meta.waveState !== 'soaking') {
      const hold = this.healthMarginProblem(meta.wave, health, at);
      if (hold !== null) {
        if (meta.waveState !== 'held' || meta.note !== hold) {
          meta.waveState = 'held';
          meta.note = hold;
          this.dirtyMeta();
          this.event({ type: 'wave', wave: meta.wave, name, state: 'held', note: hold, at });
        }
        return;
      }
      if (meta.plan.soakSeconds > 0) {
        meta.waveState = 'soaking';
        meta.soakUntil = at + meta.plan.soakSeconds * 1000;
        meta.note = null;
        this.dirtyMeta();
        this.event({ type: 'wave', wave: meta.wave, name, state: 'soaking', note: null, at });
        return;
      }
    } else if (meta.soakUntil !== null && at < meta.soakUntil) return;
    this.event({ type: 'wave', wave: meta.wave, name, state: 'passed', note: null, at });
    this.startWave(meta.wave + 1, at);
  }

  /**
   * Null when the wave's updated devices score no worse than the not-yet-updated ones of their kind
   * (by more than the margin), else why the wave is held. Keeps the comparison for the summary.
   */
  private healthMarginProblem(wave: number, health: HealthLookup | undefined, at: number): string | null {
    if (!health) return null;
    const updated = new Map<string, { sum: number; n: number }>();
    const waiting = new Map<string, { sum: number; n: number }>();
    const add = (m: Map<string, { sum: number; n: number }>, kind: string, score: number): void => {
      const e = m.get(kind);
      if (e) { e.sum += score; e.n++; } else m.set(kind, { sum: score, n: 1 });
    };
    for (const d of this.devices.values()) {
      const h = d.phase === 'SUCCEEDED' && d.wave === wave ? health(d.id) : d.phase === 'PENDING' && d.wave > wave ? health(d.id) : undefined;
      if (!h || !Number.isFinite(h.score)) continue;
      add(d.phase === 'SUCCEEDED' ? updated : waiting, d.kind, h.score);
    }
    const margin = this.meta.plan.healthGate.margin;
    const kinds: Array<GateView['kinds'][number]> = [];
    let problem: string | null = null;
    for (const [kind, u] of updated) {
      const w = waiting.get(kind);
      if (!w) continue;
      const mu = u.sum / u.n;
      const mw = w.sum / w.n;
      kinds.push({ kind, updated: Math.round(mu * 10) / 10, updatedDevices: u.n, waiting: Math.round(mw * 10) / 10, waitingDevices: w.n });
      if (problem === null && mw - mu > margin) {
        problem = `${kind}: updated devices score ${mu.toFixed(1)} on average, not-yet-updated ${mw.toFixed(1)}; more than the margin of ${margin} apart`;
      }
    }
    this.gates.set(wave, { held: problem !== null, margin, kinds, at });
    return problem;
  }

  private checkAbortCriteria(at: number): void {
    if (this.finished) return;
    for (const a of this.meta.plan.abort) {
      const n = a.failureType === 'ALL' ? this.failures.FAILED + this.failures.REJECTED + this.failures.TIMED_OUT : this.failures[a.failureType];
      if (this.executed >= a.minNumberOfExecutedThings && n > 0 && (n * 100) / this.executed >= a.thresholdPercentage) {
        this.abort(`abort criterion: ${n} of ${this.executed} executed devices ${a.failureType === 'ALL' ? 'failed' : a.failureType}, at or over ${a.thresholdPercentage} %`, at);
        return;
      }
    }
  }

  private abort(note: string, at: number): void {
    if (this.finished) return;
    for (const id of [...this.inFlight]) {
      const d = this.devices.get(id) as DeviceRecord;
      this.setPhase(d, 'CANCELED', 'rollout aborted', at);
      this.effect({ type: 'cancel', device: d.id, jobId: jobIdOf(this.meta.id, d.attempt) });
    }
    this.meta.endedAt = at;
    this.setStatus('aborted', note, at);
    this.alert('OtaRolloutAborted', 'critical', null, `rollout ${this.meta.id} aborted: ${note}`, at);
  }

  private finish(at: number): void {
    this.meta.endedAt = at;
    this.setStatus('completed', null, at);
  }

  private setStatus(status: RolloutStatus, note: string | null, at: number): void {
    this.meta.status = status;
    this.meta.note = note;
    if (status === 'running' && this.meta.waveState === 'held') this.meta.waveState = 'updating';
    this.dirtyMeta();
    this.event({ type: 'rollout', status, note, at });
  }

  // --- step bookkeeping ----------------------------------------------------------------------

  private put(d: DeviceRecord): void {
    this.devices.set(d.id, d);
    this.index(d, null);
    this.dirty(d);
  }

  private alert(name: string, severity: Severity, d: DeviceRecord | null, summary: string, at: number): void {
    const w = this.meta.waves[d && d.wave >= 0 ? d.wave : this.meta.wave];
    this.effect({
      type: 'alert',
      alert: makeAlert({
        name, severity, device: d ? d.id : null, summary, startsAt: at, source: SOURCE,
        labels: { rollout: this.meta.id, wave: w ? w.name : undefined, kind: d ? d.kind : this.meta.image.kind, version: this.meta.image.version },
        details: d ? { phase: d.phase, attempt: d.attempt, reason: d.reason } : { summary: this.summary().totals },
      }),
    });
  }

  private begin(): void { this.step = { devices: new Set(), meta: false, effects: [], events: [] }; }
  private dirty(d: DeviceRecord): void { this.step?.devices.add(d); }
  private dirtyMeta(): void { if (this.step) this.step.meta = true; }
  private effect(e: RolloutEffect): void { this.step?.effects.push(e); }
  private event(e: RolloutEvent): void { this.step?.events.push(e); }

  private end(): StepOutput {
    const s = this.step ?? { devices: new Set<DeviceRecord>(), meta: false, effects: [], events: [] };
    this.step = null;
    // Copies: later steps mutate the live records, and a caller may keep the output.
    const changes: JournalChange[] = [];
    if (s.meta) changes.push([metaKey(this.meta.id), structuredClone(this.meta)]);
    const prefix = `ota:${this.meta.id}:d:`;
    for (const d of s.devices) changes.push([prefix + d.id, { ...d }]);
    return { changes, effects: s.effects, events: s.events };
  }
}
