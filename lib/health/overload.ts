/**
 * fleet-health under overload: which readings may be coalesced, how far behind the node runs (the
 * lag), and the PipelineOverloaded alert with its hysteresis. No timers and no clock of its own: the
 * controller feeds it one lag sample a second.
 *
 * Health needs the latest reading of a device, not every reading: while inputs wait longer than
 * `coalesceMs`, a reading still waiting is replaced by a newer one of the same device and kind (the
 * older one is completed, not scored, and counted). Everything whose every instance matters is
 * never coalesced.
 */
import type { MessageKind } from '../../firmware/contract/topics';
import { makeAlert, type FleetAlert } from '../alert-shape';
import type { OverloadOptions } from './overload-config';

export { DEFAULT_OVERLOAD, type OverloadOptions } from './overload-config';

/**
 * The decoded kinds (firmware/contract/topics.ts MESSAGE_KINDS) that are periodic measurements: each
 * new one supersedes the last for scoring, and counters in them (error_count, restart_count, uptime)
 * are read as differences, so the latest carries what the skipped ones would have added. Never
 * coalesced: presence (births and last wills), status, health reports (the device's own verdict),
 * alerts, log and console lines (boot events count restarts), OTA progress, every Steel kind,
 * configuration and command traffic, and fleet-decode's rejects.
 */
export const COALESCED_KINDS: ReadonlySet<string> = new Set<MessageKind>(['sensor', 'heartbeat', 'metrics', 'csi-data', 'csi-stats']);

/** What coalescing reads of an incoming message. */
export interface CoalescableMessage {
  readonly kind?: unknown; readonly device?: unknown; readonly error?: unknown; readonly thresholds?: unknown;
  readonly retain?: unknown; readonly command?: unknown; readonly topic?: unknown;
}

/**
 * The key under which a message may be coalesced with a later one (same device, same kind), or null
 * when it must be scored itself: not a reading, a reject, a replayed retained message (the tracker
 * ignores it, so it must not stand in for a live one), or one with its own msg.thresholds.
 */
export function coalesceKey(msg: CoalescableMessage): string | null {
  if (typeof msg.kind !== 'string' || !COALESCED_KINDS.has(msg.kind)) return null;
  if (msg.thresholds !== undefined || msg.retain === true || msg.error !== undefined || msg.command !== undefined || msg.topic === 'commanded') return null;
  const d = msg.device;
  if (d === null || typeof d !== 'object') return null;
  const id = (d as { id?: unknown }).id;
  return typeof id === 'string' ? `${msg.kind}\u0000${id}` : null;
}

/** The overload part of the fleet summary (`payload.pipeline`). */
export interface PipelineReport {
  /** The last second's lag: the longest an input waited to be scored, or the event loop's longest stall. */
  readonly lagMs: number;
  /** The largest lag since the previous summary. */
  readonly maxLagMs: number;
  /** Inputs waiting to be scored now. */
  readonly pending: number;
  /** Readings coalesced since the node started, in all and by kind. */
  readonly coalesced: number;
  readonly coalescedByKind: Readonly<Record<string, number>>;
  readonly coalescing: boolean;
  readonly overloaded: boolean;
  /** ISO 8601 start of the firing PipelineOverloaded alert, or null. */
  readonly overloadedSince: string | null;
  readonly thresholds: OverloadOptions;
}

export class OverloadMonitor {
  /** The last sample. */
  lagMs = 0;
  coalesced = 0;
  private maxLag = 0;
  private readonly byKind: Record<string, number> = {};
  private overSince: number | null = null;
  private underSince: number | null = null;
  /** startsAt of the firing alert, or null. */
  private firingSince: number | null = null;

  constructor(readonly options: OverloadOptions, private readonly node: string, private readonly source = 'fleet-health') {}

  get firing(): number | null {
    return this.firingSince;
  }

  /** Whether a reading arriving now, with inputs `lagMs` behind, is coalesced with a later one. */
  coalescing(lagMs: number): boolean {
    return this.options.coalesceMs > 0 && lagMs >= this.options.coalesceMs;
  }

  noteCoalesced(kind: string): void {
    this.coalesced++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
  }

  /** A firing alert kept in the journal across a restart: it resolves, with its identity, once the lag recovers. */
  restore(startsAt: number): void {
    this.firingSince = startsAt;
  }

  /**
   * One sample a second. Fires once the lag has been over `overloadMs` for `overloadForMs`, resolves
   * once it has been under half of it as long: a lag hovering at the threshold does not flap.
   * Returns the alert to send on a transition, else null.
   */
  sample(lagMs: number, now: number, pending: number): FleetAlert | null {
    this.lagMs = lagMs;
    if (lagMs > this.maxLag) this.maxLag = lagMs;
    const { overloadMs, overloadForMs } = this.options;
    if (overloadMs <= 0) return null;
    if (this.firingSince === null) {
      if (lagMs <= overloadMs) { this.overSince = null; return null; }
      this.overSince ??= now;
      if (now - this.overSince < overloadForMs) return null;
      this.firingSince = now;
      this.overSince = null;
      this.underSince = null;
      return this.alert(now, null, lagMs, pending);
    }
    if (lagMs >= overloadMs / 2) { this.underSince = null; return null; }
    this.underSince ??= now;
    if (now - this.underSince < overloadForMs) return null;
    const startsAt = this.firingSince;
    this.firingSince = null;
    this.underSince = null;
    return this.alert(startsAt, now, lagMs, pending);
  }

  /** The summary's report; the largest lag starts over with each summary. */
  report(pending: number): PipelineReport {
    const maxLagMs = Math.max(this.maxLag, this.lagMs);
    this.maxLag = 0;
    return {
      lagMs: Math.round(this.lagMs), maxLagMs: Math.round(maxLagMs), pending, coalesced: this.coalesced, coalescedByKind: { ...this.byKind },
      coalescing: this.coalescing(this.lagMs), overloaded: this.firingSince !== null,
      overloadedSince: this.firingSince === null ? null : new Date(this.firingSince).toISOString(), thresholds: this.options,
    };
  }

  private alert(startsAt: number, endsAt: number | null, lagMs: number, pending: number): FleetAlert {
    const { overloadMs, overloadForMs } = this.options;
    const lag = Math.round(lagMs);
    const forS = Math.round(overloadForMs / 1000);
    return makeAlert({
      name: 'PipelineOverloaded', severity: 'major', device: null, labels: { node: this.node }, source: this.source,
      summary: endsAt === null
        ? `fleet-health ${this.node} is overloaded: inputs ${lag} ms behind (over ${overloadMs} ms for ${forS} s); ${this.coalesced} readings coalesced so far`
        : `fleet-health ${this.node} keeps up again: inputs ${lag} ms behind (under ${Math.round(overloadMs / 2)} ms for ${forS} s)`,
      startsAt, endsAt, details: { lagMs: lag, thresholdMs: overloadMs, forS, pending, coalesced: this.coalesced, coalescedByKind: { ...this.byKind } },
    });
  }
}
