/**
 * fleet-alerts' controller, without Node-RED: the dispatcher and its journal (AlertStore), commands and
 * alerts read from messages, the group commit that makes an input durable before it is acknowledged, the
 * tick that commits a flush before sending it, and the notification messages, one output per receiver.
 */
import type { Journal } from '../store/journal';
import { alertLabels, readDevice } from '../device-labels';
import { deviceAlert, type FleetAlert } from '../alert-shape';
import { applyCommand, readCommand, type CommandMessage } from './commands';
import type { AlertsConfig } from './config';
import { AlertDispatcher, type DispatcherState, type Notification } from './dispatcher';
import { readAlert } from './input';
import { checkAlertLimits, checkDeviceTimestamp } from './limits';
import { render } from './message';
import { AlertStore } from './persistence';

/** One notification on its receiver's output. A type, not an interface: it must fit Node-RED's NodeMessage. */
export type NotificationMessage = {
  readonly topic: string; readonly payload: string; readonly notification: Notification; readonly webhook: { readonly text: string; readonly idempotencyKey: string };
  readonly headers: Record<string, string>; readonly idempotencyKey: string; readonly receiver: string; readonly redelivery?: true;
};
/** One entry per receiver output, the notification on its own. */
export type AlertOutputs = Array<NotificationMessage | null>;

export interface AlertInputMessage extends CommandMessage { readonly kind?: unknown; readonly device?: unknown }

const isObject = (x: unknown): x is Readonly<Record<string, unknown>> => x !== null && typeof x === 'object';

/** What earlier versions kept in the node's context: migrated into an empty journal once. */
const isLegacyState = (s: unknown): s is DispatcherState => isObject(s) && s.v === 1 && Array.isArray(s.groups);

export class AlertsController {
  readonly dispatcher: AlertDispatcher;
  /** Why the journal could not be opened: every message is refused with it. */
  broken: Error | null = null;
  private store: AlertStore | null = null;
  private readonly outputOf: Map<string, number>;
  private silenceSeq = 0;
  /** Inputs handled but not yet durable: each waits for the commit. */
  private waiting: Array<{ resolve(): void; reject(err: Error): void }> = [];
  /** Notifications whose commit failed: sent once a commit succeeds. */
  private unsent: Notification[] = [];
  /** Read back from the outbox at start: sent again at the first tick. */
  private redeliver: Notification[] = [];

  constructor(private readonly config: AlertsConfig, private readonly onStoreError: (message: string) => void) {
    this.dispatcher = new AlertDispatcher(config.tree, config.inhibitRules, config.timeIntervals, config.escalations);
    this.outputOf = new Map(config.receivers.map((r, i) => [r, i]));
  }

  /** Loads the journal; then, once, a snapshot from the node's context into an empty journal. Returns the damaged records. */
  attach(journal: Journal, legacy: unknown, now: number): { damaged: number; migrated: boolean } {
    const store = this.store = AlertStore.over(journal);
    const opened = store.load(this.dispatcher, now);
    this.redeliver = opened.redeliver;
    if (!isLegacyState(legacy)) return { damaged: opened.damaged, migrated: false };
    if (store.isEmpty) {
      try {
        this.dispatcher.restore(legacy, now);
        store.writeAll(this.dispatcher);
      } catch (err) {
        this.onStoreError((err as Error).message);
      }
    }
    return { damaged: opened.damaged, migrated: true };
  }

  /** `muted`: the receivers of routes in quiet hours now, comma-separated ('' when none). */
  status(now: number): { active: number; silences: number; muted: string } {
    const muted = [...new Set(this.dispatcher.mutedRoutes(now).map((r) => r.receiver))].join(', ');
    return { active: this.dispatcher.activeCount, silences: this.dispatcher.activeSilences(now).length, muted };
  }

