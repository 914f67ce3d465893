/**
 * The bounded audit trail the registry keeps: who did what to which devices, when, and how it
 * ended. Append-only, oldest entries dropped past the capacity; every text goes through the
 * redactor on the way in, so the trail can be shown and persisted as it is.
 */
import type { Redactor } from './secrets';

export type AuditAction = 'config-push' | 'config-dry-run' | 'command' | 'emergency' | 'ack';
const ACTIONS: ReadonlySet<string> = new Set(['config-push', 'config-dry-run', 'command', 'emergency', 'ack']);

export interface AuditEntry {
  /** Increasing; survives a reload so `since(seq)` keeps working. */
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  /** Who asked: the flow's user, node or msg `_by`; `unknown` when nothing said. */
  readonly who: string;
  readonly action: AuditAction;
  /** What it was: `reset`, `shutdown`, `config v4`. */
  readonly what: string;
  /** Devices or scope, shortened past 20 names. */
  readonly target: string;
  /** `sent`, `refused: ...`, `applied`, `failed: ...`, `3 pushed, 1 invalid`. */
  readonly result: string;
}

export const AUDIT_CAPACITY = 1000;
const MAX_TEXT = 512;

const clip = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

export function describeTargets(devices: readonly string[]): string {
  return devices.length <= 20 ? devices.join(', ') : `${devices.slice(0, 20).join(', ')} and ${devices.length - 20} more`;
}

export class AuditTrail {
  private readonly list: AuditEntry[] = [];
  private seq = 0;

  constructor(readonly capacity = AUDIT_CAPACITY, private readonly redactor?: Redactor) {}

  record(e: { at: number; who?: string; action: AuditAction; what: string; target: string; result: string }): AuditEntry {
    const text = (s: string) => clip(this.redactor ? this.redactor.text(s) : s);
    const entry: AuditEntry = { seq: ++this.seq, at: new Date(e.at).toISOString(), who: text(e.who || 'unknown'), action: e.action, what: text(e.what), target: text(e.target), result: text(e.result) };
    this.list.push(entry);
    // Amortised trim: one splice per overflow of a tenth, not a shift per record.
    if (this.list.length > this.capacity + Math.max(1, Math.floor(this.capacity / 10))) this.list.splice(0, this.list.length - this.capacity);
    return entry;
  }

  entries(): AuditEntry[] {
    return this.list.slice(Math.max(0, this.list.length - this.capacity));
  }

  since(seq: number): AuditEntry[] {
    return this.entries().filter((e) => e.seq > seq);
  }

  get size(): number { return Math.min(this.list.length, this.capacity); }

  /** Restores from what `entries()` gave (e.g. a registry journal); malformed entries are skipped and counted. */
  static fromJSON(raw: unknown, capacity = AUDIT_CAPACITY, redactor?: Redactor): { trail: AuditTrail; skipped: number } {
    const trail = new AuditTrail(capacity, redactor);
    let skipped = 0;
    if (!Array.isArray(raw)) return { trail, skipped: raw === undefined ? 0 : 1 };
    for (const x of raw) {
      const e = x as Partial<Record<keyof AuditEntry, unknown>>;
      const ok = x !== null && typeof x === 'object' && typeof e.seq === 'number' && Number.isInteger(e.seq) && e.seq > trail.seq
        && typeof e.at === 'string' && !Number.isNaN(Date.parse(e.at)) && typeof e.who === 'string' && typeof e.action === 'string' && ACTIONS.has(e.action)
        && typeof e.what === 'string' && typeof e.target === 'string' && typeof e.result === 'string';
      if (!ok) { skipped++; continue; }
      trail.seq = e.seq as number;
      trail.list.push({ seq: e.seq as number, at: e.at as string, who: clip(e.who as string), action: e.action as AuditAction, what: clip(e.what as string), target: clip(e.target as string), result: clip(e.result as string) });
    }
    if (trail.list.length > capacity) trail.list.splice(0, trail.list.length - capacity);
    return { trail, skipped };
  }
}
