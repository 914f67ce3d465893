/**
 * The health model of a fleet: per-device score, state and factors, presence and silence, state
 * changes confirmed by hysteresis, and the alerts those changes raise or resolve. No timers here:
 * the caller passes the time, and calls sweep() on its own clock.
 */
import { createHash } from 'node:crypto';

import type { DeviceKind, MessageKind } from '../../../firmware/contract/topics';
import { makeAlert, type FleetAlert, type Severity } from '../../../lib/alert-shape';
import { effectiveFactors, factorFor, type HealthConfig } from '../../../lib/health/config';
import { EVENT_FACTORS, explain, scoreFactor, type FactorResult, type FactorScore } from './factors';
import { emptyObs, observe, observeInvalid, type DeviceObs } from './observations';

export type HealthState = 'healthy' | 'degraded' | 'critical' | 'offline' | 'unknown';
export const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'critical', 'offline', 'unknown'];

const RANK: Readonly<Record<HealthState, number>> = { unknown: 0, healthy: 0, degraded: 1, critical: 2, offline: 3 };
const ALERTS: Readonly<Partial<Record<HealthState, { name: string; severity: Severity }>>> = {
  degraded: { name: 'DeviceDegraded', severity: 'warning' },
  critical: { name: 'DeviceCritical', severity: 'critical' },
  offline: { name: 'DeviceOffline', severity: 'major' },
};

