/**
 * What fleet-steel waits for after it publishes: one entry per device and operation, answered by
 * the device's status report, full report or result, or timed out. Counts per program give the
 * guide's key metric, the share of executions that succeed (target: more than 95 %). Time is passed
 * in, so tests step it.
 *
 * Which operation gets which answer follows the device code (aws-iot-steel program_delivery.rs):
 * a load answers with one status/report (Completed or Failed when auto_start ran it, Pending when
 * it only stored it, Failed on a checksum mismatch); an execute with a result (the execution
 * callback); a status request with a full-report. Stop and remove are not answered, so they are
 * not tracked.
 */
import type { SteelFullReport, SteelResult, SteelStatusReport } from '../../firmware/contract/steel';

export type TrackedOperation = 'load' | 'execute' | 'status';
export const TRACKED_OPERATIONS: ReadonlySet<string> = new Set<TrackedOperation>(['load', 'execute', 'status']);

/** success/failure count toward the success rate; delivered (loaded, not run) and reported do not. */
export type OutcomeKind = 'success' | 'failure' | 'timeout' | 'delivered' | 'reported';

export interface Outcome {
  readonly device: string;
  readonly programId: string;
  readonly version: string | null;
  /** The operation answered, or null for a message nobody waited for (another flow's push, a restart). */
  readonly operation: TrackedOperation | null;
  readonly outcome: OutcomeKind;
  /** The device's status (Completed, Failed, Pending, …), or 'Result' / 'TimedOut'. */
  readonly status: string;
  readonly message: string | null;
  readonly result: string | null;
  readonly executionTimeMs: number | null;
  /** From our publish to the answer; null when nothing was pending. */
  readonly latencyMs: number | null;
  readonly at: number;
}

export interface ProgramSummary {
  readonly programId: string;
  readonly version: string | null;
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly delivered: number;
  readonly pending: number;
  /** succeeded / (succeeded + failed + timedOut); null before any execution has an outcome. */
  readonly successRate: number | null;
  readonly target: number;
  /** null while there is no rate yet. */
  readonly meetsTarget: boolean | null;
  readonly devices: number;
}

interface Pending {
  readonly device: string;
  readonly programId: string;
  readonly version: string | null;
  readonly operation: TrackedOperation;
  readonly sentAt: number;
  readonly deadline: number;
}

interface Counts {
  version: string | null;
  sent: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  delivered: number;
  readonly devices: Set<string>;
}

export interface TrackerOptions {
  /** How long a device has to answer; default 30 s. */
  readonly timeoutMs?: number;
  /** The success-rate target, 0–1; default 0.95 (the guide's "> 95 % of executions succeed"). */
  readonly target?: number;
  /** Most entries waiting at once; the oldest is timed out early beyond it. Default 10,000. */
  readonly maxPending?: number;
}

export const GUIDE_SUCCESS_TARGET = 0.95;
export const DEFAULT_TIMEOUT_MS = 30_000;

const key = (device: string, programId: string, op: TrackedOperation): string => `${device}\u0000${programId}\u0000${op}`;

export class PushTracker {
  readonly timeoutMs: number;
  readonly target: number;
  private readonly maxPending: number;
  /** Insertion order is send order, so the first entries are the first to expire. */
  private readonly pending = new Map<string, Pending>();
  private readonly counts = new Map<string, Counts>();

  constructor(options: TrackerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.target = options.target ?? GUIDE_SUCCESS_TARGET;
    this.maxPending = options.maxPending ?? 10_000;
  }

  private countsOf(programId: string): Counts {
    let c = this.counts.get(programId);
    if (!c) { c = { version: null, sent: 0, succeeded: 0, failed: 0, timedOut: 0, delivered: 0, devices: new Set() }; this.counts.set(programId, c); }
    return c;
  }

  /**
   * Notes a publish to `devices`. Re-sending to a device that has not answered yet restarts its
   * wait instead of counting twice. Returns the outcomes of entries pushed out by maxPending.
   */
  expect(programId: string, version: string | null, operation: TrackedOperation, devices: readonly string[], now: number): Outcome[] {
    const c = this.countsOf(programId);
    if (version !== null) c.version = version;
    const evicted: Outcome[] = [];
    for (const device of devices) {
      const k = key(device, programId, operation);
      if (!this.pending.delete(k)) c.sent++;
      c.devices.add(device);
      this.pending.set(k, { device, programId, version, operation, sentAt: now, deadline: now + this.timeoutMs });
      if (this.pending.size > this.maxPending) {
        const [oldest] = this.pending.values();
        evicted.push(this.timeOut(oldest, now));
      }
    }
    return evicted;
  }

  private take(device: string, programId: string, op: TrackedOperation): Pending | null {
    const k = key(device, programId, op);
    const p = this.pending.get(k);
    if (!p) return null;
    this.pending.delete(k);
    return p;
  }

  private timeOut(p: Pending, now: number): Outcome {
    this.pending.delete(key(p.device, p.programId, p.operation));
    const c = this.countsOf(p.programId);
    if (p.operation !== 'status') c.timedOut++;
    return {
      device: p.device, programId: p.programId, version: p.version, operation: p.operation, outcome: 'timeout', status: 'TimedOut',
      message: `no answer to ${p.operation} within ${Math.round(this.timeoutMs / 1000)} s`, result: null, executionTimeMs: null, latencyMs: now - p.sentAt, at: now,
    };
  }