  /** One message (a command or an alert); returns the refusal, if any. */
  handle(msg: AlertInputMessage, now: number): Error | undefined {
    if (this.broken) return new Error(`fleet-alerts: state store: ${this.broken.message}`);
    try {
      const c = readCommand(msg, now, () => `silence-${now}-${++this.silenceSeq}`);
      if (c) return c.ok ? applyCommand(c.command, this.dispatcher, (id) => this.store?.delivered(id)) : new Error(c.reason);
      const alert = this.readAlert(msg, now);
      if (alert instanceof Error) return alert;
      const over = checkAlertLimits(alert);
      if (over) return new Error(`fleet-alerts: ${over.field}: ${over.reason}`);
      this.dispatcher.receive(alert, now);
      return undefined;
    } catch (e) {
      // Whatever slipped past the checks: the message is refused, the node goes on.
      return new Error(`fleet-alerts: ${(e as Error).message}`);
    }
  }

  /** Resolves when what `handle` changed is durable; the first input waiting calls `schedule` (to run `commitInputs`). */
  durable(schedule: () => void): Promise<void> {
    if (this.waiting.length === 0) schedule();
    return new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The group commit of the inputs handled since the last one. */
  commitInputs(now: number): void {
    this.settle(this.commit(now), 'fleet-alerts: could not save the alert state; the alert is held in memory only');
  }

  /**
   * Once a second: the flush's state and its notifications are committed, then returned to be sent
   * (with, at the first tick, what the outbox held from before a crash, marked as a redelivery).
   */
  tick(now: number): AlertOutputs[] {
    if (!this.store) return [];
    const due = [...this.unsent, ...this.dispatcher.flush(now)];
    const ok = this.commit(now, due);
    this.settle(ok, 'fleet-alerts: could not save the alert state');
    if (!ok) { this.unsent = due; return []; }
    this.unsent = [];
    const out = [...this.redeliver.map((n) => this.outputs(n, true)), ...due.map((n) => this.outputs(n, false))];
    this.redeliver = [];
    return out;
  }

  /** A clean stop: commits and closes the store; inputs still waiting learn whether it worked. */
  stop(now: number): void {
    let failed: Error | undefined;
    try { this.store?.stop(this.dispatcher, now); } catch (err) { failed = err as Error; this.onStoreError(failed.message); }
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) if (failed) w.reject(failed); else w.resolve();
  }

  private readAlert(msg: AlertInputMessage, now: number): FleetAlert | Error {
    const p = msg.payload;
    const device = readDevice(msg.device);
    // A device's own alert as fleet-decode delivers it.
    if (msg.kind === 'alert' && device && device.id !== null && isObject(p)) {
      const bad = checkDeviceTimestamp(p);
      if (bad) return new Error(`fleet-alerts: ${bad.field}: ${bad.reason}`);
      const labels = alertLabels(device);
      if (!labels.ok) return new Error(`fleet-alerts: ${labels.field}: ${labels.reason}`);
      return deviceAlert(device.id, p, labels.labels, now);
    }
    const r = readAlert(p, now);
    return r.ok ? r.value : new Error(`fleet-alerts: ${r.field}: ${r.reason}`);
  }

  /** Writes what changed (and `toSend` into the outbox); true when it is durable. */
  private commit(now: number, toSend: readonly Notification[] = []): boolean {
    if (!this.store) return false;
    try {
      this.store.commit(this.dispatcher, now, toSend);
      return true;
    } catch (err) {
      this.onStoreError((err as Error).message);
      return false;
    }
  }

  private settle(ok: boolean, reason: string): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) if (ok) w.resolve(); else w.reject(new Error(reason));
  }

  private outputs(n: Notification, redelivery: boolean): AlertOutputs {
    const out: AlertOutputs = this.config.receivers.map(() => null);
    const r = render(n);
    out[this.outputOf.get(n.receiver) ?? 0] = {
      topic: r.subject, payload: r.text, notification: n, webhook: r.webhook, headers: { ...r.headers }, idempotencyKey: n.id, receiver: n.receiver,
      ...(redelivery ? { redelivery: true as const } : {}),
    };
    return out;
  }
}
