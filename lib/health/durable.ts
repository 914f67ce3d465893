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
 */
import { Journal } from '../store/journal';
import { isHealthSnapshot, type HealthTracker } from './tracker';

const KEY = 'd:';

export interface DurableStats {
  commits: number;
  /** Device records written, over all commits. */
  records: number;
  failures: number;
  lastError: string | null;
}

const isLabels = (x: unknown): x is Record<string, string> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) && Object.values(x).every((v) => typeof v === 'string');

export class DurableHealth {
  readonly stats: DurableStats = { commits: 0, records: 0, failures: 0, lastError: null };
  private readonly dirty = new Set<string>();

  constructor(private readonly journal: Journal, private readonly tracker: HealthTracker) {}

  static open(file: string, tracker: HealthTracker): DurableHealth {
    return new DurableHealth(Journal.open(file), tracker);
  }

  get file(): string {
    return this.journal.file;
  }

  /** Devices changed since the last commit. */
  get waiting(): number {
    return this.dirty.size;
  }

  /** Loads every committed record into the tracker; returns how many. Unreadable records are skipped. */
  restore(): { restored: number; skipped: number } {
    let restored = 0;
    let skipped = 0;
    for (const [k, v] of this.journal.entries()) {
      if (!k.startsWith(KEY) || !isHealthSnapshot(v)) { skipped++; continue; }
      const arch = typeof v.arch === 'string' ? v.arch : null;
      this.tracker.restore(k.slice(KEY.length), v, v.obs.lastSeen, arch, isLabels(v.labels) ? { ...v.labels } : {});
      restored++;
    }
    return { restored, skipped };
  }

  /** Notes a change that need not be durable before anything is sent (it goes in the next commit). */
  touch(id: string): void {
    this.dirty.add(id);
  }

  /**
   * Commits `ids` and everything waiting, in one append and sync. Returns false when the disk
   * refused: the records stay waiting for the next commit, and the caller decides what to send.
   */
  commit(ids: Iterable<string> = []): boolean {
    for (const id of ids) this.dirty.add(id);
    if (this.dirty.size === 0) return true;
    const changes: Array<[string, unknown]> = [];
    for (const id of this.dirty) changes.push([KEY + id, this.tracker.snapshot(id) ?? undefined]);
    try {
      this.journal.commit(changes);
    } catch (err) {
      this.stats.failures++;
      this.stats.lastError = (err as Error).message;
      return false;
    }
    this.stats.commits++;
    this.stats.records += changes.length;
    this.dirty.clear();
    return true;
  }

  close(): void {
    this.commit();
    this.journal.close();
  }
}
