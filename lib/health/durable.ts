/**
 * fleet-health's durable state: every device's health record (state, score, factors, hysteresis
 * counter, the firing alert's start, last-seen) in a journal (lib/store/journal.ts).
 *
 * Two kinds of commit, both one append and one fdatasync:
 * - before a state change or an alert is sent, the devices it concerns (with whatever else is
 *   waiting) are committed, so a restarted node starts from the state it last announced: it never
 *   re-sends a resolve, re-fires an alert, or falls back to an older state;
 * - everything else (last-seen, counters moving without a state change) is group-committed by the
 *   caller's timer (fleet-health: every second), so after a SIGKILL last-seen is at most that old.
 *   A device whose state, score, factor statuses, counter and counted events did not move is
 *   written as last-seen alone, and in full every FULL_EVERY_MS: measured values (free heap, RSSI)
 *   may come back up to that old, and are replaced by the device's next message.
 * A commit holds every device change of an event-loop turn (fleet-health's group commit), and the
 * node-wide records (`setMeta`: the PipelineOverloaded alert while it fires) waiting with them.
 */
import { Journal, JsonText, type Durability } from '../store/journal';
import { factorFor, FACTOR_NAMES, type FactorName, type HealthConfig } from './config';
import type { FactorScore, FactorStatus } from './factors';
import { isHealthSnapshot, type DeviceHealth, type HealthSnapshot, type HealthTracker } from './tracker';

const KEY = 'd:';
/** A device's last-seen and last sensor reading alone, for the group commit of a device whose health did not move. */
const SEEN_KEY = 's:';
/** A device whose health did not move is still written in full this often, so its counters and values stay recent. */
export const FULL_EVERY_MS = 30_000;
/** Node-wide records, not a device: e.g. the start of a firing PipelineOverloaded alert. */
const META_KEY = 'm:';

export interface DurableStats {
  commits: number;
  /** Full device records written, over all commits. */
  records: number;
  /** Last-seen records written (devices whose health did not move). */
  seen: number;
  failures: number;
  lastError: string | null;
}

type CompactFactor = [FactorName, FactorStatus, number, number | null];
const STATUSES: ReadonlySet<string> = new Set(['ok', 'warning', 'critical', 'unknown']);
const NAMES: ReadonlySet<string> = new Set(FACTOR_NAMES);

/**
 * The journal's record of a device: the snapshot with each factor as [name, status, cost, value]
 * (its thresholds come from the configuration on restore). Half the bytes of the live record,
 * and the group commit writes every device that sent something in the last second.
 */
function encode(d: DeviceHealth): Record<string, unknown> {
  return {
    v: 1, state: d.state, score: d.score, since: d.since, pending: d.pending, pendingCount: d.pendingCount,
    alertStartsAt: d.alertStartsAt, offlineCause: d.offlineCause, arch: d.arch, labels: d.labels, config: d.config, obs: d.obs,
    f: d.factors.map((f): CompactFactor => [f.factor, f.status, f.cost, f.value]),
  };
}

function decode(x: unknown, config: HealthConfig): HealthSnapshot | null {
  if (x === null || typeof x !== 'object' || !Array.isArray((x as { f?: unknown }).f)) return null;
  const r = x as Record<string, unknown> & { f: unknown[]; obs?: { kind?: unknown } };
  const kind = r.obs && typeof r.obs.kind === 'string' ? r.obs.kind : null;
  const factors: FactorScore[] = [];
  for (const item of r.f) {
    if (!Array.isArray(item) || !NAMES.has(item[0]) || !STATUSES.has(item[1]) || typeof item[2] !== 'number' || (item[3] !== null && typeof item[3] !== 'number')) return null;
    const fc = factorFor(config, kind as Parameters<typeof factorFor>[1], item[0] as FactorName);
    factors.push({ factor: item[0] as FactorName, status: item[1] as FactorStatus, cost: item[2], value: item[3], warn: fc.warn, crit: fc.crit });
  }
  const snap: unknown = { ...r, factors };
  return isHealthSnapshot(snap) ? snap : null;
}

/**
 * Everything of a device that decides what it sends next: state, score, factor statuses, the
 * hysteresis counter, the firing alert, and the counted events. When none of it moved, the group
 * commit writes last-seen alone (40 bytes instead of 900).
 */
function signature(d: DeviceHealth): string {
  const o = d.obs;
  let statuses = '';
  for (const f of d.factors) statuses += f.status[0];
  const tail = (l: readonly number[]): string => `${l.length}:${l.length ? l[l.length - 1] : ''}`;
  return `${d.state}|${d.score}|${statuses}|${d.pending}|${d.pendingCount}|${d.alertStartsAt}|${d.offlineCause}|${o.presenceOffline}|${o.kind}`
    + `|${tail(o.restarts)}|${tail(o.invalid)}|${tail(o.otaFailures)}|${tail(o.steelFailures)}|${o.lastRestartCount}|${o.announcedInterval}|${o.reported}`;
}

