/**
 * Acknowledgement of configuration pushes, pure and clocked from outside. A push is done when
 * the device answers on config/ack/{device}, or when its next status names the new
 * config_version or config_hash; no answer within the timeout re-sends, up to `retries` times,
 * then fails. One result per device (its latest push), so memory is bounded by the fleet.
 */
import type { DeviceConfigAck } from '../../firmware/contract/device-config';

export type AckState = 'pending' | 'applied' | 'rejected' | 'failed' | 'superseded';

export interface AckOptions {
  /** How long one attempt waits; the device restarts to apply, so allow for a boot. */
  readonly timeoutMs: number;
  /** Re-sends after the first attempt. */
  readonly retries: number;
}

export const DEFAULT_ACK_OPTIONS: AckOptions = { timeoutMs: 60_000, retries: 2 };

export interface PushResult {
  readonly device: string;
  readonly version: number;
  readonly hash: string;
  readonly requestId: string;
  readonly state: AckState;
  readonly attempts: number;
  readonly sentAt: number;
  readonly doneAt: number | null;
  readonly via: 'reply' | 'status' | null;
  readonly reason: string | null;
}

export interface AckSummary {
  readonly total: number;
  readonly pending: number;
  readonly applied: number;
  readonly rejected: number;
  readonly failed: number;
  readonly superseded: number;
}

interface Entry {
  result: PushResult;
  deadline: number;
}

export class AckTracker {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: AckOptions = DEFAULT_ACK_OPTIONS) {}

  /** A push was sent. A newer push to the same device supersedes a pending older one. */
  start(push: { device: string; version: number; hash: string; requestId: string }, now: number): PushResult | null {
    const prev = this.entries.get(push.device);
    const superseded = prev && prev.result.state === 'pending' ? { ...prev.result, state: 'superseded' as const, doneAt: now, reason: `replaced by version ${push.version}` } : null;
    this.entries.set(push.device, {
      result: { ...push, state: 'pending', attempts: 1, sentAt: now, doneAt: null, via: null, reason: null },
      deadline: now + this.options.timeoutMs,
    });
    return superseded;
  }

  private settle(e: Entry, state: AckState, now: number, via: 'reply' | 'status' | null, reason: string | null): PushResult {
    e.result = { ...e.result, state, doneAt: now, via, reason };
    return e.result;
  }

  /** The device's answer. Returns the settled result, or null when it is not about the pending push. */
  reply(device: string, ack: DeviceConfigAck, now: number): PushResult | null {
    const e = this.entries.get(device);
    if (!e || e.result.state !== 'pending') return null;
    const r = e.result;
    const named = ack.config_version !== undefined || ack.config_hash !== undefined || ack.request_id !== undefined;
    // An answer naming another push (an older one arriving late) must not settle this one.
    if (named && ack.config_version !== r.version && ack.config_hash !== r.hash && ack.request_id !== r.requestId) return null;
    if (!named) return null;
    return ack.result === 'applied' ? this.settle(e, 'applied', now, 'reply', null) : this.settle(e, 'rejected', now, 'reply', ack.reason ?? 'rejected by the device');
  }

  /** A status or health payload: settles the push when it reports the new version or hash. */
  status(device: string, reported: { config_version?: unknown; config_hash?: unknown }, now: number): PushResult | null {
    const e = this.entries.get(device);
    if (!e || e.result.state !== 'pending') return null;
    if (reported.config_version === e.result.version || reported.config_hash === e.result.hash) return this.settle(e, 'applied', now, 'status', null);
    return null;
  }

  /** Due work: pushes to send again (their attempt already counted) and pushes that failed. */
  tick(now: number): { resend: PushResult[]; failed: PushResult[] } {
    const resend: PushResult[] = [];
    const failed: PushResult[] = [];
    for (const e of this.entries.values()) {
      if (e.result.state !== 'pending' || now < e.deadline) continue;
      if (e.result.attempts <= this.options.retries) {
        e.result = { ...e.result, attempts: e.result.attempts + 1 };
        e.deadline = now + this.options.timeoutMs;
        resend.push(e.result);
      } else {
        failed.push(this.settle(e, 'failed', now, null, `no answer after ${e.result.attempts} attempts of ${Math.round(this.options.timeoutMs / 1000)} s`));
      }
    }
    return { resend, failed };
  }

  /** When the next tick has something to do, or null. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const e of this.entries.values()) if (e.result.state === 'pending' && (next === null || e.deadline < next)) next = e.deadline;
    return next;
  }

  result(device: string): PushResult | undefined {
    return this.entries.get(device)?.result;
  }

  results(): PushResult[] {
    return [...this.entries.values()].map((e) => e.result);
  }

  summary(devices?: ReadonlySet<string>): AckSummary {
    const counts = { total: 0, pending: 0, applied: 0, rejected: 0, failed: 0, superseded: 0 };
    for (const e of this.entries.values()) {
      if (devices && !devices.has(e.result.device)) continue;
      counts.total++;
      counts[e.result.state]++;
    }
    return counts;
  }

  forget(device: string): void {
    this.entries.delete(device);
  }
}
