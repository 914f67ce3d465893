/**
 * The fleet's audit trail, kept by the registry: who sent which command or configuration push to
 * which devices, when, and how it ended. Bounded (the newest `capacity` entries, the oldest are
 * deleted as new ones come) and durable: an entry is committed to the store (the registry's synced
 * journal) before `record` returns, so a push is on record before it is sent. Result updates, one per
 * device answer, are batched: written by the next `record` or `flush` (the owner flushes every second
 * and on close), so 10,000 answers cost a few syncs, not 10,000. The trail stores text as it is
 * given: callers redact.
 */

/** What was done. `ack` is only read back from trails written before results were kept on the push. */
export type AuditAction = 'config-push' | 'config-dry-run' | 'command' | 'emergency' | 'ack';
const ACTIONS: ReadonlySet<string> = new Set(['config-push', 'config-dry-run', 'command', 'emergency', 'ack']);

/** How a push to one device ended, as the acknowledgement tracker reports it. */
export type AuditOutcomeState = 'applied' | 'rejected' | 'failed' | 'superseded';
const OUTCOME_STATES: readonly AuditOutcomeState[] = ['applied', 'rejected', 'failed', 'superseded'];

export interface AuditOutcome {
  readonly pending: number;
  readonly applied: number;
  readonly rejected: number;
  readonly failed: number;
  readonly superseded: number;
}

export interface AuditProblem {
  readonly device: string;
  readonly state: AuditOutcomeState;
  readonly reason: string;
}

export interface AuditEntry {
  /** Increasing across restarts. */
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  /** Shown: the actor when the message named one, else the node. */
  readonly who: string;
  /** The node that acted (its id), when known. */
  readonly node: string | null;
  /** Who the message said asked (`msg.by`), or null. */
  readonly actor: string | null;
  readonly action: AuditAction;
  /** `reset`, `shutdown`, `config push (fleet name)`. */
  readonly what: string;
  /** Devices or scope, shortened past 20 names. */
  readonly target: string;
  /** How many devices it was sent to (0 for a dry run or a refusal). */
  readonly count: number;
  /** `sent to 3 devices`, `refused: ...`, `…; 3 sent: 2 applied, 1 pending`: the note, then the outcome so far. */
  readonly result: string;
  /** The result as first recorded (a push's plan counts), without the outcome. */
  readonly note: string;
  /** Pushes only: per-device results so far. */
  readonly outcome: AuditOutcome | null;
  /** Pushes only: the devices that did not apply it, with the reason (at most MAX_PROBLEMS). */
  readonly problems: readonly AuditProblem[];
  /** When the result last changed (ISO 8601), or null. */
  readonly updatedAt: string | null;
}

export interface AuditRecord {
  readonly who?: string;
  readonly node?: string | null;
  readonly actor?: string | null;
  readonly action: AuditAction;
  readonly what: string;
  readonly target: string;
  readonly count?: number;
  readonly result: string;
  /** A push: this many devices are awaited (their results update the entry). */
  readonly awaiting?: number;
}

/** What the trail needs of a store: the kit's durable state store and a Journal both fit. */
export interface AuditStore {
  get(key: string): unknown;
  keys(): Iterable<string>;
  /** Durable when it returns; an undefined value deletes the key. */
  commit(changes: Iterable<readonly [string, unknown]>): void;
}

export const AUDIT_CAPACITY = { min: 10, max: 100_000, default: 1000 } as const;
export const AUDIT_PREFIX = 'audit/';
const MAX_TEXT = 512;
const MAX_PROBLEMS = 20;
/** A read returns at most this many entries. */
export const AUDIT_READ_LIMIT = 1000;

const clip = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);
const keyOf = (seq: number): string => `${AUDIT_PREFIX}${String(seq).padStart(12, '0')}`;
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const textOrNull = (x: unknown): string | null => (typeof x === 'string' ? clip(x) : null);
const count = (x: unknown): number => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);

/** `a, b, c` or `a, …, t and 5 more`. */
export function describeTargets(devices: readonly string[]): string {
  return devices.length <= 20 ? devices.join(', ') : `${devices.slice(0, 20).join(', ')} and ${devices.length - 20} more`;
}

