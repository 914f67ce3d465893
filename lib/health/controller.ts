/**
 * fleet-health's controller, without Node-RED: reads a decoded message (or a reject), scores it, keeps the
 * journal ahead of what is sent, sweeps for silent devices in slices, restores from the journal and the
 * registry, and builds the three outputs. The node adapter only moves messages and shows the status.
 */
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';
import { healthLabels, readDevice } from '../device-labels';
import type { FleetRegistry } from '../registry/registry';
import type { Journal } from '../store/journal';
import type { FleetAlert } from '../alert-shape';
import { parseHealthConfig, type HealthConfig } from './config';
import { DurableHealth } from './durable';
import { HealthTracker, isHealthSnapshot, type HealthState, type HealthUpdate } from './tracker';

export interface HealthNodeConfig {
  readonly scoring: HealthConfig;
  readonly sweepMs: number;
  /** 0: no periodic summary. */
  readonly summaryMs: number;
}

export type HealthConfigResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly reason: string };

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

/** The saved node: scoring (JSON text or object; empty for the defaults), sweepS (default 5, at least 1), summaryS (0 = off). */
export function parseHealthNodeConfig(def: Readonly<Record<string, unknown>>): HealthConfigResult<HealthNodeConfig> {
  const scoring = parseHealthConfig(def.scoring || undefined);
  if (!scoring.ok) return scoring;
  const summaryS = num(def.summaryS);
  return { ok: true, value: { scoring: scoring.value, sweepMs: Math.max(1, num(def.sweepS) || 5) * 1000, summaryMs: summaryS > 0 ? summaryS * 1000 : 0 } };
}

// A type, not an interface: it must fit Node-RED's NodeMessage (an index signature).
export type HealthMessage = { readonly topic: string; readonly payload: unknown };
/** Output 1 state changes, output 2 alerts, output 3 the fleet summary. */
export type HealthOutputs = [HealthMessage[] | null, HealthMessage[] | null, HealthMessage | null];

export const alertMessage = (a: FleetAlert): HealthMessage => ({ topic: `alert/${a.labels.alertname}/${a.device ?? 'fleet'}`, payload: a });

/** What the adapter reads of an incoming message. */
export interface HealthInputMessage {
  readonly topic?: unknown; readonly command?: unknown; readonly kind?: unknown; readonly device?: unknown;
  readonly error?: unknown; readonly thresholds?: unknown; readonly payload?: unknown; readonly retain?: unknown;
}

export type JournalEvent = { readonly failing: true; readonly file: string; readonly message: string } | { readonly failing: false };

/** A fleet-wide outage (the broker gone) makes every device silent at once: the sweep goes in slices this big. */
export const SWEEP_SLICE = 2000;
/** The two nodes read the clock for the same message a few ms apart: only a larger gap is repaired. */
const LAST_SEEN_SLACK_MS = 100;

const isObject = (x: unknown): x is Readonly<Record<string, unknown>> => x !== null && typeof x === 'object';

export class HealthController {
  readonly tracker: HealthTracker;
  /** Readings of new ids refused by the cap (without a registry; the registry counts its own). */
  refused = 0;
  private durable: DurableHealth | null = null;
  private journalFailing = false;
  private lastThresholds: unknown = null;
  private lastThresholdConfig: HealthConfig;
  private sweeping = false;
  /** Devices fleet-command stopped (`commanded` messages): their going offline is reported as commanded. */
  private readonly commanded = new Map<string, string>();
  /** Fingerprints of alerts held back because the device was stopped by command (their resolve is held too). */
  private readonly held = new Set<string>();

  constructor(
    private readonly config: HealthConfig,
    private readonly fleet: FleetRegistry | null,
    private readonly maxDevices: number,
    private readonly onJournal: (e: JournalEvent) => void = () => undefined,
  ) {
    this.tracker = new HealthTracker(config);
    this.lastThresholdConfig = config;
  }

  /** Restores from the journal (what decides what is sent comes from there); returns how many devices. */
  attach(journal: Journal): number {
    this.durable = new DurableHealth(journal, this.tracker, this.config);
    return this.durable.restore().restored;
  }

