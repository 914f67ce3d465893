/**
 * fleet-alerts' durable state: the dispatcher's records and an outbox of notifications, in one
 * Journal (an append + fdatasync per commit). The order that makes delivery at-least-once:
 *   1. a flush's state changes and its notifications (as outbox records) are committed together;
 *   2. then the notifications are sent;
 *   3. an outbox record is deleted when the receiver confirms it (a `complete` node wired back) or
 *      a grace period after the send.
 * A crash before 1 sends nothing and changes nothing; between 1 and 3, the outbox is sent again on
 * restart with the same idempotency key. Nothing committed is lost; a duplicate has the same key.
 * A clean stop (a redeploy) counts what was handed to the flow as sent, unless the flow confirms
 * deliveries (seen once, remembered): then only what was confirmed is.
 */
import type { AlertDispatcher, Notification } from './dispatcher';
import { Journal } from '../store/journal';

const OUTBOX = 'o:';
/** Set once a delivery confirmation has been seen: the flow wires them back. */
const CONFIRMS = 'x:confirms';

/** How long a sent notification stays in the outbox without a confirmation. */
export const REDELIVER_GRACE_MS = 30_000;

export interface OutboxEntry {
  readonly notification: Notification;
  sentAt: number;
}

export interface Opened {
  /** Records that could not be read (a torn or damaged write). */
  readonly damaged: number;
  /** Notifications committed but not known to be delivered: send them again. */
  readonly redeliver: Notification[];
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

function storedNotification(x: unknown): Notification | null {
  if (!isObj(x) || !isObj(x.notification)) return null;
  const n = x.notification;
  if (typeof n.id !== 'string' || typeof n.receiver !== 'string' || typeof n.groupKey !== 'string' || !Array.isArray(n.alerts) || !isObj(n.groupLabels)) return null;
  if ((n.status !== 'firing' && n.status !== 'resolved') || typeof n.at !== 'number') return null;
  return n as unknown as Notification;
}

export class AlertStore {
  private readonly outbox = new Map<string, OutboxEntry>();
  /** Changes a failed commit could not write: tried again, under newer values, at the next one. */
  private retry = new Map<string, unknown>();
  private confirms = false;

  private constructor(private readonly journal: Journal) {}

  static open(file: string): AlertStore {
    return new AlertStore(Journal.open(file));
  }

  /** Over a journal someone else opened (the node kit's durable store); `stop` and `close` close it. */
  static over(journal: Journal): AlertStore {
    return new AlertStore(journal);
  }

  get file(): string {
    return this.journal.file;
  }

  get isEmpty(): boolean {
    return this.journal.size === 0;
  }

  get pendingDeliveries(): number {
    return this.outbox.size;
  }

  /** Loads the dispatcher from the journal; returns what must be sent again. */
  load(dispatcher: AlertDispatcher, now: number): Opened {
    const records: Array<[string, unknown]> = [];
    const redeliver: Notification[] = [];
    let damaged = 0;
    this.confirms = this.journal.get(CONFIRMS) === true;
    for (const [k, v] of this.journal.entries()) {
      if (k === CONFIRMS) continue;
      if (!k.startsWith(OUTBOX)) { records.push([k, v]); continue; }
      const n = storedNotification(v);
      if (n && n.id === k.slice(OUTBOX.length)) { redeliver.push(n); this.outbox.set(n.id, { notification: n, sentAt: now }); } else { damaged++; this.retry.set(k, undefined); }
    }
    damaged += dispatcher.load(records, now);
    redeliver.sort((a, b) => a.at - b.at);
    return { damaged, redeliver };
  }

  /**
   * Makes the dispatcher's changes durable, with `toSend` as outbox records, in one commit. Throws
   * when the disk refuses; the changes are kept and written with the next commit.
   */
  commit(dispatcher: AlertDispatcher, now: number, toSend: readonly Notification[] = []): void {
    const changes = this.retry;
    this.retry = new Map();
    for (const [k, v] of dispatcher.takeChanges()) changes.set(k, v);
    for (const [id, e] of this.outbox) if (now - e.sentAt >= REDELIVER_GRACE_MS) { this.outbox.delete(id); changes.set(OUTBOX + id, undefined); }
    for (const n of toSend) { changes.set(OUTBOX + n.id, { notification: n }); this.outbox.set(n.id, { notification: n, sentAt: now }); }
    if (changes.size === 0) return;
    try {
      this.journal.commit(changes);
    } catch (err) {
      for (const n of toSend) this.outbox.delete(n.id);
      for (const [k, v] of changes) if (!this.retry.has(k)) this.retry.set(k, v);
      throw err;
    }
  }

  /** A receiver confirmed the notification: it leaves the outbox at the next commit. */
  delivered(id: string): boolean {
    if (!this.confirms) { this.confirms = true; this.retry.set(CONFIRMS, true); }
    if (!this.outbox.delete(id)) return false;
    this.retry.set(OUTBOX + id, undefined);
    return true;
  }

  /** Whether the flow confirms deliveries (a `complete` node wired back). */
  get confirmsDeliveries(): boolean {
    return this.confirms;
  }

  /**
   * A clean stop: without confirmations, what was handed to the flow counts as sent (a redeploy must
   * not send it again); with them, what is unconfirmed stays for the next start. Then closes.
   */
  stop(dispatcher: AlertDispatcher, now: number): void {
    try {
      if (!this.confirms) for (const id of this.outbox.keys()) this.retry.set(OUTBOX + id, undefined);
      if (!this.confirms) this.outbox.clear();
      this.commit(dispatcher, now);
    } finally {
      this.close();
    }
  }

  /** The outbox entry for a notification id, if it is still awaiting delivery. */
  has(id: string): boolean {
    return this.outbox.has(id);
  }

  /** A fresh start from a migrated state: everything the dispatcher holds, written at once. */
  writeAll(dispatcher: AlertDispatcher): void {
    dispatcher.takeChanges();
    this.journal.commit(dispatcher.records());
  }

  close(): void {
    this.journal.close();
  }
}