/** A capacity from a saved config node (empty: the default), or the reason it is refused. */
export function parseAuditCapacity(v: unknown): { ok: true; value: number } | { ok: false; reason: string } {
  if (v === undefined || v === null || v === '') return { ok: true, value: AUDIT_CAPACITY.default };
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < AUDIT_CAPACITY.min || n > AUDIT_CAPACITY.max) return { ok: false, reason: `must be a whole number of entries from ${AUDIT_CAPACITY.min} to ${AUDIT_CAPACITY.max}` };
  return { ok: true, value: n };
}

function readOutcome(x: unknown): AuditOutcome | null {
  if (!isObj(x)) return null;
  return { pending: count(x.pending), applied: count(x.applied), rejected: count(x.rejected), failed: count(x.failed), superseded: count(x.superseded) };
}

/** A stored entry, or null when it is not one (damaged, or not an audit value). Older entries lack the newer fields. */
export function readAuditEntry(x: unknown): AuditEntry | null {
  if (!isObj(x)) return null;
  const ok = typeof x.seq === 'number' && Number.isInteger(x.seq) && x.seq > 0 && typeof x.at === 'string' && !Number.isNaN(Date.parse(x.at))
    && typeof x.who === 'string' && typeof x.action === 'string' && ACTIONS.has(x.action)
    && typeof x.what === 'string' && typeof x.target === 'string' && typeof x.result === 'string';
  if (!ok) return null;
  const problems = Array.isArray(x.problems)
    ? x.problems.filter((p): p is AuditProblem => isObj(p) && typeof p.device === 'string' && typeof p.reason === 'string' && (OUTCOME_STATES as readonly unknown[]).includes(p.state)).slice(0, MAX_PROBLEMS)
    : [];
  return {
    seq: x.seq as number, at: x.at as string, who: clip(x.who as string), node: textOrNull(x.node), actor: textOrNull(x.actor),
    action: x.action as AuditAction, what: clip(x.what as string), target: clip(x.target as string), count: count(x.count),
    result: clip(x.result as string), note: typeof x.note === 'string' ? clip(x.note) : clip(x.result as string), outcome: readOutcome(x.outcome), problems, updatedAt: textOrNull(x.updatedAt),
  };
}

function outcomeText(sent: number, o: AuditOutcome): string {
  const parts = OUTCOME_STATES.filter((s) => o[s] > 0).map((s) => `${o[s]} ${s}`);
  if (o.pending > 0) parts.push(`${o.pending} pending`);
  return `${sent} sent: ${parts.join(', ') || 'none'}`;
}

export class AuditLog {
  /** Held in memory in sequence order; the store has the same entries. */
  private readonly list: AuditEntry[] = [];
  private readonly bySeq = new Map<number, AuditEntry>();
  /** Entries whose result changed since the last write. */
  private readonly dirty = new Set<number>();
  private seq = 0;
  /** Entries the store held that were not audit entries (damage); they are left alone. */
  readonly skipped: number;

  /**
   * Reads the trail back from `store` (keys under AUDIT_PREFIX), deleting what lies past the
   * capacity (a capacity lowered since).
   */
  constructor(private readonly store: AuditStore, readonly capacity: number = AUDIT_CAPACITY.default, private readonly clock: () => number = Date.now) {
    let skipped = 0;
    const found: AuditEntry[] = [];
    for (const k of [...store.keys()]) {
      if (!k.startsWith(AUDIT_PREFIX)) continue;
      const e = readAuditEntry(store.get(k));
      if (e && keyOf(e.seq) === k) found.push(e); else skipped++;
    }
    found.sort((a, b) => a.seq - b.seq);
    const drop = found.splice(0, Math.max(0, found.length - capacity));
    if (drop.length) store.commit(drop.map((e) => [keyOf(e.seq), undefined] as const));
    for (const e of found) { this.list.push(e); this.bySeq.set(e.seq, e); }
    this.seq = found.length ? found[found.length - 1].seq : drop.length ? drop[drop.length - 1].seq : 0;
    this.skipped = skipped;
  }

  get size(): number { return this.list.length; }
  get lastSeq(): number { return this.seq; }
  /** Result updates not yet written. */
  get unwritten(): number { return this.dirty.size; }

  private takeDirty(): Array<readonly [string, unknown]> {
    const out: Array<readonly [string, unknown]> = [];
    for (const seq of this.dirty) { const e = this.bySeq.get(seq); if (e) out.push([keyOf(seq), e]); }
    return out;
  }