  /**
   * After the registry has loaded: devices the journal does not know take the registry's saved health
   * (state kept by an older version); the registry's last-seen is brought up to the journal's.
   */
  reconcile(): void {
    const fleet = this.fleet;
    if (!fleet) return;
    for (const rec of fleet.records()) {
      const known = this.tracker.get(rec.id);
      if (known) {
        if (known.obs.lastSeen - rec.lastSeen > LAST_SEEN_SLACK_MS) fleet.noteLastSeen(rec.id, known.obs.lastSeen);
        fleet.setHealth(rec.id, known);
      } else if (isHealthSnapshot(rec.health)) {
        this.tracker.restore(rec.id, rec.health, rec.lastSeen, rec.arch, rec.labels);
        this.durable?.touch(rec.id);
      }
    }
  }

  /** Commits `ids` (and what waits) before a send; a refusing disk is reported once and the send goes ahead. */
  commit(ids: Iterable<string>): void {
    if (!this.durable) return;
    if (this.durable.commit(ids)) {
      if (this.journalFailing) { this.journalFailing = false; this.onJournal({ failing: false }); }
      return;
    }
    if (!this.journalFailing) {
      this.journalFailing = true;
      this.onJournal({ failing: true, file: this.durable.file, message: this.durable.stats.lastError ?? '' });
    }
  }

  /** The group commit of last-seen and counters (the adapter's timer). */
  commitWaiting(): void {
    if (this.durable && this.durable.waiting > 0) this.commit([]);
  }

  summary(now: number): HealthMessage {
    return { topic: 'health/summary', payload: this.tracker.summary(now) };
  }

  /**
   * One message: the outputs to send, or null for nothing. Throws, with the reason, for a message it
   * cannot score or bad msg.thresholds.
   */
  input(msg: HealthInputMessage, now: number): HealthOutputs | null {
    if (msg.command === 'summary' || msg.topic === 'health/summary') return [null, null, this.summary(now)];
    if (msg.topic === 'commanded') { this.noteCommanded(msg.payload); return null; }
    let scoring = this.config;
    if (msg.thresholds !== undefined) {
      if (msg.thresholds !== this.lastThresholds) {
        const t = parseHealthConfig(msg.thresholds, this.config);
        if (!t.ok) throw new Error(`fleet-health: msg.thresholds ${t.field}: ${t.reason}`);
        this.lastThresholds = msg.thresholds;
        this.lastThresholdConfig = t.value;
      }
      scoring = this.lastThresholdConfig;
    }
    const rejected = isObject(msg.error) && typeof msg.error.device === 'string' && msg.kind === undefined ? msg.error.device : null;
    const device = readDevice(msg.device);
    const wanted = rejected ?? device?.id ?? null;
    const fleet = this.fleet;
    // A device the registry refused (full) is not scored either: the cap bounds every table.
    if (wanted !== null && !this.tracker.get(wanted) && ((fleet && fleet.full && !fleet.get(wanted)) || (!fleet && this.tracker.size >= this.maxDevices))) {
      if (!fleet) this.refused++;
      return null;
    }
    let update: HealthUpdate;
    let id: string;
    if (rejected !== null) {
      id = rejected;
      update = this.tracker.observeReject(id, now, scoring);
    } else {
      if (typeof msg.kind !== 'string' || !device || device.id === null || !isObject(msg.payload)) {
        throw new Error('fleet-health: expected a message from fleet-decode (msg.kind, msg.device.id, msg.payload object) or a reject with msg.error.device');
      }
      id = device.id;
      // fleet-decode checked the kinds against the contract; the tracker ignores one it has no rule for.
      update = this.tracker.observe({
        id, kind: msg.kind as MessageKind, deviceKind: device.kind as DeviceKind | null, arch: device.arch, labels: healthLabels(device),
        payload: msg.payload, at: now, online: device.online, retained: msg.retain === true,
      }, scoring);
    }
    const snap = this.tracker.snapshot(id);
    if (snap) fleet?.setHealth(id, snap);
    if (update.change || update.alerts.length) this.commit([id]);
    else if (snap) this.durable?.touch(id);
    const out = this.outputs([update]);
    return out[0] || out[1] ? out : null;
  }

  /**
   * Sweeps for silent devices: each slice committed in one journal commit, then emitted; the next slice
   * is `defer`red so messages keep flowing between them. A sweep still running makes this a no-op.
   */
  sweep(now: number, emit: (out: HealthOutputs) => void, defer: (next: () => void) => void, onError: (err: unknown) => void): void {
    if (this.sweeping) return;
    this.sweeping = true;
    const slice = (): void => {
      try {
        const updates = this.tracker.sweep(now, SWEEP_SLICE);
        const ids: string[] = [];
        for (const u of updates) if (u.change) { ids.push(u.change.device); this.fleet?.markSilent(u.change.device, now); }
        if (updates.length) { this.commit(ids); emit(this.outputs(updates)); }
        if (updates.length === SWEEP_SLICE) defer(slice);
        else this.sweeping = false;
      } catch (err) {
        this.sweeping = false;
        onError(err);
      }
    };
    slice();
  }

