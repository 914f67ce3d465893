/**
 * The health model of a fleet: per-device score, state and factors, presence and silence, state
 * changes confirmed by hysteresis, and the alerts those changes raise or resolve. No timers here:
 * the caller passes the time, and calls sweep() on its own clock.
 */
import { createHash } from 'node:crypto';

import BTree from 'sorted-btree';

import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';
import { makeAlert, type FleetAlert, type Severity } from '../alert-shape';
import { effectiveFactors, factorFor, type FactorConfig, type FactorName, type HealthConfig } from './config';
import { CODE_UNKNOWN, CODE_WARNING, FactorValues, MAX_FACTORS, STATUS_OF_CODE, layoutOf, statusCode, type FactorLayout } from './factor-state';
import { explain, factorValue, reasonFor, type FactorResult, type FactorScore } from './factors';
import { emptyObs, observe, observeInvalid, ownObs, restoredObs, type DeviceObs } from './observations';

export type HealthState = 'healthy' | 'degraded' | 'critical' | 'offline' | 'unknown';
export const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'critical', 'offline', 'unknown'];

const RANK: Readonly<Record<HealthState, number>> = { unknown: 0, healthy: 0, degraded: 1, critical: 2, offline: 3 };
const ALERTS: Readonly<Partial<Record<HealthState, { name: string; severity: Severity }>>> = {
  degraded: { name: 'DeviceDegraded', severity: 'warning' },
  critical: { name: 'DeviceCritical', severity: 'critical' },
  offline: { name: 'DeviceOffline', severity: 'major' },
};

