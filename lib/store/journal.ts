/**
 * A durable key-value journal for state that decides what is sent (notification log, alert and
 * health states, rollout transitions). Node-RED's file context store writes on a timer, so a
 * SIGKILL loses or rolls back whatever changed since; here `commit` appends the change to a file
 * and fdatasyncs it before returning, so once it returns the change survives a crash.
 *
 * File format: one JSON line per change, `{"k":key,"v":value}` or `{"k":key,"d":1}`. A torn last
 * line (a crash mid-write) is dropped on load. The file is rewritten (to a temporary file, synced,
 * then renamed) when it grows well past the live data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type JournalChange = readonly [key: string, value: unknown];

/**
 * A value already serialized by the caller (JSON text it produced with JSON.stringify), written as
 * is: a caller that commits in time slices serializes inside its own budget.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface JournalStats {
  /** Lines read at open that held a change. */
  readonly loaded: number;
  /** Lines at open that could not be read (a torn last write, or damage). */
  readonly damaged: number;
  readonly commits: number;
  /** fdatasync calls (commits and compactions): what a group commit saves. */
  readonly syncs: number;
  readonly compactions: number;
}

export interface JournalOptions {
  /** Compact when the file holds more than this many times the live bytes (and at least 1 MiB). */
  readonly compactRatio?: number;
  /** Skip fdatasync (benchmarks of the format only; never for real state). */
  readonly unsafeNoSync?: boolean;
}

const MIN_COMPACT_BYTES = 1 << 20;
/**
 * A sliced compaction's catch-up: the commits made while it ran are copied after the snapshot off
 * the event loop while they are more than this; only the last few are written and synced on it.
 */
const TAIL_ON_LOOP_BYTES = 64 * 1024;
/** Off-loop syncs, and writes, of the catch-up before the rest is written and synced on the loop (a disk slower than the commits never catches up). */
const CATCH_UP_SYNCS = 3;
const CATCH_UP_WRITES = 64;
/**
 * The most a compaction serializes for one write (a slice of the snapshot, a piece of the tail):
 * joining and encoding megabytes in one turn took 15–30 ms at 100,000 devices.
 */
const WRITE_CHUNK_BYTES = 256 * 1024;
const ignore = (): void => undefined;

/**
 * `sync`: fdatasync before `commit` returns (what decides a send). `background`: written before it
 * returns, so a process crash loses nothing, and fdatasynced off the event loop soon after (a power
 * cut may lose it): for records nothing is sent on, where a sync's disk latency (tens of ms when the
 * disk is busy) would hold the loop.
 */
export type Durability = 'sync' | 'background';

/** Runs a function on a later event-loop turn (`setImmediate` in Node). */
export type Defer = (next: () => void) => void;

/** A compaction taken in slices: the live entries as of its start, then every commit made meanwhile. */
interface SlicedCompaction {
  readonly tmp: string;
  readonly fd: number;
  readonly keys: string[];
  at: number;
  bytes: number;
  /** Commits made since the start, appended after the snapshot so the last line of a key still wins. */
  tail: string[];
  /** Bytes of each `tail` entry. */
  tailSizes: number[];
  tailBytes: number;
  /** Written to the temporary file since its last sync. */
  unsynced: boolean;
  syncsLeft: number;
  writesLeft: number;
  /** A write or sync on `fd` is running off the loop: closing `fd` now could hand its number to another file mid-write. */
  busy: boolean;
  abandoned: boolean;
}

