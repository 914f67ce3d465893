/**
 * The inputs fleet-health has taken but not yet scored, in arrival order. A reading pushed with a
 * coalescing key marks the one still waiting under the same key as dropped: it stays in its place
 * (to be completed with the others) but is not scored, and the newer one is scored at its own,
 * later place, so a presence or status between the two keeps its order relative to both.
 */
export interface Queued {
  /** Date.now() when it arrived: the time it is scored at. */
  readonly at: number;
  /** Set by the queue when a newer reading with the same key arrived before this one was scored. */
  dropped: boolean;
  /** The key it was queued under, or null. */
  key: string | null;
}

export class InputQueue<T extends Queued> {
  private items: T[] = [];
  private head = 0;
  private readonly latest = new Map<string, T>();

  get size(): number {
    return this.items.length - this.head;
  }

  /** Arrival time of the oldest input not yet taken: everything that arrived before it has been scored. */
  get oldestAt(): number | null {
    return this.head < this.items.length ? this.items[this.head].at : null;
  }

  /** Adds `item`; with a key, returns the waiting item it supersedes (now marked dropped), else null. */
  push(item: T, key: string | null): T | null {
    item.key = key;
    this.items.push(item);
    if (key === null) return null;
    const older = this.latest.get(key);
    this.latest.set(key, item);
    if (!older) return null;
    older.dropped = true;
    older.key = null;
    return older;
  }

  /** The oldest waiting input, or undefined. */
  take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    (this.items as Array<T | undefined>)[this.head] = undefined;
    this.head++;
    if (item.key !== null && this.latest.get(item.key) === item) this.latest.delete(item.key);
    if (this.head === this.items.length) { this.items = []; this.head = 0; } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