const never = (): boolean => false;

const isLabels = (x: unknown): x is Record<string, string> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every((v) => typeof v === 'string');

export class DurableHealth {
  readonly stats: DurableStats = { commits: 0, records: 0, seen: 0, failures: 0, lastError: null };
  private readonly dirty = new Set<string>();
  /** The group commit's pass in slices: the devices that were waiting when it began, taken from `drainAt` on. */
  private draining: string[] = [];
  private drainAt = 0;
  /** What decides what is sent, as of each device's last full record, and when that was written. */
  private readonly written = new Map<string, { sig: string; at: number }>();
  private readonly metaLive = new Map<string, unknown>();
  /** Node-wide records set since the last commit (undefined deletes). */
  private readonly metaWaiting = new Map<string, unknown>();

  constructor(private readonly journal: Journal, private readonly tracker: HealthTracker, private readonly config: HealthConfig) {}

  static open(file: string, tracker: HealthTracker, config: HealthConfig): DurableHealth {
    return new DurableHealth(Journal.open(file), tracker, config);
  }

  get file(): string {
    return this.journal.file;
  }

  /** Devices changed since the last commit. */
  get waiting(): number {
    return this.dirty.size + (this.draining.length - this.drainAt) + this.metaWaiting.size;
  }

  /** A node-wide record as last committed (or restored). */
  meta(key: string): unknown {
    return this.metaLive.get(key);
  }

  /** Sets (undefined: deletes) a node-wide record; it is written by the next commit. */
  setMeta(key: string, value: unknown): void {
    this.metaWaiting.set(key, value);
  }

  /** Loads every committed record into the tracker; returns how many. Unreadable records are skipped. */
  restore(): { restored: number; skipped: number } {
    let restored = 0;
    let skipped = 0;
    const seen = new Map<string, [number, number | null]>();
    const full: Array<[string, HealthSnapshot]> = [];
    for (const [k, raw] of this.journal.entries()) {
      if (k.startsWith(META_KEY)) { this.metaLive.set(k.slice(META_KEY.length), raw); continue; }
      if (k.startsWith(SEEN_KEY)) {
        if (Array.isArray(raw) && typeof raw[0] === 'number' && (raw[1] === null || typeof raw[1] === 'number')) seen.set(k.slice(SEEN_KEY.length), [raw[0], raw[1]]);
        else skipped++;
        continue;
      }
      const v = k.startsWith(KEY) ? decode(raw, this.config) : null;
      if (!v) { skipped++; continue; }
      full.push([k.slice(KEY.length), v]);
    }
    for (const [id, v] of full) {
      const s = seen.get(id);
      const obs = s ? { ...v.obs, lastSeen: Math.max(v.obs.lastSeen, s[0]), lastSensorAt: s[1] === null ? v.obs.lastSensorAt : Math.max(v.obs.lastSensorAt ?? s[1], s[1]) } : v.obs;
      const arch = typeof v.arch === 'string' ? v.arch : null;
      this.tracker.restore(id, { ...v, obs }, obs.lastSeen, arch, isLabels(v.labels) ? { ...v.labels } : {});
      const d = this.tracker.get(id);
      if (d) this.written.set(id, { sig: signature(d), at: Date.now() });
      restored++;
    }
    return { restored, skipped };
  }

  /** Notes a change that need not be durable before anything is sent (it goes in the next commit). */
  touch(id: string): void {
    this.dirty.add(id);
  }

  /**
   * Commits `ids` and what is waiting, in one append and sync: every node-wide record, and of the
   * devices waiting at most `maxWaiting` (the oldest first; the rest stay waiting). Returns false
   * when the disk refused: the records stay waiting for the next commit, and the caller decides
   * what to send.
   */
  commit(ids: Iterable<string> = [], now = Date.now(), maxWaiting = Infinity): boolean {
    return this.write(new Set(ids), maxWaiting, never, now, 'sync');
  }