export class Journal {
  /** Serialized values: a caller mutating its object later cannot change what was committed. */
  private readonly live = new Map<string, string>();
  private liveBytes = 0;
  private fileBytes = 0;
  private fd: number;
  private loaded = 0;
  private damaged = 0;
  private commits = 0;
  private syncs = 0;
  private compactions = 0;
  private readonly compactRatio: number;
  private readonly sync: boolean;
  private sliced: { readonly defer: Defer; readonly sliceMs: number } | null = null;
  private compacting: SlicedCompaction | null = null;
  /** After a sliced compaction failed, the next one waits until the file has grown this far. */
  private retryAtBytes = 0;
  private closed = false;
  /** The off-loop fdatasync of background commits: none running, one running, or one more wanted after it. */
  private backgroundSync: 'idle' | 'running' | 'again' = 'idle';
  /** Commits counted as written, and how many of them are known durable, for the waiters below. */
  private written = 0;
  private durableUpTo = 0;
  /** Counts the swaps of the file by compactions (an fd number alone is reused by the next open). */
  private generation = 0;
  /** Background commits whose caller waits to hear they are durable, oldest first, by the count of their write. */
  private readonly waiters: Array<{ readonly at: number; readonly done: (err: Error | null) => void }> = [];

  private constructor(readonly file: string, options: JournalOptions) {
    this.compactRatio = options.compactRatio ?? 3;
    this.sync = options.unsafeNoSync !== true;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.readExisting();
    this.fd = fs.openSync(file, 'a');
  }

  /** Opens (creating when absent) the journal at `file` and reads what it holds. */
  static open(file: string, options: JournalOptions = {}): Journal {
    return new Journal(file, options);
  }

  get size(): number {
    return this.live.size;
  }

  get stats(): JournalStats {
    return { loaded: this.loaded, damaged: this.damaged, commits: this.commits, syncs: this.syncs, compactions: this.compactions };
  }

  /** A compaction in slices is under way (its temporary file is being written). */
  get compactingInSlices(): boolean {
    return this.compacting !== null;
  }

  /**
   * From now on, the compactions commits start run in slices of about `sliceMs`, each on its own
   * event-loop turn: rewriting 100,000 live records at once holds the loop for half a second. The
   * file being replaced stays complete until the rename (every commit still goes to it first), so a
   * crash mid-compaction loses nothing; `compact()` itself stays one call.
   */
  compactInSlices(defer: Defer, sliceMs = 4): void {
    this.sliced = { defer, sliceMs };
  }

  has(key: string): boolean {
    return this.live.has(key);
  }

  /** A fresh copy of the committed value, or undefined. */
  get(key: string): unknown {
    const s = this.live.get(key);
    return s === undefined ? undefined : JSON.parse(s);
  }

  keys(): IterableIterator<string> {
    return this.live.keys();
  }

  *entries(): IterableIterator<[string, unknown]> {
    for (const [k, s] of this.live) yield [k, JSON.parse(s)];
  }

  set(key: string, value: unknown): void {
    this.commit([[key, value]]);
  }

  delete(key: string): void {
    if (this.live.has(key)) this.commit([[key, undefined]]);
  }

