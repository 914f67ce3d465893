/**
 * A node's own state, restored before its first message: over Node-RED's context API (any configured
 * store), or durable — a journal file synced on every commit, for state that decides what is sent.
 */
import type { Node } from 'node-red';

import { Journal } from '../../lib/store/journal';
import { releaseStateFile } from './state-dir';

export type StateMode = 'context' | 'durable';

export interface StateStore {
  readonly mode: StateMode;
  /** The value restored or last set for `key` (a copy in durable mode). */
  get(key: string): unknown;
  keys(): string[];
  /** Durable: on disk when this returns. Context: written within the flush delay, and on close. */
  set(key: string, value: unknown): void;
  /** Context mode: `produce` runs at write time, so a busy node snapshots once per flush, not per message. */
  setLater(key: string, produce: () => unknown): void;
  delete(key: string): void;
  /** Several changes in one write (one fdatasync in durable mode); an undefined value deletes. */
  commit(changes: Iterable<readonly [string, unknown]>): void;
  /** Writes what is pending; resolves when the store has it. */
  flush(): Promise<void>;
}

/** The store with its restore and close, as the kit holds it. */
export interface OwnedStateStore extends StateStore {
  restore(): Promise<void>;
  /** `removed`: the node was deleted from the flow, and its durable state goes with it. */
  close(removed?: boolean): Promise<void>;
}

type Callback = (err: Error | null, ...values: unknown[]) => void;
interface CallbackContext {
  keys(store: string | undefined, cb: Callback): void;
  get(keys: string[], store: string | undefined, cb: Callback): void;
  set(keys: string[], values: unknown[], store: string | undefined, cb: (err: Error | null) => void): void;
}

const DEFAULT_FLUSH_MS = 1000;

export class ContextStateStore implements OwnedStateStore {
  readonly mode = 'context' as const;
  private readonly cache = new Map<string, unknown>();
  private readonly dirty = new Map<string, () => unknown>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly ctx: CallbackContext;

  constructor(node: Node, private readonly storeName: string | undefined, private readonly onError: (err: Error) => void, private readonly flushMs = DEFAULT_FLUSH_MS) {
    this.ctx = node.context() as unknown as CallbackContext;
  }

  restore(): Promise<void> {
    const store = this.storeName || undefined;
    return new Promise<void>((resolve, reject) => {
      this.ctx.keys(store, (err, keys) => {
        if (err) { reject(err); return; }
        const list = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
        if (list.length === 0) { resolve(); return; }
        this.ctx.get(list, store, (err2, ...values) => {
          if (err2) { reject(err2); return; }
          list.forEach((k, i) => { if (values[i] !== undefined && !this.dirty.has(k)) this.cache.set(k, values[i]); });
          resolve();
        });
      });
    });
  }

  get(key: string): unknown { return this.cache.get(key); }
  keys(): string[] { return [...this.cache.keys()]; }
  set(key: string, value: unknown): void { this.commit([[key, value]]); }
  delete(key: string): void { this.commit([[key, undefined]]); }

  setLater(key: string, produce: () => unknown): void {
    this.dirty.set(key, produce);
    this.schedule();
  }

  commit(changes: Iterable<readonly [string, unknown]>): void {
    for (const [k, v] of changes) {
      if (v === undefined) this.cache.delete(k); else this.cache.set(k, v);
      this.dirty.set(k, () => this.cache.get(k));
    }
    this.schedule();
  }

  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.dirty.size === 0) return this.writing;
    const keys: string[] = [];
    const values: unknown[] = [];
    for (const [k, produce] of this.dirty) {
      const v = produce();
      if (v === undefined) this.cache.delete(k); else this.cache.set(k, v);
      keys.push(k);
      values.push(v);
    }
    this.dirty.clear();
    const store = this.storeName || undefined;
    // Writes are chained so an older snapshot can never land after a newer one.
    this.writing = this.writing.then(() => new Promise<void>((resolve) => {
      this.ctx.set(keys, values, store, (err) => { if (err) this.onError(err); resolve(); });
    }));
    return this.writing;
  }

  close(): Promise<void> { return this.flush(); }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, this.flushMs);
  }
}

export class DurableStateStore implements OwnedStateStore {
  readonly mode = 'durable' as const;
  private journal: Journal | null = null;
  private failure: Error | null = null;

  constructor(readonly file: string) {}

  restore(): Promise<void> {
    try {
      this.journal = Journal.open(this.file);
      return Promise.resolve();
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      return Promise.reject(this.failure);
    }
  }

  /** The open journal, for a domain store that keeps its own records in it; throws why it is not open. */
  open(): Journal {
    if (!this.journal) throw new Error(`state journal ${this.file}: ${this.failure ? this.failure.message : 'not open'}`);
    return this.journal;
  }

  get(key: string): unknown { return this.journal?.get(key); }
  keys(): string[] { return this.journal ? [...this.journal.keys()] : []; }
  set(key: string, value: unknown): void { this.open().set(key, value); }
  delete(key: string): void { this.open().delete(key); }
  setLater(key: string, produce: () => unknown): void { this.open().set(key, produce()); }
  commit(changes: Iterable<readonly [string, unknown]>): void { this.open().commit(changes); }
  flush(): Promise<void> { return Promise.resolve(); }

  close(removed = false): Promise<void> {
    this.journal?.close();
    this.journal = null;
    try {
      releaseStateFile(this.file, removed);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

export { stateFile } from './state-dir';