  /**
   * Commits `ids` like commit(), synced off the event loop: `onDurable(true)` once they are durable,
   * `onDurable(false)` when the disk refused (the records stay waiting for the next commit). Callers
   * hear in the order they committed, sync commits included; a write that failed is heard after the
   * commits still waiting for their sync, not before them.
   */
  commitThen(ids: Iterable<string>, now: number, maxWaiting: number, onDurable: (ok: boolean) => void): void {
    const forced = new Set(ids);
    if (!this.write(forced, maxWaiting, never, now, 'background')) {
      this.journal.commit([], 'background', () => onDurable(false));
      return;
    }
    this.journal.commit([], 'background', (err) => {
      if (err) {
        this.stats.failures++;
        this.stats.lastError = err.message;
        for (const id of forced) this.dirty.add(id);
      }
      onDurable(err === null);
    });
  }

  /**
   * The timer's group commit of devices that need not be durable before a send, a slice at a time:
   * at most `max` of them, fewer once `over()` says the slice's time is up. Written at once, synced
   * off the event loop (a process crash loses nothing written; a power cut at most this slice).
   */
  commitWaiting(max: number, over: () => boolean, now = Date.now()): boolean {
    return this.write(new Set(), max, over, now, 'background');
  }

  private write(forced: ReadonlySet<string>, maxWaiting: number, over: () => boolean, now: number, durability: Durability): boolean {
    const devicesWaiting = this.dirty.size + this.draining.length - this.drainAt;
    if (forced.size === 0 && (devicesWaiting === 0 || maxWaiting <= 0) && this.metaWaiting.size === 0) return true;
    const changes: Array<[string, unknown]> = [];
    for (const [k, v] of this.metaWaiting) changes.push([META_KEY + k, v]);
    const fullNow: Array<[string, string]> = [];
    let seenCount = 0;
    // The forced ones first, then the oldest waiting, from the list being drained.
    const taken: string[] = [...forced];
    let from = this.drainAt;
    let end = from;
    /** Where each waiting device taken stands in `draining`, so a slice cut short resumes after the last one written. */
    const drainIndex: number[] = [];
    if (maxWaiting > 0) {
      if (from >= this.draining.length && this.dirty.size > 0) {
        // A Set iterated from its start walks every entry deleted before: taking slices off its front
        // costs more each slice (8 ms a slice at 100,000). The pass works through a copy instead.
        this.draining = Array.from(this.dirty);
        this.dirty.clear();
        from = this.drainAt = 0;
      }
      end = Math.min(this.draining.length, from + maxWaiting);
      for (let i = from; i < end; i++) {
        const id = this.draining[i];
        if (forced.has(id)) continue;
        taken.push(id);
        drainIndex.push(i);
      }
    }
    let n = 0;
    let cut = false;
    try {
      for (const id of taken) {
        // Past the caller's time (read every 32 records): the waiting rest goes in a later commit.
        if (++n % 32 === 0 && n > forced.size && over()) { taken.length = n - 1; cut = true; break; }
        const d = this.tracker.get(id);
        if (!d) { changes.push([KEY + id, undefined], [SEEN_KEY + id, undefined]); continue; }
        const sig = signature(d);
        const last = this.written.get(id);
        if (forced.has(id) || !last || last.sig !== sig || now - last.at >= FULL_EVERY_MS) {
          changes.push([KEY + id, new JsonText(JSON.stringify(encode(d)))]);
          fullNow.push([id, sig]);
        } else {
          changes.push([SEEN_KEY + id, [d.obs.lastSeen, d.obs.lastSensorAt]]);
          seenCount++;
        }
      }
      this.journal.commit(changes, durability);
    } catch (err) {
      this.stats.failures++;
      this.stats.lastError = (err as Error).message;
      for (const id of forced) this.dirty.add(id);
      return false;
    }
    for (const [id, sig] of fullNow) this.written.set(id, { sig, at: now });
    for (const [k, v] of this.metaWaiting) { if (v === undefined) this.metaLive.delete(k); else this.metaLive.set(k, v); }
    this.metaWaiting.clear();
    this.stats.commits++;
    this.stats.records += fullNow.length;
    this.stats.seen += seenCount;
    for (const id of forced) this.dirty.delete(id);
    const written = taken.length - forced.size;
    this.drainAt = !cut ? end : written > 0 ? drainIndex[written - 1] + 1 : from;
    if (this.drainAt >= this.draining.length) { this.draining = []; this.drainAt = 0; }
    // What commit() promised: with no cap, the devices that waited outside the pass too.
    if (maxWaiting === Infinity && this.dirty.size > 0) return this.write(new Set(), Infinity, over, now, durability);
    return true;
  }

  /** Commits made with commitThen() whose callers are still waiting for their sync. */
  get syncing(): boolean {
    return this.journal.syncing;
  }

  /** The commits waiting for their background sync, synced now and their callers told (on close). */
  syncWaiting(): void {
    this.journal.syncWaiting();
  }

  close(): void {
    this.commit();
    this.journal.close();
  }
}
