/**
 * fleet-health's controller, without Node-RED: reads a decoded message (or a reject), scores it, keeps the
 * journal ahead of what is sent, sweeps for silent devices in slices, restores from the journal and the
 * registry, and builds the three outputs. The node adapter only moves messages and shows the status.
 *
 * Group commit: inputs are queued as they arrive and scored together on the next event-loop turn
 * (`enqueue` → `flush`); the state changes of the whole turn go into the journal in one append and one
 * fdatasync, and only then are their messages sent and the inputs completed. Under overload readings
 * are coalesced in the queue (lib/health/overload.ts), and a flush or a sweep slice stops at a time
 * budget and goes on in the next turn, so neither holds the event loop for long.
 */
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';
import { healthLabels, readDevice } from '../device-labels';
import type { FleetRegistry } from '../registry/registry';
import type { Journal } from '../store/journal';
import { alertTopic, type FleetAlert } from '../alert-shape';
import { parseHealthConfig, type HealthConfig } from './config';
import { DurableHealth } from './durable';
import { InputQueue, type Queued } from './input-queue';
import { coalesceKey, OverloadMonitor } from './overload';
import { DEFAULT_OVERLOAD, OVERLOAD_BOUNDS, type OverloadOptions } from './overload-config';
import { HealthTracker, isHealthSnapshot, type HealthState, type HealthUpdate } from './tracker';

export interface HealthNodeConfig {
  readonly scoring: HealthConfig;
  readonly sweepMs: number;
  /** 0: no periodic summary. */
  readonly summaryMs: number;
  readonly overload: OverloadOptions;
}

export type HealthConfigResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly reason: string };

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

/** An optional number field: absent or empty is the default; anything else must be a number within the bounds. */
function boundedField(def: Readonly<Record<string, unknown>>, field: keyof typeof OVERLOAD_BOUNDS, fallback: number): HealthConfigResult<number> {
  const v = def[field];
  if (v === undefined || v === null || v === '') return { ok: true, value: fallback };
  const x = num(v);
  const { min, max } = OVERLOAD_BOUNDS[field];
  if (!Number.isFinite(x) || x < min || x > max) return { ok: false, field, reason: `must be a number from ${min} to ${max}, not ${JSON.stringify(v)?.slice(0, 40) ?? String(v)}` };
  return { ok: true, value: x };
}

/**
 * The saved node: scoring (JSON text or object; empty for the defaults), sweepS (default 5, at least 1),
 * summaryS (0 = off), and the overload settings coalesceMs (default 200, 0 = never), overloadMs
 * (default 1000, 0 = no alert) and overloadS (default 10).
 */
export function parseHealthNodeConfig(def: Readonly<Record<string, unknown>>): HealthConfigResult<HealthNodeConfig> {
  const scoring = parseHealthConfig(def.scoring || undefined);
  if (!scoring.ok) return scoring;
  const summaryS = num(def.summaryS);
  const coalesceMs = boundedField(def, 'coalesceMs', DEFAULT_OVERLOAD.coalesceMs);
  if (!coalesceMs.ok) return coalesceMs;
  const overloadMs = boundedField(def, 'overloadMs', DEFAULT_OVERLOAD.overloadMs);
  if (!overloadMs.ok) return overloadMs;
  const overloadS = boundedField(def, 'overloadS', DEFAULT_OVERLOAD.overloadForMs / 1000);
  if (!overloadS.ok) return overloadS;
  return {
    ok: true,
    value: {
      scoring: scoring.value, sweepMs: Math.max(1, num(def.sweepS) || 5) * 1000, summaryMs: summaryS > 0 ? summaryS * 1000 : 0,
      overload: { coalesceMs: coalesceMs.value, overloadMs: overloadMs.value, overloadForMs: overloadS.value * 1000 },
    },
  };
}

// A type, not an interface: it must fit Node-RED's NodeMessage (an index signature).
export type HealthMessage = { readonly topic: string; readonly payload: unknown };
/** Output 1 state changes, output 2 alerts, output 3 the fleet summary. */
export type HealthOutputs = [HealthMessage[] | null, HealthMessage[] | null, HealthMessage | null];

export const alertMessage = (a: FleetAlert): HealthMessage => ({ topic: alertTopic(a), payload: a });