/** A device's live health record. It is its own snapshot: the registry keeps a reference and copies it at flush. */
export interface DeviceHealth {
  readonly v: 1;
  readonly id: string;
  config: ConfigStamp;
  obs: DeviceObs;
  arch: string | null;
  labels: Record<string, string>;
  state: HealthState;
  score: number;
  since: number;
  factors: FactorScore[];
  pending: HealthState | null;
  pendingCount: number;
  silentAfter: number;
  alertStartsAt: number | null;
  offlineCause: 'silence' | 'presence' | null;
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
  /** Where an evaluation is scored before it is known whether the device takes it (reused, no allocation). */
  private scratch: FactorScore[] = [];

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
    const d: DeviceHealth = {
      v: 1, id, config: this.stamp, obs: emptyObs(kind, at), arch: null, labels: {}, state: 'unknown', score: 100, since: at, factors: [],
      pending: null, pendingCount: 0, silentAfter: Infinity, alertStartsAt: null, offlineCause: null,
    };
    this.devices.set(id, d);
    this.counts.unknown++;
    return d;
  }

  /** Scores a decoded message; `config` stands in for the node's configuration for this one message. */
  observe(m: HealthInput, config: HealthConfig = this.config): HealthUpdate {
    let d = this.devices.get(m.id);
    // A replayed retained message says what the device last said, not that it is alive now.
    if (m.retained && m.kind !== 'presence') return { change: null, alerts: [] };
    if (!d) d = this.create(m.id, m.deviceKind, m.at);
    if (m.deviceKind) d.obs.kind = m.deviceKind;
    if (m.arch) d.arch = m.arch;
    if (m.labels) d.labels = { ...m.labels };
    const lastSeen = d.obs.lastSeen;
    observe(d.obs, { kind: m.kind, payload: m.payload, at: m.at, online: m.online });
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
    const factors = this.scratch;
    if (factors.length > list.length) factors.length = list.length;
    let cost = 0;
    let measured = 0;
    let worst = 0;
    for (let i = 0; i < list.length; i++) {
      const [name, fc] = list[i];
      const r = scoreFactor(name, fc, d.obs, config, now, factors[i]);
      factors[i] = r;
      cost += r.cost;
      if (r.status !== 'unknown' && !EVENT_FACTORS.has(name)) measured++;
      if (r.status === 'critical') worst = 2;
      else if (r.status === 'warning' && worst < 1) worst = 1;
    }
    const score = Math.max(0, 100 - cost);
    d.config = this.stamp;
    let candidate = classify(worst, score, measured, config);
    if (d.obs.presenceOffline) candidate = 'offline';

    if (candidate === d.state) {
      d.pending = null;
      d.pendingCount = 0;
      this.take(d, score);
      return { change: null, alerts: [] };
    }
    // Offline is decided by time or by the broker, and any message ends it: no confirmation wait.
    const immediate = candidate === 'offline' || d.state === 'offline' || d.state === 'unknown';
    if (!immediate) {
      d.pendingCount = d.pending === candidate ? d.pendingCount + 1 : 1;
      d.pending = candidate;
      const needed = RANK[candidate] > RANK[d.state] ? config.hysteresis.raiseAfter : config.hysteresis.clearAfter;
      if (d.pendingCount < needed) return { change: null, alerts: [] };
    }
    this.take(d, score);
    return this.apply(d, candidate, now, cause);
  }

  /** Makes the evaluation in `scratch` the device's own; its old array becomes the next scratch. */
  private take(d: DeviceHealth, score: number): void {
    const old = d.factors;
    d.factors = this.scratch;
    this.scratch = old;
    d.score = score;
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
        details: { state: next, score: d.score, factors: this.explained(d).filter((f) => f.status === 'warning' || f.status === 'critical') },
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

  /** The factors with their reasons, for messages people read. */
  explained(d: DeviceHealth): FactorResult[] {
    const list = effectiveFactors(this.config, d.obs.kind);
    return d.factors.map((f, i) => explain(f, list[i]?.[0] === f.factor ? list[i][1] : factorFor(this.config, d.obs.kind, f.factor)));
  }

  describe(d: DeviceHealth, now: number): string {
    if (d.state === 'offline') {
      if (d.offlineCause === 'presence') return `${d.id} is offline: its connection dropped (last will)`;
      const silentS = Math.round((now - d.obs.lastSeen) / 1000);
      return `${d.id} is offline: no message for ${silentS} s (limit ${Math.round(this.limitMs(d) / 1000)} s)`;
    }
    const bad = this.explained(d).filter((f) => f.status === 'critical' || f.status === 'warning').sort((a, b) => b.cost - a.cost);
    const why = bad.length ? `: ${bad.slice(0, 3).map((f) => f.reason).join('; ')}` : '';
    return `${d.id} is ${d.state} (score ${d.score})${why}`;
  }

  /**
   * Marks devices offline that have been silent too long. Cost: one comparison per device, plus the
   * messages for those that changed; `max` caps those per call, so a fleet-wide outage can be taken
   * in slices without holding the event loop (call again while it returns `max` updates).
   */
  sweep(now: number, max = Infinity): HealthUpdate[] {
    const out: HealthUpdate[] = [];
    if (!(now > this.nextSilent)) return out;
    let next = Infinity;
    for (const d of this.devices.values()) {
      if (d.state === 'offline') continue;
      if (now > d.silentAfter) {
        if (out.length >= max) return out;
        out.push(this.apply(d, 'offline', now, 'silence'));
      } else if (d.silentAfter < next) {
        next = d.silentAfter;
      }
    }
    // A full pass: every device still online is due no earlier than `next`.
    this.nextSilent = next;
    return out;
  }

  summary(now: number, worstCount = 10): FleetSummary {
    const byKind: Record<string, Record<HealthState, number>> = {};
    // The worst `worstCount` kept in order as the scan goes: sorting every unhealthy device took
    // 100 ms in an outage of 100,000. The order is total (ids are unique), so the result is the same.
    const worse = (a: DeviceHealth, b: DeviceHealth): number => RANK[b.state] - RANK[a.state] || a.score - b.score || (a.id < b.id ? -1 : 1);
    const keep = Number.isInteger(worstCount) && worstCount >= 0 && worstCount <= 1000;
    const worst: DeviceHealth[] = [];
    for (const d of this.devices.values()) {
      const k = d.obs.kind ?? 'unknown';
      (byKind[k] ??= emptyCounts())[d.state]++;
      if (d.state === 'healthy' || d.state === 'unknown') continue;
      if (!keep) { worst.push(d); continue; }
      if (worst.length >= worstCount && (worstCount === 0 || worse(d, worst[worst.length - 1]) >= 0)) continue;
      let at = worst.length;
      while (at > 0 && worse(d, worst[at - 1]) < 0) at--;
      worst.splice(at, 0, d);
      if (worst.length > worstCount) worst.pop();
    }
    if (!keep) worst.sort(worse);
    return {
      at: now, total: this.devices.size, byState: { ...this.counts }, byKind, config: this.stamp,
      worst: worst.slice(0, worstCount).map((d) => ({
        device: d.id, state: d.state, score: d.score,
        reasons: d.state === 'offline' ? [this.describe(d, now)] : this.explained(d).filter((f) => f.status === 'critical' || f.status === 'warning').map((f) => f.reason),
      })),
    };
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
    Object.assign(d, {
      obs: { ...s.obs, lastSeen: Math.max(s.obs.lastSeen, lastSeen) }, state: s.state, score: s.score, since: s.since, factors: s.factors,
      alertStartsAt: s.alertStartsAt, offlineCause: s.offlineCause, arch, labels, pending, pendingCount,
    });
    this.counts[d.state]++;
    this.setSilentAfter(d);
  }

  private setSilentAfter(d: DeviceHealth): void {
    d.silentAfter = d.obs.lastSeen + this.limitMs(d);
    if (d.silentAfter < this.nextSilent) this.nextSilent = d.silentAfter;
  }

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