/** Labels of a device that has none: one frozen object for all of them, not one each. */
const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * A device's live health record. It is its own snapshot: the registry keeps a reference and copies
 * it at flush (toJSON gives the snapshot's shape, the same as before the compact form).
 *
 * Its factors are held compactly (factor-state.ts): the layout of the configuration and kind it was
 * scored with, two bits of status a factor, the values in the tracker's typed-array pages; `factors`
 * builds the familiar objects when asked. A restored snapshot whose factors do not fit a layout
 * (another configuration's thresholds, a status no layout has) keeps them as they came, until the
 * device's next evaluation replaces them.
 */
export class DeviceHealth implements HealthSnapshot {
  config: ConfigStamp;
  obs: DeviceObs;
  arch: string | null = null;
  labels: Record<string, string> = NO_LABELS;
  state: HealthState = 'unknown';
  score = 100;
  since: number;
  pending: HealthState | null = null;
  pendingCount = 0;
  silentAfter = Infinity;
  alertStartsAt: number | null = null;
  offlineCause: 'silence' | 'presence' | null = null;
  /** The statuses, two bits a factor of `layout`. */
  packed = 0;
  /** Null before the first evaluation (no factors) and while `legacy` holds them. */
  layout: FactorLayout | null = null;
  legacy: FactorScore[] | null = null;

  constructor(readonly id: string, private readonly values: FactorValues, private readonly slot: number, config: ConfigStamp, obs: DeviceObs, at: number) {
    this.config = config;
    this.obs = obs;
    this.since = at;
  }

  get v(): 1 {
    return 1;
  }

  /** The kind and state bucket the tracker counts this device in (HealthTracker.place). */
  countedKind: string | null = null;
  countedState: HealthState | null = null;
  /**
   * The rank (-1: not filed) and score this device is filed under in the tracker's worst-first index.
   * The index orders by these, not by the live state and score, so a device is always found under
   * the key it went in with and re-filed after either changes (HealthTracker.file).
   */
  filedRank = -1;
  filedScore = 0;

  /** The factors as objects, built on each call (for messages, the journal, tests); scoring never needs them. */
  get factors(): FactorScore[] {
    if (this.legacy) return this.legacy;
    const l = this.layout;
    if (!l) return [];
    const out: FactorScore[] = new Array(l.size);
    for (let i = 0; i < l.size; i++) out[i] = l.score(i, statusCode(this.packed, i), this.values.get(this.slot, i));
    return out;
  }

  /** The value of factor `i` of the layout (meaningful when its status is known). */
  valueAt(i: number): number {
    return this.values.get(this.slot, i);
  }

  /** Adopts an evaluation: its layout, statuses and values. */
  take(layout: FactorLayout, packed: number, values: Float64Array, score: number): void {
    this.layout = layout;
    this.packed = packed;
    this.legacy = null;
    this.values.set(this.slot, values, layout.size);
    this.score = score;
  }

  /** Takes restored factors: compact when they fit `layout`, as they came otherwise. */
  restoreFactors(factors: FactorScore[], layout: FactorLayout, scratch: Float64Array): void {
    const packed = layout.pack(factors, scratch);
    if (packed === null) {
      this.legacy = factors;
      this.layout = null;
      return;
    }
    this.layout = layout;
    this.packed = packed;
    this.legacy = null;
    this.values.set(this.slot, scratch, layout.size);
  }

  /** The snapshot's shape, key for key as the record was before the compact form (the persisted format). */
  toJSON(): Record<string, unknown> {
    // The shared empty lists and labels as objects of their own: a copy that writes an object
    // met twice as null (plainCopy) must see what a record of its own would have held.
    return {
      v: 1, id: this.id, config: this.config, obs: ownObs(this.obs), arch: this.arch, labels: this.labels === NO_LABELS ? {} : this.labels, state: this.state, score: this.score,
      since: this.since, factors: this.factors, pending: this.pending, pendingCount: this.pendingCount, silentAfter: this.silentAfter,
      alertStartsAt: this.alertStartsAt, offlineCause: this.offlineCause,
    };
  }
}

export interface ConfigStamp {
  readonly version: number;
  /** Changes whenever any threshold, weight or rule changes. */
  readonly hash: string;
}

export interface StateChange {
  readonly device: string;
  readonly kind: DeviceKind | null;
  readonly arch: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly previous: HealthState;
  readonly state: HealthState;
  readonly score: number;
  readonly factors: readonly FactorResult[];
  readonly since: number;
  readonly cause: 'message' | 'silence' | 'presence';
  readonly config: ConfigStamp;
}

export interface HealthUpdate {
  readonly change: StateChange | null;
  readonly alerts: FleetAlert[];
}

export interface HealthInput {
  readonly id: string;
  readonly kind: MessageKind;
  readonly deviceKind: DeviceKind | null;
  readonly arch?: string | null;
  readonly labels?: Readonly<Record<string, string>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly at: number;
  readonly online?: boolean;
  readonly retained?: boolean;
}

export interface FleetSummary {
  readonly at: number;
  readonly total: number;
  readonly byState: Record<HealthState, number>;
  readonly byKind: Record<string, Record<HealthState, number>>;
  readonly worst: Array<{ device: string; state: HealthState; score: number; reasons: string[] }>;
  readonly config: ConfigStamp;
}

/** What survives a restart, stored in the device's registry record. */
export interface HealthSnapshot {
  readonly v: 1;
  readonly state: HealthState;
  readonly score: number;
  readonly since: number;
  readonly factors: FactorScore[];
  readonly obs: DeviceObs;
  readonly alertStartsAt: number | null;
  readonly offlineCause: 'silence' | 'presence' | null;
  readonly config: ConfigStamp;
  /** The hysteresis counter: a state change under way survives a restart. */
  readonly pending?: HealthState | null;
  readonly pendingCount?: number;
  readonly arch?: string | null;
  readonly labels?: Readonly<Record<string, string>>;
}

export function stampOf(config: HealthConfig): ConfigStamp {
  return { version: config.version, hash: createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12) };
}

/**
 * The state an evaluation calls for: the worst factor status (0 none, 1 warning, 2 critical), the
 * score bands, and whether anything was measured. Exported so tests check outputs against it.
 */
export function classify(worstFactor: number, score: number, measured: number, config: Pick<HealthConfig, 'criticalBelow' | 'degradedBelow'>): HealthState {
  let worst = worstFactor;
  if (score < config.criticalBelow) worst = 2;
  else if (score < config.degradedBelow && worst < 1) worst = 1;
  return worst === 2 ? 'critical' : worst === 1 ? 'degraded' : measured > 0 ? 'healthy' : 'unknown';
}

/** What most messages change: nothing to send. One frozen answer, not two objects a message. */
const NO_UPDATE: HealthUpdate = Object.freeze({ change: null, alerts: Object.freeze([]) as unknown as FleetAlert[] });

/** The summary's order of troubled devices, by the key each is filed under: worst state, lowest score, then id (unique: a total order). */
function byWorst(a: DeviceHealth, b: DeviceHealth): number {
  return b.filedRank - a.filedRank || a.filedScore - b.filedScore || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const emptyCounts = (): Record<HealthState, number> => ({ healthy: 0, degraded: 0, critical: 0, offline: 0, unknown: 0 });

export class HealthTracker {
  private readonly devices = new Map<string, DeviceHealth>();
  private config: HealthConfig;
  private stamp: ConfigStamp;
  private readonly counts = emptyCounts();
  /**
   * No device falls silent before this time: a lower bound of every non-offline device's
   * silentAfter, lowered whenever one is set and raised by a full sweep, so a sweep with nobody due
   * returns without visiting 100,000 devices.
   */
  private nextSilent = Infinity;
  /** Every device's factor values. */
  private readonly values = new FactorValues();
  /** Where an evaluation is scored before it is known whether the device takes it (reused, no allocation). */
  private readonly scratch = new Float64Array(MAX_FACTORS);
  /** Devices by kind and state, kept as kinds and states change: the summary does not scan for them. */
  private readonly kindCounts = new Map<string, Record<HealthState, number>>();
  /**
   * Devices neither healthy nor unknown, worst first: the summary's worst list is the front of it.
   * Scanning them took 15–25 ms in an outage of 100,000 (issue 16: no periodic job over 10 ms); kept
   * in order, a re-filing costs a few comparisons when a troubled device's state or score moves.
   */
  private readonly troubled = new BTree<DeviceHealth, undefined>(undefined, byWorst);
  /**
   * A sweep pass under way: where it resumes, the time it judges silence at, and the earliest
   * silentAfter seen so far. Each slice goes on from where the last stopped instead of walking again
   * past the devices it already took (an outage of 100,000 in slices of 2,000 walked 2.5 million).
   */
  private pass: { readonly at: number; readonly cursor: Iterator<DeviceHealth>; next: number } | null = null;

  constructor(config: HealthConfig, private readonly source = 'fleet-health') {
    this.config = config;
    this.stamp = stampOf(config);
  }

  get size(): number {
    return this.devices.size;
  }

  get configStamp(): ConfigStamp {
    return this.stamp;
  }

  get(id: string): DeviceHealth | undefined {
    return this.devices.get(id);
  }

  /** Devices by state, kept as states change (no scan). */
  stateCounts(): Readonly<Record<HealthState, number>> {
    return this.counts;
  }

  private limitMs(d: DeviceHealth): number {
    const kind = d.obs.kind;
    const expected = d.obs.announcedInterval ?? (kind ? this.config.silence.intervals[kind] : 60);
    return this.config.silence.multiple * expected * 1000;
  }

  private create(id: string, kind: DeviceKind | null, at: number): DeviceHealth {
    const d = new DeviceHealth(id, this.values, this.values.alloc(), this.stamp, emptyObs(kind, at), at);
    this.devices.set(id, d);
    this.counts.unknown++;
    this.place(d);
    return d;
  }

  /** Scores a decoded message; `config` stands in for the node's configuration for this one message. */
  observe(m: HealthInput, config: HealthConfig = this.config): HealthUpdate {
    let d = this.devices.get(m.id);
    // A replayed retained message says what the device last said, not that it is alive now.
    if (m.retained && m.kind !== 'presence') return NO_UPDATE;
    if (!d) d = this.create(m.id, m.deviceKind, m.at);
    if (m.deviceKind && m.deviceKind !== d.obs.kind) { d.obs.kind = m.deviceKind; this.place(d); }
    if (m.arch) d.arch = m.arch;
    if (m.labels) d.labels = sameLabels(d.labels, m.labels) ? d.labels : copyLabels(m.labels);
    const lastSeen = d.obs.lastSeen;
    observe(d.obs, m);
    if (m.retained) d.obs.lastSeen = lastSeen;
    this.setSilentAfter(d);
    return this.evaluate(d, config, m.at, m.kind === 'presence' ? 'presence' : 'message');
  }

  /** A message of this device that fleet-decode rejected (out of range, malformed...). */
  observeReject(id: string, at: number, config: HealthConfig = this.config): HealthUpdate {
    const d = this.devices.get(id) ?? this.create(id, null, at);
    observeInvalid(d.obs, at);
    this.setSilentAfter(d);
    return this.evaluate(d, config, at, 'message');
  }

  /**
   * Scores the device and decides its state. The state, score and factors a device shows always
   * come from one evaluation: while hysteresis holds a state against a newer evaluation (a heap
   * that recovered once, not yet twice), the device keeps the score and factors that justify the
   * held state, and the newer evaluation waits in `pending`. Showing the new score under the old
   * state was the "degraded, score 100, no reason" row.
   */
  private evaluate(d: DeviceHealth, config: HealthConfig, now: number, cause: StateChange['cause']): HealthUpdate {
    const list = effectiveFactors(config, d.obs.kind);
    const layout = layoutOf(list);
    const values = this.scratch;
    let packed = 0;
    let cost = 0;
    let measured = 0;
    let worst = 0;
    for (let i = 0; i < layout.size; i++) {
      const v = factorValue(layout.names[i], d.obs, config, now);
      const code = layout.judge(i, v);
      values[i] = v ?? 0;
      packed |= code << (i << 1);
      cost += layout.cost(i, code);
      if (code !== CODE_UNKNOWN && !layout.event[i]) measured++;
      if (code > CODE_WARNING) worst = 2;
      else if (code === CODE_WARNING && worst < 1) worst = 1;
    }
    const score = Math.max(0, 100 - cost);
    d.config = this.stamp;
    let candidate = classify(worst, score, measured, config);
    if (d.obs.presenceOffline) candidate = 'offline';

    if (candidate === d.state) {
      d.pending = null;
      d.pendingCount = 0;
      d.take(layout, packed, values, score);
      if (d.filedRank >= 0) this.file(d);
      return NO_UPDATE;
    }
    // Offline is decided by time or by the broker, and any message ends it: no confirmation wait.
    const immediate = candidate === 'offline' || d.state === 'offline' || d.state === 'unknown';
    if (!immediate) {
      d.pendingCount = d.pending === candidate ? d.pendingCount + 1 : 1;
      d.pending = candidate;
      const needed = RANK[candidate] > RANK[d.state] ? config.hysteresis.raiseAfter : config.hysteresis.clearAfter;
      if (d.pendingCount < needed) return NO_UPDATE;
    }
    d.take(layout, packed, values, score);
    return this.apply(d, candidate, now, cause);
  }

  private apply(d: DeviceHealth, next: HealthState, now: number, cause: StateChange['cause']): HealthUpdate {
    const previous = d.state;
    const alerts: FleetAlert[] = [];
    const labels = { kind: d.obs.kind ?? undefined, arch: d.arch ?? undefined, ...d.labels };
    const was = ALERTS[previous];
    if (was && d.alertStartsAt !== null) {
      alerts.push(makeAlert({
        name: was.name, severity: was.severity, device: d.id, labels, source: this.source,
        summary: `${d.id} is no longer ${previous}: now ${next}`, startsAt: d.alertStartsAt, endsAt: now,
        details: { state: next, score: d.score },
      }));
      d.alertStartsAt = null;
    }
    this.counts[previous]--;
    this.counts[next]++;
    d.state = next;
    this.place(d);
    d.since = now;
    d.pending = null;
    d.pendingCount = 0;
    d.offlineCause = next === 'offline' ? (cause === 'silence' ? 'silence' : 'presence') : null;
    const is = ALERTS[next];
    if (is) {
      d.alertStartsAt = now;
      const summary = this.describe(d, now);
      alerts.push(makeAlert({
        name: is.name, severity: is.severity, device: d.id, labels, source: this.source, summary, startsAt: now,
        details: { state: next, score: d.score, factors: this.explained(d, true) },
      }));
    }
    return {
      change: {
        device: d.id, kind: d.obs.kind, arch: d.arch, labels: d.labels, previous, state: next, score: d.score,
        factors: this.explained(d), since: now, cause, config: this.stamp,
      },
      alerts,
    };
  }

  /** The factors with their reasons, for messages people read; `troubled`: only those in warning or critical. */
  explained(d: DeviceHealth, troubled = false): FactorResult[] {
    const kind = d.obs.kind;
    const list = effectiveFactors(this.config, kind);
    const fcAt = (i: number, name: FactorName): FactorConfig => (list[i]?.[0] === name ? list[i][1] : factorFor(this.config, kind, name));
    const out: FactorResult[] = [];
    const l = d.layout;
    if (!l) {
      for (const [i, f] of d.factors.entries()) if (!troubled || f.status === 'warning' || f.status === 'critical') out.push(explain(f, fcAt(i, f.factor)));
      return out;
    }
    // Straight from the compact state: no factor objects in between.
    for (let i = 0; i < l.size; i++) {
      const code = statusCode(d.packed, i);
      if (troubled && code < CODE_WARNING) continue;
      const name = l.names[i];
      const status = STATUS_OF_CODE[code];
      const value = code === CODE_UNKNOWN ? null : d.valueAt(i);
      out.push({ factor: name, status, cost: l.cost(i, code), value, warn: l.warn[i], crit: l.crit[i], reason: reasonFor(name, status, value, l.warn[i], l.crit[i], fcAt(i, name)) });
    }
    return out;
  }

  describe(d: DeviceHealth, now: number): string {
    if (d.state === 'offline') {
      if (d.offlineCause === 'presence') return `${d.id} is offline: its connection dropped (last will)`;
      const silentS = Math.round((now - d.obs.lastSeen) / 1000);
      return `${d.id} is offline: no message for ${silentS} s (limit ${Math.round(this.limitMs(d) / 1000)} s)`;
    }
    const bad = this.explained(d, true).sort((a, b) => b.cost - a.cost);
    const why = bad.length ? `: ${bad.slice(0, 3).map((f) => f.reason).join('; ')}` : '';
    return `${d.id} is ${d.state} (score ${d.score})${why}`;
  }

  /**
   * Marks devices offline that have been silent too long. Cost: one comparison per device, plus the
   * messages for those that changed. `max` caps those per call and `maxVisits` the devices looked at,
   * so a fleet-wide outage, or a large fleet, is taken in slices without holding the event loop:
   * while `sweeping` is true the pass is unfinished, and the next call at the same `now` goes on
   * where this one stopped (a call at another time starts a new pass). `over`, asked every 8 devices
   * taken, ends the call early: in an outage of 100,000 the cost of a device swung tenfold at times.
   */
  sweep(now: number, max = Infinity, maxVisits = Infinity, over?: () => boolean): HealthUpdate[] {
    const out: HealthUpdate[] = [];
    let pass = this.pass;
    if (pass && pass.at !== now) pass = null;
    if (!pass) {
      if (!(now > this.nextSilent)) { this.pass = null; return out; }
      pass = { at: now, cursor: this.devices.values(), next: Infinity };
      this.pass = pass;
    }
    let visits = 0;
    while (out.length < max && visits < maxVisits) {
      const it = pass.cursor.next();
      if (it.done) {
        // A full pass: every device still online is due no earlier than `next` (devices seen silent
        // again during the pass lowered it through setSilentAfter).
        this.nextSilent = pass.next;
        this.pass = null;
        return out;
      }
      visits++;
      const d = it.value;
      if (d.state === 'offline') continue;
      if (now > d.silentAfter) {
        out.push(this.apply(d, 'offline', now, 'silence'));
        if ((out.length & 7) === 0 && over?.()) break;
      } else if (d.silentAfter < pass.next) pass.next = d.silentAfter;
    }
    return out;
  }

  /** A sweep pass is unfinished: call sweep() again at the same time to go on. */
  get sweeping(): boolean {
    return this.pass !== null;
  }

  /**
   * The fleet summary. Counts by state and by kind are kept as devices change, and the worst are
   * chosen among the devices neither healthy nor unknown: a fleet of 100,000 healthy devices costs
   * nothing to summarise, an outage of all of them one comparison each.
   */
  summary(now: number, worstCount = 10): FleetSummary {
    const byKind: Record<string, Record<HealthState, number>> = {};
    // Defined, not assigned: a kind is text a flow can send (msg.device.kind), "__proto__" included.
    for (const [k, c] of this.kindCounts) {
      if (c.healthy + c.degraded + c.critical + c.offline + c.unknown > 0) Object.defineProperty(byKind, k, { value: { ...c }, enumerable: true, writable: true, configurable: true });
    }
    // The index is in the summary's order (worst state, then lowest score, then id): its front is the answer.
    const keep = Number.isInteger(worstCount) && worstCount >= 0 && worstCount <= 1000;
    const worst: DeviceHealth[] = [];
    if (!keep || worstCount > 0) {
      for (const d of this.troubled.keys()) {
        worst.push(d);
        if (keep && worst.length >= worstCount) break;
      }
    }
    return {
      at: now, total: this.devices.size, byState: { ...this.counts }, byKind, config: this.stamp,
      worst: worst.slice(0, worstCount).map((d) => ({
        device: d.id, state: d.state, score: d.score,
        reasons: d.state === 'offline' ? [this.describe(d, now)] : this.explained(d, true).map((f) => f.reason),
      })),
    };
  }

  /** Moves the device to the kind and state buckets it now belongs in, and re-files it (after a change of kind, state or score). */
  private place(d: DeviceHealth): void {
    this.file(d);
    const kind = d.obs.kind ?? 'unknown';
    if (d.countedKind === kind && d.countedState === d.state) return;
    if (d.countedKind !== null && d.countedState !== null) this.kindCounts.get(d.countedKind)![d.countedState]--;
    let c = this.kindCounts.get(kind);
    if (!c) { c = emptyCounts(); this.kindCounts.set(kind, c); }
    c[d.state]++;
    d.countedKind = kind;
    d.countedState = d.state;
  }

  /** Files the device in the worst-first index under its present state and score, or takes it out when it is not troubled. */
  private file(d: DeviceHealth): void {
    const rank = d.state === 'healthy' || d.state === 'unknown' ? -1 : RANK[d.state];
    if (rank === d.filedRank && (rank < 0 || d.score === d.filedScore)) return;
    if (d.filedRank >= 0) this.troubled.delete(d);
    d.filedRank = rank;
    d.filedScore = d.score;
    if (rank >= 0) this.troubled.set(d, undefined);
  }

  /** The record to persist: the live object itself, so recording it after every message allocates nothing. */
  snapshot(id: string): HealthSnapshot | null {
    return this.devices.get(id) ?? null;
  }

  /** Brings back a device after a restart; its silence clock runs on from `lastSeen`. */
  restore(id: string, s: HealthSnapshot, lastSeen: number, arch: string | null, labels: Record<string, string>): void {
    if (this.devices.has(id)) return;
    const d = this.create(id, s.obs.kind, lastSeen);
    this.counts[d.state]--;
    const pending = typeof s.pending === 'string' && (HEALTH_STATES as string[]).includes(s.pending) ? s.pending : null;
    const pendingCount = pending !== null && Number.isInteger(s.pendingCount) ? Number(s.pendingCount) : 0;
    d.obs = restoredObs(s.obs, Math.max(s.obs.lastSeen, lastSeen));
    d.state = s.state;
    d.score = s.score;
    d.since = s.since;
    d.restoreFactors(s.factors, layoutOf(effectiveFactors(this.config, d.obs.kind)), this.scratch);
    d.alertStartsAt = s.alertStartsAt;
    d.offlineCause = s.offlineCause;
    d.arch = arch;
    d.labels = Object.keys(labels).length === 0 ? NO_LABELS : labels;
    d.pending = pending;
    d.pendingCount = pendingCount;
    this.counts[d.state]++;
    this.place(d);
    this.setSilentAfter(d);
  }

  private setSilentAfter(d: DeviceHealth): void {
    d.silentAfter = d.obs.lastSeen + this.limitMs(d);
    if (d.silentAfter < this.nextSilent) this.nextSilent = d.silentAfter;
    // A pass under way may have walked past this device already: its end must not raise the bound above it.
    if (this.pass && d.silentAfter < this.pass.next) this.pass.next = d.silentAfter;
  }

}

/** Equal own labels (the node sends the same ones with every message): the record keeps its object. */
function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in b) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) continue;
    if (!Object.prototype.hasOwnProperty.call(a, k) || a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(a).length;
}

function copyLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const copy = { ...labels };
  return Object.keys(copy).length === 0 ? NO_LABELS : copy;
}

const isFactorScore = (x: unknown): boolean => {
  if (x === null || typeof x !== 'object') return false;
  const f = x as Record<string, unknown>;
  return typeof f.factor === 'string' && typeof f.status === 'string' && typeof f.cost === 'number' && (f.value === null || typeof f.value === 'number');
};

export function isHealthSnapshot(x: unknown): x is HealthSnapshot {
  if (x === null || typeof x !== 'object') return false;
  const s = x as Record<string, unknown>;
  const obs = s.obs as Record<string, unknown> | null;
  return s.v === 1 && typeof s.state === 'string' && (HEALTH_STATES as string[]).includes(s.state) && typeof s.score === 'number'
    && typeof s.since === 'number' && (s.alertStartsAt === null || typeof s.alertStartsAt === 'number')
    && typeof obs === 'object' && obs !== null && typeof obs.lastSeen === 'number' && Number.isFinite(obs.lastSeen)
    && ['restarts', 'invalid', 'otaFailures', 'steelFailures'].every((k) => Array.isArray(obs[k]))
    && Array.isArray(s.factors) && s.factors.every(isFactorScore);
}