/** What the adapter reads of an incoming message. */
export interface HealthInputMessage {
  readonly topic?: unknown; readonly command?: unknown; readonly kind?: unknown; readonly device?: unknown;
  readonly error?: unknown; readonly thresholds?: unknown; readonly payload?: unknown; readonly retain?: unknown;
  readonly contract?: unknown;
}

export type JournalEvent = { readonly failing: true; readonly file: string; readonly message: string } | { readonly failing: false };

/**
 * The longest a sweep slice, or a slice of the background group commit, may hold the event loop
 * before it yields (issue 16: no periodic job over 10 ms at 100,000 devices). Their fdatasync runs
 * off the loop, and the rest of the 10 ms is room for a scavenge.
 */
export const SLICE_BUDGET_MS = 5;
/**
 * The longest a flush of the input queue should hold the event loop, scoring, commit and sends
 * included: a burst of thousands of inputs in one turn (a socket read after a stall, every device
 * new) is taken over several turns, so timers and I/O run in between. Large enough that the one
 * fdatasync is a small share of the flush.
 */
export const FLUSH_BUDGET_MS = 16;
/** Bounds of how many inputs one flush takes; in between, what the last flush's cost fits the budget. */
export const FLUSH_MIN = 256;
export const FLUSH_MAX = 20_000;
/** Bounds of a sweep slice, in devices going offline; the size in between follows the measured cost. */
export const SWEEP_MIN = 16;
export const SWEEP_MAX = 2000;
const SWEEP_FIRST = 64;
/**
 * The most devices a sweep slice looks at: one comparison each, about 2 ms for 25,000, so a pass over
 * a million devices with nobody due is forty short slices, not one long one.
 */
export const SWEEP_VISITS = 25_000;
/**
 * The share of a sweep slice's budget its scoring may take before it stops, whatever the count said:
 * in an outage of 100,000 the scoring was 40 % of a slice and the commit's write and the outputs the
 * rest, and in one stretch of each outage a device cost ten times as much (a 5 ms slice took 34 ms).
 */
const SWEEP_SCORING_SHARE = 0.4;
/** The flush reads the clock every this many inputs. */
const BUDGET_EVERY = 16;
/** The journal record of a firing PipelineOverloaded alert. */
const OVERLOAD_META = 'overload';

/**
 * The next sweep slice: as many devices as the last slice's cost per device fits in the budget,
 * at most twice and at least a quarter of the last size, within SWEEP_MIN..SWEEP_MAX.
 */
export function nextSweepSlice(current: number, done: number, spentMs: number, budgetMs = SLICE_BUDGET_MS): number {
  return fitSlice(current, done, spentMs, budgetMs, SWEEP_MIN, SWEEP_MAX, 1 / 4);
}

/** What the last slice's cost per item fits in the budget: at most twice its size, at least `least` of it, within min..max. */
function fitSlice(current: number, done: number, spentMs: number, budgetMs: number, min: number, max: number, least: number): number {
  const fits = spentMs > 0 ? Math.floor((done * budgetMs) / spentMs) : current * 2;
  return Math.max(min, Math.min(max, current * 2, Math.max(Math.ceil(current * least), fits)));
}

/** Bounds of a slice of the background group commit, in devices; in between, what the last one's cost fits. */
export const WAITING_MIN = 64;
export const WAITING_MAX = 20_000;
const WAITING_FIRST = 1000;

/** The next slice of the background group commit: what the last one's cost per record fits in the budget, at most twice its size. */
export function nextWaitingSlice(current: number, done: number, spentMs: number, budgetMs = SLICE_BUDGET_MS): number {
  return fitSlice(current, done, spentMs, budgetMs, WAITING_MIN, WAITING_MAX, 0);
}

/**
 * How many inputs the next flush takes: what the last one's cost per input fits in the budget, but
 * at most twice what it did, so a burst after a quiet spell ramps up instead of overshooting.
 */
export function nextFlushSize(done: number, spentMs: number, budgetMs = FLUSH_BUDGET_MS): number {
  const fits = spentMs > 0 ? Math.floor((done * budgetMs) / spentMs) : FLUSH_MAX;
  return Math.max(FLUSH_MIN, Math.min(FLUSH_MAX, fits, 2 * Math.max(done, FLUSH_MIN)));
}