  /** The status: red for critical, offline or refused devices, yellow for degraded; a ring while refusing. */
  status(): { fill: 'green' | 'yellow' | 'red'; shape: 'dot' | 'ring'; counts: Readonly<Record<HealthState, number>>; refused: number } {
    const counts = this.tracker.stateCounts();
    const refused = this.refused + (this.fleet?.refused ?? 0);
    const fill = counts.critical > 0 || counts.offline > 0 || refused > 0 ? 'red' : counts.degraded > 0 ? 'yellow' : 'green';
    return { fill, shape: refused > 0 ? 'ring' : 'dot', counts, refused };
  }

  /** On close: what waits goes into the journal (the kit closes it). */
  close(): void {
    this.durable?.commit();
  }

  /** fleet-command's `{action, devices}`: a stop lists the devices, a resume takes them off. */
  private noteCommanded(payload: unknown): void {
    if (!isObject(payload) || typeof payload.action !== 'string' || !Array.isArray(payload.devices)) {
      throw new Error('fleet-health: a commanded message is {action, devices: [ids]} from fleet-command');
    }
    for (const d of payload.devices) {
      if (typeof d !== 'string') continue;
      if (payload.action === 'resume') this.commanded.delete(d);
      else this.commanded.set(d, payload.action);
    }
  }

  private outputs(updates: readonly HealthUpdate[]): HealthOutputs {
    const changes: HealthMessage[] = [];
    const alerts: HealthMessage[] = [];
    for (const u of updates) {
      if (u.change) {
        const action = this.commanded.get(u.change.device);
        // Offline because it was told to be: the change says so, and it is not a failure to alert on.
        const payload = action !== undefined && u.change.state === 'offline' ? { ...u.change, commanded: true, commandedAction: action } : u.change;
        changes.push({ topic: `health/${u.change.device}`, payload });
        this.fleet?.setHealth(u.change.device, this.tracker.snapshot(u.change.device));
      }
      for (const a of u.alerts) {
        if (a.device !== null && this.commanded.has(a.device) && a.status === 'firing') { this.held.add(a.fingerprint); continue; }
        if (this.held.delete(a.fingerprint)) continue;
        alerts.push(alertMessage(a));
      }
    }
    return [changes.length ? changes : null, alerts.length ? alerts : null, null];
  }
}

/** The validate endpoint reads a scoring configuration, not a document: 64 KiB is far above any real one. */
export const MAX_SCORING_BYTES = 64 * 1024;

export interface Answer { readonly status: number; readonly body: Readonly<Record<string, unknown>> }

/**
 * The editor's "check with the runtime": a configuration that fails is an answer (200, ok false), as the
 * dialog expects; a request that is not one is a 400, one too large a 413.
 */
export function validateScoringRequest(contentLength: unknown, body: unknown): Answer {
  const refuse = (status: number, reason: string): Answer => ({ status, body: { ok: false, field: 'scoring', reason } });
  if (num(contentLength ?? 0) > MAX_SCORING_BYTES) return refuse(413, `request body over ${MAX_SCORING_BYTES} bytes`);
  if (!isObject(body) || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, 'scoring')) return refuse(400, 'send a JSON object {"scoring": <configuration>}');
  const scoring = body.scoring;
  if (typeof scoring === 'string' && scoring.length > MAX_SCORING_BYTES) return refuse(413, `over ${MAX_SCORING_BYTES} characters`);
  try {
    const r = parseHealthConfig(scoring);
    return { status: 200, body: r.ok ? { ok: true } : { ok: false, field: r.field, reason: r.reason } };
  } catch (err) {
    return refuse(400, err instanceof Error ? err.message : String(err));
  }
}

/** A body the admin API's JSON parser refused (not JSON, too large), answered in the endpoint's shape. */
export function bodyErrorAnswer(err: unknown): Answer {
  const e = isObject(err) ? err : {};
  const status = e.type === 'entity.too.large' ? 413 : 400;
  return { status, body: { ok: false, field: 'scoring', reason: status === 413 ? 'request body too large' : `request body is not JSON: ${String(e.message ?? err).slice(0, 200)}` } };
}