  /**
   * Writes every change (an `undefined` value deletes its key) in one append and one sync.
   * Throws when a value cannot be serialized or the disk refuses; nothing of the batch is applied then.
   * `onDurable` (a background commit whose effect waits on it) hears once an fdatasync begun after this
   * write has returned, or a sync commit has: waiters hear in the order of their writes, an error when
   * that sync failed.
   */
  commit(changes: Iterable<JournalChange>, durability: Durability = 'sync', onDurable?: (err: Error | null) => void): void {
    const lines: string[] = [];
    const applied: Array<[string, string | undefined]> = [];
    for (const [key, value] of changes) {
      if (typeof key !== 'string') throw new TypeError('journal keys are strings');
      if (value === undefined) {
        lines.push(JSON.stringify({ k: key, d: 1 }));
        applied.push([key, undefined]);
      } else {
        const s = value instanceof JsonText ? value.text : JSON.stringify(value);
        if (s === undefined) throw new TypeError(`journal value for ${JSON.stringify(key)} is not JSON data`);
        lines.push(`{"k":${JSON.stringify(key)},"v":${s}}`);
        applied.push([key, s]);
      }
    }
    if (lines.length === 0) { if (onDurable) this.afterLastWrite(onDurable); return; }
    const text = `${lines.join('\n')}\n`;
    const bytes = Buffer.byteLength(text);
    fs.writeSync(this.fd, text);
    this.written++;
    if (onDurable) this.waiters.push({ at: this.written, done: onDurable });
    if (this.sync) {
      if (durability === 'sync') { fs.fdatasyncSync(this.fd); this.syncs++; } else this.syncInBackground();
    }
    this.fileBytes += bytes;
    this.commits++;
    if (this.compacting) { this.compacting.tail.push(text); this.compacting.tailSizes.push(bytes); this.compacting.tailBytes += bytes; }
    for (const [key, s] of applied) {
      const old = this.live.get(key);
      if (old !== undefined) this.liveBytes -= old.length + key.length + 12;
      if (s === undefined) this.live.delete(key);
      else {
        this.live.set(key, s);
        this.liveBytes += s.length + key.length + 12;
      }
    }
    if (this.fileBytes > MIN_COMPACT_BYTES && this.fileBytes > this.compactRatio * this.liveBytes && this.compacting === null) {
      if (this.sliced === null) this.compact();
      else if (this.fileBytes >= this.retryAtBytes) this.startSlicedCompaction(this.sliced.defer, this.sliced.sliceMs);
    }
    // Last, with the journal consistent: a waiter may commit again. A sync covers every write before it,
    // so the waiters of earlier background commits hear first, and their sends go before this one's.
    if (!this.sync || durability === 'sync') this.settle(this.written, null);
  }

  /** Background commits with their waiters not yet told, or an fdatasync still running for them. */
  get syncing(): boolean {
    return this.waiters.length > 0;
  }

  /** `done` once everything written so far is durable (at once when nothing waits). */
  private afterLastWrite(done: (err: Error | null) => void): void {
    if (this.durableUpTo >= this.written) { done(null); return; }
    if (this.closed) { done(new Error(`journal ${this.file} closed before its last commits were synced`)); return; }
    this.waiters.push({ at: this.written, done });
  }