export interface HealthControllerOptions {
  readonly overload?: OverloadOptions;
  /** Names the node in its PipelineOverloaded alert. */
  readonly name?: string;
  /** Monotonic milliseconds, for the time budgets (default performance.now). */
  readonly clock?: () => number;
  /** Wall-clock milliseconds, for how long an input waited (default Date.now). */
  readonly now?: () => number;
  /** Runs `fn` on a later event-loop turn (default setImmediate): the next flush of the queue. */
  readonly defer?: (fn: () => void) => void;
  /** After each flush's sends (the adapter shows the status). */
  readonly onFlushed?: () => void;
  /** The sweep slice's budget (SLICE_BUDGET_MS). */
  readonly budgetMs?: number;
  /** The input flush's budget (FLUSH_BUDGET_MS). */
  readonly flushBudgetMs?: number;
}

/** An input waiting to be scored, with what completes it. */
interface Pending extends Queued {
  readonly msg: HealthInputMessage;
  readonly send: (out: HealthOutputs) => void;
  /** Completes the input: null once its outputs were sent, or why it was not scored or sent. */
  readonly done: (err: Error | null) => void;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Sends a flush's outputs and completes each input, in order; a send that throws completes its input with the error. */
function deliver(batch: ReadonlyArray<{ readonly e: Pending; readonly out: HealthOutputs | null; err: Error | null }>): void {
  for (const b of batch) {
    if (b.out) {
      try { b.e.send(b.out); } catch (x) { b.err = asError(x); }
    }
    b.e.done(b.err);
  }
}
/** The two nodes read the clock for the same message a few ms apart: only a larger gap is repaired. */
const LAST_SEEN_SLACK_MS = 100;

const isObject = (x: unknown): x is Readonly<Record<string, unknown>> => x !== null && typeof x === 'object';

export class HealthController {
  readonly tracker: HealthTracker;
  /** Readings of new ids refused by the cap (without a registry; the registry counts its own). */
  refused = 0;
  private durable: DurableHealth | null = null;
  private journalFailing = false;
  private lastThresholds: unknown = null;
  private lastThresholdConfig: HealthConfig;
  private sweeping = false;
  private sweepSlice = SWEEP_FIRST;
  private committingWaiting = false;
  private waitingSlice = WAITING_FIRST;
  readonly overload: OverloadMonitor;
  private readonly queue = new InputQueue<Pending>();
  private scheduled = false;
  private closed = false;
  /** The longest an input waited for its flush since the last tick. */
  private maxWait = 0;
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly defer: (fn: () => void) => void;
  private readonly onFlushed: () => void;
  private readonly budgetMs: number;
  private readonly flushBudgetMs: number;
  /** How many inputs the next flush takes (nextFlushSize). */
  private flushSize = FLUSH_MIN;
  private readonly flushNow = (): void => this.flush();
  /** Devices fleet-command stopped (`commanded` messages): their going offline is reported as commanded. */
  private readonly commanded = new Map<string, string>();
  /** Fingerprints of alerts held back because the device was stopped by command (their resolve is held too). */
  private readonly held = new Set<string>();

  constructor(
    private readonly config: HealthConfig,
    private readonly fleet: FleetRegistry | null,
    private readonly maxDevices: number,
    private readonly onJournal: (e: JournalEvent) => void = () => undefined,
    options: HealthControllerOptions = {},
  ) {
    this.tracker = new HealthTracker(config);
    this.lastThresholdConfig = config;
    this.overload = new OverloadMonitor(options.overload ?? DEFAULT_OVERLOAD, options.name ?? 'fleet-health');
    this.clock = options.clock ?? (() => performance.now());
    this.wallClock = options.now ?? Date.now;
    this.defer = options.defer ?? ((fn) => { setImmediate(fn); });
    this.onFlushed = options.onFlushed ?? (() => undefined);
    this.budgetMs = options.budgetMs ?? SLICE_BUDGET_MS;
    this.flushBudgetMs = options.flushBudgetMs ?? FLUSH_BUDGET_MS;
  }

  /** Records (devices and node-wide ones) waiting for the timer's group commit (none without a journal). */
  waitingDevices(): number {
    return this.durable?.waiting ?? 0;
  }

  /** Inputs taken but not yet scored. */
  get pending(): number {
    return this.queue.size;
  }

  /** Restores from the journal (what decides what is sent comes from there); returns how many devices. */
  attach(journal: Journal): number {
    // Compacting 100,000 records at once holds the loop for half a second: in slices of the same budget.
    journal.compactInSlices(this.defer, this.budgetMs / 2);
    this.durable = new DurableHealth(journal, this.tracker, this.config);
    const restored = this.durable.restore().restored;
    const firing = this.durable.meta(OVERLOAD_META);
    if (isObject(firing) && typeof firing.startsAt === 'number' && Number.isFinite(firing.startsAt)) this.overload.restore(firing.startsAt);
    return restored;
  }