  /** A status/report. Answers a pending load (or a status asked with execute/Status). */
  noteStatus(device: string, report: SteelStatusReport, now: number): Outcome {
    const p = this.take(device, report.program_id, 'load') ?? this.take(device, report.program_id, 'status');
    const c = this.countsOf(report.program_id);
    let outcome: OutcomeKind = 'reported';
    if (p?.operation === 'load' || (!p && (report.status === 'Completed' || report.status === 'Failed'))) {
      // A load that ran (auto_start) or failed validation is an execution outcome; one that only
      // stored the program (Pending) is a delivery.
      if (report.status === 'Completed') outcome = 'success';
      else if (report.status === 'Failed') outcome = 'failure';
      else outcome = p ? 'delivered' : 'reported';
    }
    if (outcome === 'success') c.succeeded++;
    else if (outcome === 'failure') c.failed++;
    else if (outcome === 'delivered') c.delivered++;
    c.devices.add(device);
    return {
      device, programId: report.program_id, version: p?.version ?? c.version, operation: p?.operation ?? null, outcome, status: report.status,
      message: report.message, result: null, executionTimeMs: report.execution_time_ms, latencyMs: p ? now - p.sentAt : null, at: now,
    };
  }

  /** A full-report answers every pending status request of that device; its entries are reports. */
  noteFullReport(device: string, report: SteelFullReport, now: number): Outcome[] {
    const out: Outcome[] = [];
    for (const s of report.programs) {
      const p = this.take(device, s.program_id, 'status');
      out.push({
        device, programId: s.program_id, version: p?.version ?? this.counts.get(s.program_id)?.version ?? null, operation: p ? 'status' : null,
        outcome: 'reported', status: s.status, message: s.message, result: null, executionTimeMs: s.execution_time_ms, latencyMs: p ? now - p.sentAt : null, at: now,
      });
    }
    // A device that answers without the program has answered too: it does not hold it.
    for (const p of [...this.pending.values()]) {
      if (p.device !== device || p.operation !== 'status') continue;
      this.pending.delete(key(p.device, p.programId, p.operation));
      out.push({ device, programId: p.programId, version: p.version, operation: 'status', outcome: 'reported', status: 'Absent', message: 'the device does not hold this program', result: null, executionTimeMs: null, latencyMs: now - p.sentAt, at: now });
    }
    return out;
  }

  /** A result: the outcome of an execution. */
  noteResult(device: string, result: SteelResult, now: number): Outcome {
    const p = this.take(device, result.program_id, 'execute') ?? this.take(device, result.program_id, 'load');
    const c = this.countsOf(result.program_id);
    if (result.success) c.succeeded++;
    else c.failed++;
    c.devices.add(device);
    return {
      device, programId: result.program_id, version: p?.version ?? c.version, operation: p?.operation ?? null, outcome: result.success ? 'success' : 'failure',
      status: 'Result', message: result.error, result: result.result, executionTimeMs: result.execution_time_ms, latencyMs: p ? now - p.sentAt : null, at: now,
    };
  }

  /** Every entry whose deadline has passed, as time-outs. */
  expire(now: number): Outcome[] {
    const out: Outcome[] = [];
    for (const p of [...this.pending.values()]) {
      if (p.deadline > now) break; // send order: later entries have later deadlines (one timeout for all)
      out.push(this.timeOut(p, now));
    }
    return out;
  }

  pendingCount(programId?: string): number {
    if (programId === undefined) return this.pending.size;
    let n = 0;
    for (const p of this.pending.values()) if (p.programId === programId) n++;
    return n;
  }

  summary(programId: string): ProgramSummary {
    const c = this.counts.get(programId);
    const done = c ? c.succeeded + c.failed + c.timedOut : 0;
    const rate = c && done > 0 ? c.succeeded / done : null;
    return {
      programId, version: c?.version ?? null, sent: c?.sent ?? 0, succeeded: c?.succeeded ?? 0, failed: c?.failed ?? 0, timedOut: c?.timedOut ?? 0,
      delivered: c?.delivered ?? 0, pending: this.pendingCount(programId), successRate: rate, target: this.target,
      meetsTarget: rate === null ? null : rate > this.target || (rate === 1 && this.target >= 1), devices: c?.devices.size ?? 0,
    };
  }

  programs(): string[] { return [...this.counts.keys()]; }

  /** Counts survive a restart through the node's store; pending entries do not (their devices answer into 'reported'). */
  snapshot(): Record<string, Omit<Counts, 'devices'> & { devices: string[] }> {
    const out: Record<string, Omit<Counts, 'devices'> & { devices: string[] }> = {};
    for (const [id, c] of this.counts) Object.defineProperty(out, id, { value: { ...c, devices: [...c.devices] }, enumerable: true, writable: true, configurable: true });
    return out;
  }

  restore(snapshot: unknown): void {
    if (snapshot === null || typeof snapshot !== 'object') return;
    for (const [id, v] of Object.entries(snapshot as Record<string, unknown>)) {
      if (v === null || typeof v !== 'object') continue;
      const o = v as Record<string, unknown>;
      const n = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
      this.counts.set(id, {
        version: typeof o.version === 'string' ? o.version : null, sent: n(o.sent), succeeded: n(o.succeeded), failed: n(o.failed), timedOut: n(o.timedOut), delivered: n(o.delivered),
        devices: new Set(Array.isArray(o.devices) ? o.devices.filter((d): d is string => typeof d === 'string') : []),
      });
    }
  }
}
