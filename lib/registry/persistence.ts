/**
 * Writes the device table to a key-value store (a Node-RED context store in practice) one key per
 * device, batched on a timer so the message path never waits on storage.
 *
 * One record must never cost the others their writes: each record is copied on its own into plain
 * data (a copy that cannot throw), and when a batch write fails the records are written one by one,
 * so the one the store refuses is found, logged once and retried alone at later flushes while the
 * rest are written.
 */
import { DeviceTable, isDeviceRecord } from './device-table';
import { plainCopy } from './plain-copy';

export interface KeyValueStore {
  keys(): Promise<string[]>;
  get(keys: string[]): Promise<unknown[]>;
  /** `undefined` values delete their keys. */
  set(keys: string[], values: unknown[]): Promise<void>;
}

const KEY_PREFIX = 'dev_';
/** Longest a flush copies records before it lets messages through (then writes that slice and yields): each slow gap also held a scavenge of 5–9 ms, the copies surviving it. */
const SLICE_MS = 2;
/** Registry-wide state (not a device), e.g. the RegistryFull alert while it fires. */
const META_PREFIX = 'meta_';

/** Context keys are property expressions (`.` and `[` mean nesting), so ids are stored base64url-encoded. */
export const deviceKey = (id: string): string => {
  if (typeof id !== 'string') throw new TypeError(`device id must be a string, not ${typeof id}`);
  return KEY_PREFIX + Buffer.from(id, 'utf8').toString('base64url');
};