  /**
   * After the registry has loaded: devices the journal does not know take the registry's saved health
   * (state kept by an older version); the registry's last-seen is brought up to the journal's.
   */
  reconcile(): void {
    const fleet = this.fleet;
    if (!fleet) return;
    for (const rec of fleet.records()) {
      const known = this.tracker.get(rec.id);
      if (known) {
        if (known.obs.lastSeen - rec.lastSeen > LAST_SEEN_SLACK_MS) fleet.noteLastSeen(rec.id, known.obs.lastSeen);
        fleet.setHealth(rec.id, known);
      } else if (isHealthSnapshot(rec.health)) {
        this.tracker.restore(rec.id, rec.health, rec.lastSeen, rec.arch, rec.labels);
        this.durable?.touch(rec.id);
      }
    }
  }

  /**
   * Commits `ids` before a send (with the node-wide records and at most `maxWaiting` of the devices
   * waiting: none by default, they go in the timer's group commit); a refusing disk is reported once
   * and the send goes ahead. Returns whether the journal took it.
   */
  commit(ids: Iterable<string>, maxWaiting = 0): boolean {
    if (!this.durable) return true;
    return this.reported(this.durable.commit(ids, this.wallClock(), maxWaiting));
  }

  /**
   * Commits `ids` like commit(), synced off the event loop, and runs `then` once they are durable (or
   * the disk refused, reported as by commit()): in commit order with every other commit's sends.
   */
  private commitThen(ids: Iterable<string>, then: () => void): void {
    if (!this.durable) { then(); return; }
    this.durable.commitThen(ids, this.wallClock(), 0, (ok) => { this.reported(ok); then(); });
  }

  /** Reports the journal refusing (once) and recovering; passes `ok` on. */
  private reported(ok: boolean): boolean {
    if (!this.durable) return ok;
    if (ok) {
      if (this.journalFailing) { this.journalFailing = false; this.onJournal({ failing: false }); }
      return true;
    }
    if (!this.journalFailing) {
      this.journalFailing = true;
      this.onJournal({ failing: true, file: this.durable.file, message: this.durable.stats.lastError ?? '' });
    }
    return false;
  }

  /**
   * The group commit of last-seen and counters (the adapter's timer), in slices sized to the slice
   * budget: at 10,000 msg/s it is 10,000 records a second, 35–50 ms in one block (issue 16, measured).
   */
  commitWaiting(): void {
    if (!this.durable || this.committingWaiting || this.durable.waiting === 0) return;
    this.committingWaiting = true;
    const slice = (): void => {
      const durable = this.durable;
      if (this.closed || !durable) { this.committingWaiting = false; return; }
      const started = this.clock();
      const max = this.waitingSlice;
      const before = durable.waiting;
      // Records differ in cost (a full one every 30 s is 20 times a last-seen), so the slice also stops
      // on time: records are serialized as they are taken, and writing them is the rest of the budget
      // (the journal's commit cost as much again as the serializing: stopping at 0.6 of the budget made
      // slices of 10–17 ms at 100,000 devices, p99 12.8 ms; at 0.4, p99 8.0 ms).
      const ok = this.reported(durable.commitWaiting(max, () => this.clock() - started >= this.budgetMs * 0.4, this.wallClock()));
      const done = before - durable.waiting;
      if (done > 0) this.waitingSlice = nextWaitingSlice(max, done, this.clock() - started, this.budgetMs);
      if (ok && durable.waiting > 0 && done > 0) this.defer(slice);
      else this.committingWaiting = false;
    };
    slice();
  }

  /**
   * The adapter's one-second timer: takes the lag sample (the longest an input waited, or the event
   * loop's longest stall, `loopDelayMs`, whichever is larger), group-commits what waits, and returns
   * the PipelineOverloaded alert when it fires or resolves (journaled before it is returned).
   */
  tick(now: number, loopDelayMs = 0): HealthOutputs | null {
    const oldest = this.queue.oldestAt;
    const lag = Math.max(loopDelayMs, this.maxWait, oldest === null ? 0 : now - oldest);
    this.maxWait = 0;
    const alert = this.overload.sample(lag, now, this.queue.size);
    // The alert is durable before it is returned to be sent (the group commit below is synced later).
    if (alert) { this.durable?.setMeta(OVERLOAD_META, alert.status === 'firing' ? { startsAt: now } : undefined); this.commit([]); }
    this.commitWaiting();
    return alert ? [null, [alertMessage(alert)], null] : null;
  }