  /** Tells the waiters of every write up to the `upTo`th that it is durable (or that its sync failed). */
  private settle(upTo: number, err: Error | null): void {
    if (err === null && upTo > this.durableUpTo) this.durableUpTo = upTo;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n].at <= upTo) n++;
    if (n === 0) return;
    for (const w of this.waiters.splice(0, n)) w.done(err);
  }

  /** Rewrites the file with only the live entries: write a temporary file, sync it, rename it over. */
  compact(): void {
    this.abandonSlicedCompaction();
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      let chunk: string[] = [];
      let bytes = 0;
      const out = (): void => {
        if (chunk.length === 0) return;
        const text = `${chunk.join('\n')}\n`;
        fs.writeSync(fd, text);
        bytes += Buffer.byteLength(text);
        chunk = [];
      };
      for (const [k, s] of this.live) {
        chunk.push(`{"k":${JSON.stringify(k)},"v":${s}}`);
        if (chunk.length >= 1000) out();
      }
      out();
      if (this.sync) { fs.fdatasyncSync(fd); this.syncs++; }
      fs.closeSync(fd);
      fs.renameSync(tmp, this.file);
      this.syncDir();
      fs.closeSync(this.fd);
      this.fd = fs.openSync(this.file, 'a');
      this.generation++;
      this.fileBytes = bytes;
      this.compactions++;
    } catch (err) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
      throw err;
    }
  }

  /** Syncs on the spot when background commits are waiting, and tells their waiters (an error when the sync failed). */
  syncWaiting(): void {
    if (!this.waiters.length) return;
    let err: Error | null = null;
    try { if (this.sync) { fs.fdatasyncSync(this.fd); this.syncs++; } } catch (e) { err = e instanceof Error ? e : new Error(String(e)); }
    this.settle(this.written, err);
  }

  close(): void {
    this.closed = true;
    this.abandonSlicedCompaction();
    this.syncWaiting();
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
  }

  private syncInBackground(): void {
    if (this.backgroundSync !== 'idle') { this.backgroundSync = 'again'; return; }
    this.backgroundSync = 'running';
    this.syncs++;
    const generation = this.generation;
    const upTo = this.written;
    fs.fdatasync(this.fd, (err) => {
      const again = this.backgroundSync === 'again';
      this.backgroundSync = 'idle';
      // A compaction that swapped the file meanwhile synced the new one, which holds every commit
      // written before the swap, before renaming it: the old fd's sync may then fail harmlessly.
      this.settle(upTo, err && generation === this.generation ? err : null);
      if (again && !this.closed) this.syncInBackground();
    });
  }

  private startSlicedCompaction(defer: Defer, sliceMs: number): void {
    const tmp = `${this.file}.tmp`;
    let fd: number;
    try { fd = fs.openSync(tmp, 'w'); } catch { this.retryAtBytes = this.fileBytes + MIN_COMPACT_BYTES; return; }
    const job: SlicedCompaction = { tmp, fd, keys: Array.from(this.live.keys()), at: 0, bytes: 0, tail: [], tailSizes: [], tailBytes: 0, unsynced: false, syncsLeft: CATCH_UP_SYNCS, writesLeft: CATCH_UP_WRITES, busy: false, abandoned: false };
    this.compacting = job;
    const write = (text: string): void => { fs.writeSync(job.fd, text); job.bytes += Buffer.byteLength(text); job.unsynced = true; };
    /** The oldest commits of the tail, up to about `max` bytes (at least one), taken off it. */
    const takeTail = (max = Infinity): string => {
      let n = 0;
      let bytes = 0;
      while (n < job.tail.length && (n === 0 || bytes + job.tailSizes[n] <= max)) bytes += job.tailSizes[n++];
      const text = n === job.tail.length ? job.tail.join('') : job.tail.slice(0, n).join('');
      job.tail = n === job.tail.length ? [] : job.tail.slice(n);
      job.tailSizes = n === job.tailSizes.length ? [] : job.tailSizes.slice(n);
      job.tailBytes -= bytes;
      return text;
    };
    /** Runs a write or sync of the temporary file in the thread pool, then `next` (unless the job was given up meanwhile). */
    const offLoop = (op: (done: (err: Error | null) => void) => void, next: () => void): void => {
      job.busy = true;
      op((err) => {
        job.busy = false;
        if (job.abandoned) { fs.close(job.fd, ignore); return; }
        if (err) this.failCompaction(job); else next();
      });
    };
    /** Writes `data` after what is in the temporary file, off the loop, then goes on with `next`. */
    const append = (data: Buffer, next: () => void): void => {
      offLoop((done) => fs.write(job.fd, data, 0, data.length, null, (err, n) => done(err ?? (n === data.length ? null : new Error('short write')))), () => {
        job.bytes += data.length;
        job.unsynced = true;
        next();
      });
    };
    // Each slice is serialized on the loop and written off it: a slice's write of 100–300 KB took
    // 10–30 ms when the disk was busy.
    const step = (): void => {
      if (this.compacting !== job || this.closed) return;
      try {
        const until = performance.now() + sliceMs;
        const chunk: string[] = [];
        let bytes = 0;
        while (job.at < job.keys.length) {
          const k = job.keys[job.at++];
          const s = this.live.get(k);
          // A key deleted since the start is left out; its delete line is in the tail anyway.
          if (s !== undefined) { chunk.push(`{"k":${JSON.stringify(k)},"v":${s}}`); bytes += s.length + k.length + 12; }
          if (bytes >= WRITE_CHUNK_BYTES || (chunk.length >= 256 && performance.now() >= until)) break;
        }
        const next = (): void => { if (job.at < job.keys.length) defer(step); else catchUp(); };
        if (chunk.length) append(Buffer.from(`${chunk.join('\n')}\n`), next); else next();
      } catch {
        this.failCompaction(job);
      }
    };
    // The commits made meanwhile are copied and the copy synced off the loop until few are left: a
    // compaction's tail written and synced in one turn held the loop 20–40 ms under load.
    const catchUp = (): void => {
      if (this.compacting !== job || this.closed) return;
      try {
        if (job.tailBytes > TAIL_ON_LOOP_BYTES && job.writesLeft > 0) {
          job.writesLeft--;
          append(Buffer.from(takeTail(WRITE_CHUNK_BYTES)), catchUp);
          return;
        }
        if (this.sync && job.unsynced && job.syncsLeft > 0) {
          job.syncsLeft--;
          if (job.tail.length) write(takeTail());
          job.unsynced = false;
          this.syncs++;
          offLoop((done) => fs.fdatasync(job.fd, done), () => defer(catchUp));
          return;
        }
        finish();
      } catch {
        this.failCompaction(job);
      }
    };
    const finish = (): void => {
      if (job.tail.length) write(takeTail());
      if (this.sync && job.unsynced) { fs.fdatasyncSync(job.fd); this.syncs++; }
      // Opened before the rename: once the new file is in place nothing left can fail, so commits never
      // go on into the replaced (unlinked) file, where a restart would not find them.
      const next = fs.openSync(job.tmp, 'a');
      try { fs.renameSync(job.tmp, this.file); } catch (err) { fs.closeSync(next); throw err; }
      this.syncDir();
      const old = this.fd;
      this.fd = next;
      this.generation++;
      // Closed off the loop: the last close of the replaced file frees its blocks (10–15 ms measured).
      fs.close(old, ignore);
      fs.close(job.fd, ignore);
      this.fileBytes = job.bytes;
      this.compactions++;
      this.compacting = null;
    };
    defer(step);
  }

  /** The file being replaced is complete: give up this compaction and try again once it has grown. */
  private failCompaction(job: SlicedCompaction): void {
    if (this.compacting !== job) return;
    this.abandonSlicedCompaction();
    this.retryAtBytes = this.fileBytes + MIN_COMPACT_BYTES;
  }

  private abandonSlicedCompaction(): void {
    const job = this.compacting;
    if (job === null) return;
    this.compacting = null;
    job.abandoned = true;
    // A write or sync still running on its fd closes it when it returns.
    if (!job.busy) { try { fs.closeSync(job.fd); } catch { /* already closed */ } }
    try { fs.unlinkSync(job.tmp); } catch { /* not there */ }
  }

  private syncDir(): void {
    if (!this.sync) return;
    let dfd: number | null = null;
    try {
      dfd = fs.openSync(path.dirname(this.file), 'r');
      fs.fsyncSync(dfd);
    } catch {
      // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
    } finally {
      if (dfd !== null) fs.closeSync(dfd);
    }
  }

  private readExisting(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let good = 0;
    let start = 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) {
        // No newline: the last write was cut short by a crash. Drop it and truncate it away.
        this.damaged++;
        break;
      }
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.length === 0) continue;
      if (this.apply(line)) this.loaded++;
      else this.damaged++;
      good = start;
    }
    if (good < text.length) fs.truncateSync(this.file, Buffer.byteLength(text.slice(0, good)));
    this.fileBytes = Buffer.byteLength(text.slice(0, good));
  }

  private apply(line: string): boolean {
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return false;
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return false;
    const r = rec as { k?: unknown; v?: unknown; d?: unknown };
    if (typeof r.k !== 'string') return false;
    const old = this.live.get(r.k);
    if (old !== undefined) this.liveBytes -= old.length + r.k.length + 12;
    if (r.d === 1) {
      this.live.delete(r.k);
      return true;
    }
    if (!Object.prototype.hasOwnProperty.call(r, 'v')) return false;
    const s = JSON.stringify(r.v);
    this.live.set(r.k, s);
    this.liveBytes += s.length + r.k.length + 12;
    return true;
  }
}
