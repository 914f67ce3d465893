/**
 * Writes the device table to a key-value store (a Node-RED context store in practice) one key per
 * device, batched on a timer so the message path never waits on storage.
 */
import { DeviceTable, isDeviceRecord } from './device-table';

export interface KeyValueStore {
  keys(): Promise<string[]>;
  get(keys: string[]): Promise<unknown[]>;
  /** `undefined` values delete their keys. */
  set(keys: string[], values: unknown[]): Promise<void>;
}

const KEY_PREFIX = 'dev_';

/** Context keys are property expressions (`.` and `[` mean nesting), so ids are stored base64url-encoded. */
export const deviceKey = (id: string): string => KEY_PREFIX + Buffer.from(id, 'utf8').toString('base64url');

export interface PersistenceStats {
  loaded: number;
  skipped: number;
  writes: number;
  lastError: string | null;
}

export class RegistryPersistence {
  readonly stats: PersistenceStats = { loaded: 0, skipped: 0, writes: 0, lastError: null };
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly table: DeviceTable,
    private readonly store: KeyValueStore,
    private readonly flushMs: number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  async load(): Promise<number> {
    const keys = (await this.store.keys()).filter((k) => k.startsWith(KEY_PREFIX));
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
    return this.stats.loaded;
  }

  /** Called after table changes; at most one flush per flushMs. */
  schedule(): void {
    if (this.timer || this.table.dirtyCount === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.flushMs);
    this.timer.unref?.();
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    const dirty = this.table.takeDirty();
    if (dirty.length === 0) return;
    const keys = dirty.map(([id]) => deviceKey(id));
    // A structured copy: the store may keep the object (memory store), and the table goes on changing it.
    const values = dirty.map(([, rec]) => (rec === undefined ? undefined : structuredClone(rec)));
    this.flushing = this.store.set(keys, values).then(
      () => { this.stats.writes += keys.length; },
      (err: Error) => {
        this.stats.lastError = err.message;
        this.table.markDirty(dirty.map(([id]) => id));
        this.onError(err);
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}