  summary(now: number): HealthMessage {
    return { topic: 'health/summary', payload: { ...this.tracker.summary(now), pipeline: this.overload.report(this.queue.size) } };
  }

  /**
   * Takes a message for the next group commit: it is scored on the next event-loop turn with everything
   * else that arrived in this one, and `send` gets its outputs after their one journal commit. The promise
   * settles once it is done (sent, or coalesced into a newer reading), or rejects with the reason it could
   * not be scored. `now` is its arrival time, the time it is scored at.
   */
  enqueue(msg: HealthInputMessage, now: number, send: (out: HealthOutputs) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => this.enqueueThen(msg, now, send, (err) => (err ? reject(err) : resolve())));
  }

  /** enqueue() completed by a callback instead of a promise: nothing made per message but its queue entry. */
  enqueueThen(msg: HealthInputMessage, now: number, send: (out: HealthOutputs) => void, done: (err: Error | null) => void): void {
    // Closed: its journal is closed too, and nothing it sends would be delivered.
    if (this.closed) { done(new Error('fleet-health: the node is closing; message not scored')); return; }
    const oldest = this.queue.oldestAt;
    const lag = Math.max(this.overload.lagMs, oldest === null ? 0 : now - oldest);
    const key = this.overload.coalescing(lag) ? coalesceKey(msg) : null;
    const older = this.queue.push({ msg, at: now, send, done, dropped: false, key: null }, key);
    if (older) this.overload.noteCoalesced(String(msg.kind));
    if (!this.scheduled) { this.scheduled = true; this.defer(this.flushNow); }
  }

  /**
   * Scores what is queued, in order, as many as the last flush's cost fits the budget (and never
   * scoring past the budget; `all`: everything, on close); commits the state changes of all of them in
   * one journal commit, synced off the event loop; then, once it is durable, sends and completes each
   * input (in order with every other send). What is left goes on in the next turn.
   */
  flush(all = false): void {
    this.scheduled = false;
    const oldest = this.queue.oldestAt;
    if (oldest === null) return;
    const wait = this.wallClock() - oldest;
    if (wait > this.maxWait) this.maxWait = wait;
    const started = this.clock();
    const batch: Array<{ e: Pending; out: HealthOutputs | null; err: Error | null }> = [];
    const ids: string[] = [];
    const max = all ? Infinity : this.flushSize;
    while (batch.length < max) {
      const e = this.queue.take();
      if (!e) break;
      let out: HealthOutputs | null = null;
      let err: Error | null = null;
      if (!e.dropped) {
        try { out = this.score(e.msg, e.at, ids); } catch (x) { err = asError(x); }
      }
      batch.push({ e, out, err });
      // Scoring alone over the budget: stop here (the commit and sends are still to come).
      if (!all && batch.length % BUDGET_EVERY === 0 && this.clock() - started >= this.flushBudgetMs) break;
    }
    // State changes are sent once synced, off the event loop: synced on it, the input flush's fdatasync
    // held the loop 5 % of the time at 10,000 msg/s (3–17 ms each; a CPU profile, issue 16). A flush
    // with nothing to commit still sends behind the flushes and sweep slices waiting for their sync, so
    // no output overtakes another.
    if (this.durable && (ids.length > 0 || this.durable.syncing)) this.commitThen(ids, () => deliver(batch));
    else deliver(batch);
    if (!all) this.flushSize = nextFlushSize(batch.length, this.clock() - started, this.flushBudgetMs);
    if (this.queue.size > 0 && !this.scheduled) { this.scheduled = true; this.defer(this.flushNow); }
    this.onFlushed();
  }

  /**
   * One message at once (its own commit): the outputs to send, or null for nothing. Throws, with the
   * reason, for a message it cannot score or bad msg.thresholds.
   */
  input(msg: HealthInputMessage, now: number): HealthOutputs | null {
    const ids: string[] = [];
    const out = this.score(msg, now, ids);
    if (ids.length) this.commit(ids);
    return out;
  }