  /** Writes the result updates made since the last write (one commit). */
  flush(): void {
    if (this.dirty.size === 0) return;
    this.store.commit(this.takeDirty());
    this.dirty.clear();
  }

  /** Appends an entry (durable when this returns), deleting the oldest past the capacity. */
  record(r: AuditRecord): AuditEntry {
    const now = this.clock();
    const actor = r.actor ? clip(r.actor) : null;
    const node = r.node ? clip(r.node) : null;
    const awaiting = r.awaiting ?? 0;
    const outcome: AuditOutcome | null = r.action === 'config-push' ? { pending: awaiting, applied: 0, rejected: 0, failed: 0, superseded: 0 } : null;
    const entry: AuditEntry = {
      seq: this.seq + 1, at: new Date(now).toISOString(), who: clip(r.who || actor || node || 'unknown'), node, actor,
      action: r.action, what: clip(r.what), target: clip(r.target), count: count(r.count),
      result: clip(outcome && awaiting > 0 ? `${r.result}; ${outcomeText(count(r.count), outcome)}` : r.result), note: clip(r.result), outcome, problems: [], updatedAt: null,
    };
    const evicted = this.list.length + 1 > this.capacity ? this.list.slice(0, this.list.length + 1 - this.capacity) : [];
    for (const e of evicted) this.dirty.delete(e.seq);
    const changes: Array<readonly [string, unknown]> = [...this.takeDirty(), [keyOf(entry.seq), entry]];
    for (const e of evicted) changes.push([keyOf(e.seq), undefined]);
    this.store.commit(changes);
    this.dirty.clear();
    this.seq = entry.seq;
    if (evicted.length) { this.list.splice(0, evicted.length); for (const e of evicted) this.bySeq.delete(e.seq); }
    this.list.push(entry);
    this.bySeq.set(entry.seq, entry);
    return entry;
  }

  /**
   * One device's push ended: moves it from pending to `state` on entry `seq` and rewrites the
   * result (in memory at once, in the store at the next write). False when the entry is gone
   * (evicted) or is not a push with a device pending.
   */
  settle(seq: number, device: string, state: AuditOutcomeState, reason?: string | null): boolean {
    const e = this.bySeq.get(seq);
    if (!e || !e.outcome || e.outcome.pending === 0) return false;
    const outcome: AuditOutcome = { ...e.outcome, pending: e.outcome.pending - 1, [state]: e.outcome[state] + 1 };
    const problems = state === 'applied' || e.problems.length >= MAX_PROBLEMS ? e.problems : [...e.problems, { device: clip(device), state, reason: clip(reason || state) }];
    const next: AuditEntry = { ...e, outcome, problems, result: clip(`${e.note}; ${outcomeText(e.count, outcome)}`), updatedAt: new Date(this.clock()).toISOString() };
    this.dirty.add(seq);
    this.bySeq.set(seq, next);
    const i = this.list.findIndex((x) => x.seq === seq);
    if (i >= 0) this.list[i] = next;
    return true;
  }

  get(seq: number): AuditEntry | undefined {
    return this.bySeq.get(seq);
  }

  /** Entries after `since` (a seq), newest last, at most `limit` (the newest of them). */
  entries(options: { since?: number; limit?: number } = {}): AuditEntry[] {
    const since = options.since ?? 0;
    const limit = Math.min(options.limit ?? AUDIT_READ_LIMIT, AUDIT_READ_LIMIT);
    let from = this.list.length;
    while (from > 0 && this.list[from - 1].seq > since && this.list.length - from < limit) from--;
    return this.list.slice(from);
  }
}

export type AuditQuery = { readonly since: number; readonly limit: number };

/** The admin endpoint's query string (`since`, `limit`), each a whole number; a bad one names the parameter. */
export function parseAuditQuery(query: Readonly<Record<string, unknown>>): { ok: true; value: AuditQuery } | { ok: false; field: string; reason: string } {
  const out = { since: 0, limit: 100 };
  for (const k of ['since', 'limit'] as const) {
    const v = query[k];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string' || !/^\d{1,12}$/.test(v)) return { ok: false, field: k, reason: 'must be a whole number, given once' };
    out[k] = Number(v);
  }
  if (out.limit < 1 || out.limit > AUDIT_READ_LIMIT) return { ok: false, field: 'limit', reason: `must be from 1 to ${AUDIT_READ_LIMIT}` };
  return { ok: true, value: out };
}