export interface PersistenceStats {
  loaded: number;
  skipped: number;
  writes: number;
  /** Record writes that failed (each retried later). */
  failed: number;
  /** Records that failed alone and are now written alone until they succeed. */
  isolated: number;
  /** Values left out of copies (functions, throwing getters, cycles, too deep). */
  dropped: number;
  lastError: string | null;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class RegistryPersistence {
  readonly stats: PersistenceStats = { loaded: 0, skipped: 0, writes: 0, failed: 0, isolated: 0, dropped: 0, lastError: null };
  readonly meta = new Map<string, unknown>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Ids whose write failed alone: written one per store call, so they cannot fail a batch. */
  private readonly suspects = new Set<string>();
  private closed = false;

  constructor(
    private readonly table: DeviceTable,
    private readonly store: KeyValueStore,
    private readonly flushMs: number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  async load(): Promise<number> {
    const all = await this.store.keys();
    const keys = all.filter((k) => k.startsWith(KEY_PREFIX));
    const batch = 1000;
    for (let i = 0; i < keys.length; i += batch) {
      const values = await this.store.get(keys.slice(i, i + batch));
      for (const v of values) {
        if (isDeviceRecord(v)) {
          this.table.restore(v);
          this.stats.loaded++;
        } else {
          this.stats.skipped++;
        }
      }
    }
    const metaKeys = all.filter((k) => k.startsWith(META_PREFIX));
    if (metaKeys.length) {
      const values = await this.store.get(metaKeys);
      metaKeys.forEach((k, i) => { if (values[i] !== undefined) this.meta.set(k.slice(META_PREFIX.length), values[i]); });
    }
    return this.stats.loaded;
  }

  /** Stores (or, with undefined, deletes) a registry-wide value; best effort, errors reported. */
  async setMeta(name: string, value: unknown): Promise<void> {
    if (value === undefined) this.meta.delete(name);
    else this.meta.set(name, value);
    try {
      await this.store.set([META_PREFIX + name], [value === undefined ? undefined : plainCopy(value)]);
    } catch (err) {
      this.stats.lastError = message(err);
      this.onError(new Error(`registry state ${name}: ${message(err)}`));
    }
  }

  /** Called after table changes; at most one flush per flushMs. */
  schedule(): void {
    if (this.closed || this.timer || this.table.dirtyCount === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // flush() handles its own failures; this catch is for a bug there, so it cannot crash Node-RED.
      this.flush().catch((err: unknown) => this.onError(new Error(`registry flush: ${message(err)}`)));
    }, this.flushMs);
    this.timer.unref?.();
  }

  /** Writes what changed. Never rejects: failures are reported through onError and retried. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    const dirty = this.table.takeDirty();
    if (dirty.size === 0) return;
    this.flushing = this.write(dirty);
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
    if (this.table.dirtyCount > 0) this.schedule();
  }

  private async write(dirty: Set<string>): Promise<void> {
    const alone: Array<[string, string, unknown]> = [];
    // Copying a record costs tens of μs: a flush of 100,000 changed devices done in one go held the
    // event loop for seconds. Records are copied and written in slices of a few ms, one per turn.
    const ids = dirty.values();
    let first = true;
    for (let next = ids.next(); !next.done;) {
      if (!first) await new Promise<void>((r) => setImmediate(r));
      first = false;
      const batch: Array<[string, string, unknown]> = [];
      const until = performance.now() + SLICE_MS;
      for (; !next.done && (batch.length < 64 || performance.now() < until); next = ids.next()) {
        const id = next.value;
        const rec = this.table.get(id);
        let entry: [string, string, unknown];
        try {
          const copyStats = { dropped: 0, truncated: 0 };
          // A plain copy: the store may keep the object (memory store), and the table goes on changing it.
          entry = [id, deviceKey(id), rec === undefined ? undefined : plainCopy(rec, 64, copyStats)];
          this.stats.dropped += copyStats.dropped + copyStats.truncated;
        } catch (err) {
          this.fail(id, err, true);
          continue;
        }
        (this.suspects.has(id) ? alone : batch).push(entry);
      }
      if (batch.length === 0) continue;
      try {
        await this.store.set(batch.map((e) => e[1]), batch.map((e) => e[2]));
        this.stats.writes += batch.length;
      } catch (err) {
        if (batch.length === 1) this.fail(batch[0][0], err, false);
        else if (await this.writeEach(batch, err)) {
          // The store is down: keep the rest for the next flush rather than fail each slice in turn.
          const rest: string[] = [];
          for (; !next.done; next = ids.next()) rest.push(next.value);
          this.table.markDirty(rest);
          break;
        }
      }
    }
    for (const e of alone) await this.writeOne(e, true);
  }

  /** A batch failed: find which records the store refuses by writing each alone. */
  /** Returns true when every record failed (the store is down). */
  private async writeEach(batch: Array<[string, string, unknown]>, batchErr: unknown): Promise<boolean> {
    let ok = 0;
    const failedIds: string[] = [];
    for (const e of batch) {
      try {
        await this.store.set([e[1]], [e[2]]);
        this.stats.writes++;
        ok++;
      } catch {
        failedIds.push(e[0]);
      }
    }
    if (ok === 0) {
      // Every record failed: the store is down (disk full), not one record at fault. Retry all later.
      this.stats.failed += failedIds.length;
      this.stats.lastError = message(batchErr);
      this.table.markDirty(failedIds);
      this.onError(new Error(message(batchErr)));
      return true;
    }
    for (const id of failedIds) this.fail(id, batchErr, true);
    return false;
  }

  private async writeOne(e: [string, string, unknown], isolated: boolean): Promise<void> {
    try {
      await this.store.set([e[1]], [e[2]]);
      this.stats.writes++;
      if (this.suspects.delete(e[0])) this.stats.isolated = this.suspects.size;
    } catch (err) {
      this.fail(e[0], err, isolated);
    }
  }

  /** Records a failed write of one device: logged the first time, retried alone at the next flush. */
  private fail(id: string, err: unknown, isolate: boolean): void {
    this.stats.failed++;
    this.stats.lastError = message(err);
    this.table.markDirty([id]);
    const known = this.suspects.has(id);
    if (isolate) {
      this.suspects.add(id);
      this.stats.isolated = this.suspects.size;
    }
    if (!known) this.onError(new Error(`device ${JSON.stringify(String(id)).slice(0, 80)}: ${message(err)}`));
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