  /** Scores one message; the devices whose change or alert must be committed before its send go into `commits`. */
  private score(msg: HealthInputMessage, now: number, commits: string[]): HealthOutputs | null {
    if (msg.command === 'summary' || msg.topic === 'health/summary') return [null, null, this.summary(now)];
    if (msg.topic === 'commanded') { this.noteCommanded(msg.payload); return null; }
    // Our own command to a device (fleet-decode passes downlinks on when it decodes commands) says
    // nothing of the device: scoring it would make a silent device look seen.
    if (isObject(msg.contract) && msg.contract.direction === 'down') return null;
    let scoring = this.config;
    if (msg.thresholds !== undefined) {
      if (msg.thresholds !== this.lastThresholds) {
        const t = parseHealthConfig(msg.thresholds, this.config);
        if (!t.ok) throw new Error(`fleet-health: msg.thresholds ${t.field}: ${t.reason}`);
        this.lastThresholds = msg.thresholds;
        this.lastThresholdConfig = t.value;
      }
      scoring = this.lastThresholdConfig;
    }
    const rejected = isObject(msg.error) && typeof msg.error.device === 'string' && msg.kind === undefined ? msg.error.device : null;
    const device = readDevice(msg.device);
    const wanted = rejected ?? device?.id ?? null;
    const fleet = this.fleet;
    // A device the registry refused (full) is not scored either: the cap bounds every table.
    if (wanted !== null && !this.tracker.get(wanted) && ((fleet && fleet.full && !fleet.get(wanted)) || (!fleet && this.tracker.size >= this.maxDevices))) {
      if (!fleet) this.refused++;
      return null;
    }
    let update: HealthUpdate;
    let id: string;
    if (rejected !== null) {
      id = rejected;
      update = this.tracker.observeReject(id, now, scoring);
    } else {
      if (typeof msg.kind !== 'string' || !device || device.id === null || !isObject(msg.payload)) {
        throw new Error('fleet-health: expected a message from fleet-decode (msg.kind, msg.device.id, msg.payload object) or a reject with msg.error.device');
      }
      id = device.id;
      // fleet-decode checked the kinds against the contract; the tracker ignores one it has no rule for.
      update = this.tracker.observe({
        id, kind: msg.kind as MessageKind, deviceKind: device.kind as DeviceKind | null, arch: device.arch, labels: healthLabels(device),
        payload: msg.payload, at: now, online: device.online, retained: msg.retain === true,
      }, scoring);
    }
    const snap = this.tracker.snapshot(id);
    if (snap) fleet?.setHealth(id, snap);
    if (update.change || update.alerts.length) commits.push(id);
    else if (snap) this.durable?.touch(id);
    const out = this.outputs([update]);
    return out[0] || out[1] ? out : null;
  }

  /**
   * Sweeps for silent devices: each slice committed in one journal commit, synced off the event loop
   * and emitted once durable (in order with every other send); the next slice is `defer`red so
   * messages keep flowing between them. A slice is as many devices as fit the time budget at the
   * cost the last slice measured (scoring, outputs and the commit's write). Silence is judged as of the
   * oldest input still queued: everything before it has been scored, nothing after it yet. A sweep
   * still running makes this a no-op.
   */
  sweep(now: number, emit: (out: HealthOutputs) => void, defer: (next: () => void) => void, onError: (err: unknown) => void): void {
    if (this.sweeping) return;
    this.sweeping = true;
    const oldest = this.queue.oldestAt;
    const at = oldest === null ? now : Math.min(now, oldest);
    const slice = (): void => {
      if (this.closed) { this.sweeping = false; return; }
      try {
        const started = this.clock();
        const max = this.sweepSlice;
        // Scoring stops at a share of the budget: the commit and the outputs of what it took cost more again.
        const updates = this.tracker.sweep(at, max, SWEEP_VISITS, () => this.clock() - started >= this.budgetMs * SWEEP_SCORING_SHARE);
        const ids: string[] = [];
        for (const u of updates) if (u.change) { ids.push(u.change.device); this.fleet?.markSilent(u.change.device, at); }
        if (updates.length) {
          const out = this.outputs(updates);
          // Sent once synced, off the loop: the fdatasync was 0.9–1.3 ms of each 4–8 ms slice (issue 16).
          this.commitThen(ids, () => { try { emit(out); } catch (err) { onError(err); } });
          this.sweepSlice = nextSweepSlice(max, updates.length, this.clock() - started, this.budgetMs);
        }
        if (this.tracker.sweeping) defer(slice);
        else this.sweeping = false;
      } catch (err) {
        this.sweeping = false;
        onError(err);
      }
    };
    slice();
  }

  /** The status: red for critical, offline or refused devices, yellow for degraded; a ring while refusing. */
  status(): { fill: 'green' | 'yellow' | 'red'; shape: 'dot' | 'ring'; counts: Readonly<Record<HealthState, number>>; refused: number } {
    const counts = this.tracker.stateCounts();
    const refused = this.refused + (this.fleet?.refused ?? 0);
    const fill = counts.critical > 0 || counts.offline > 0 || refused > 0 ? 'red' : counts.degraded > 0 ? 'yellow' : 'green';
    return { fill, shape: refused > 0 ? 'ring' : 'dot', counts, refused };
  }

  /** On close: what is queued is scored, committed and sent; what waits goes into the journal (the kit closes it). */
  close(): void {
    this.flush(true);
    this.closed = true;
    this.durable?.commit([], this.wallClock());
    // What the flushes and sweep slices wait to send goes out before the node is closed.
    this.durable?.syncWaiting();
  }

  /** fleet-command's `{action, devices}`: a stop lists the devices, a resume takes them off. */
  private noteCommanded(payload: unknown): void {
    if (!isObject(payload) || typeof payload.action !== 'string' || !Array.isArray(payload.devices)) {
      throw new Error('fleet-health: a commanded message is {action, devices: [ids]} from fleet-command');
    }
    for (const d of payload.devices) {
      if (typeof d !== 'string') continue;
      if (payload.action === 'resume') this.commanded.delete(d);
      else this.commanded.set(d, payload.action);
    }
  }

  private outputs(updates: readonly HealthUpdate[]): HealthOutputs {
    const changes: HealthMessage[] = [];
    const alerts: HealthMessage[] = [];
    for (const u of updates) {
      if (u.change) {
        const action = this.commanded.get(u.change.device);
        // Offline because it was told to be: the change says so, and it is not a failure to alert on.
        const payload = action !== undefined && u.change.state === 'offline' ? { ...u.change, commanded: true, commandedAction: action } : u.change;
        changes.push({ topic: `health/${u.change.device}`, payload });
        this.fleet?.setHealth(u.change.device, this.tracker.snapshot(u.change.device));
      }
      for (const a of u.alerts) {
        if (a.device !== null && this.commanded.has(a.device) && a.status === 'firing') { this.held.add(a.fingerprint); continue; }
        if (this.held.delete(a.fingerprint)) continue;
        alerts.push(alertMessage(a));
      }
    }
    return [changes.length ? changes : null, alerts.length ? alerts : null, null];
  }
}

/** The validate endpoint reads a scoring configuration, not a document: 64 KiB is far above any real one. */
export const MAX_SCORING_BYTES = 64 * 1024;

export interface Answer { readonly status: number; readonly body: Readonly<Record<string, unknown>> }

/**
 * The editor's "check with the runtime": a configuration that fails is an answer (200, ok false), as the
 * dialog expects; a request that is not one is a 400, one too large a 413.
 */
export function validateScoringRequest(contentLength: unknown, body: unknown): Answer {
  const refuse = (status: number, reason: string): Answer => ({ status, body: { ok: false, field: 'scoring', reason } });
  if (num(contentLength ?? 0) > MAX_SCORING_BYTES) return refuse(413, `request body over ${MAX_SCORING_BYTES} bytes`);
  if (!isObject(body) || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, 'scoring')) return refuse(400, 'send a JSON object {"scoring": <configuration>}');
  const scoring = body.scoring;
  if (typeof scoring === 'string' && scoring.length > MAX_SCORING_BYTES) return refuse(413, `over ${MAX_SCORING_BYTES} characters`);
  try {
    const r = parseHealthConfig(scoring);
    return { status: 200, body: r.ok ? { ok: true } : { ok: false, field: r.field, reason: r.reason } };
  } catch (err) {
    return refuse(400, err instanceof Error ? err.message : String(err));
  }
}

/** A body the admin API's JSON parser refused (not JSON, too large), answered in the endpoint's shape. */
export function bodyErrorAnswer(err: unknown): Answer {
  const e = isObject(err) ? err : {};
  const status = e.type === 'entity.too.large' ? 413 : 400;
  return { status, body: { ok: false, field: 'scoring', reason: status === 413 ? 'request body too large' : `request body is not JSON: ${String(e.message ?? err).slice(0, 200)}` } };
}
