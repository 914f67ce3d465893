/**
 * The dispatcher's state as small keyed records, so a change is persisted as the few records it
 * touches (a journal line each) instead of a snapshot of everything:
 *   f:<fingerprint>            a firing alert: {alert, since, acked, escalated}
 *   g:<group key>              a group: {route, groupLabels, nextFlushAt, lastNotifiedAt, lastSent}
 *   m:["<fingerprint>","<gk>"] a group's member: the alert, or "firing" for the one in f:
 *   s:<id>                     a silence: {id, matchers, endsAt, createdBy?, comment?}
 * Records read back are parsed, not trusted: a damaged one is counted and skipped.
 */
import type { FleetAlert } from '../alert-shape';
import { compileMatcher, type CompiledMatcher, type MatchOp, type Matcher } from './matchers';

export type StateChange = readonly [key: string, value: unknown];

export const firingKey = (fp: string): string => `f:${fp}`;
export const groupRecordKey = (gk: string): string => `g:${gk}`;
export const memberKey = (fp: string, gk: string): string => `m:${JSON.stringify([fp, gk])}`;
export const silenceKey = (id: string): string => `s:${id}`;

/** The one-document snapshot of earlier versions, read once as a migration. */
export interface DispatcherState {
  readonly v: 1;
  readonly groups: Array<{ key: string; route: string; groupLabels: Record<string, string>; alerts: FleetAlert[]; nextFlushAt: number; lastNotifiedAt: number | null; lastSent: string }>;
  readonly silences: Array<{ id: string; matchers: Matcher[]; endsAt: number; createdBy?: string; comment?: string }>;
  readonly firing: Array<{ alert: FleetAlert; since: number; acked: boolean; escalated: number[] }>;
}

export interface StoredSilence {
  readonly id: string;
  readonly matchers: readonly CompiledMatcher[];
  readonly endsAt: number;
  readonly createdBy?: string;
  readonly comment?: string;
}

export function silenceRecord(s: StoredSilence): unknown {
  return {
    id: s.id, matchers: s.matchers.map((m) => ({ name: m.name, op: m.op, value: m.value })), endsAt: s.endsAt,
    ...(s.createdBy !== undefined ? { createdBy: s.createdBy } : {}), ...(s.comment !== undefined ? { comment: s.comment } : {}),
  };
}

type Member = { fingerprint: string; alert: FleetAlert | 'firing' };

export interface ReadState {
  firing: Array<{ alert: FleetAlert; since: number; acked: boolean; escalated: number[] }>;
  silences: StoredSilence[];
  groups: Array<{ key: string; route: string; groupLabels: Record<string, string>; nextFlushAt: number; lastNotifiedAt: number | null; lastSent: string; members: Member[] }>;
  /** Members whose group record is missing (a crash tore the batch that wrote it). */
  orphans: Array<Member & { groupKey: string }>;
  damaged: number;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const OPS: ReadonlySet<string> = new Set(['=', '!=', '=~', '!~']);

function stringMap(x: unknown): Record<string, string> | null {
  if (!isObj(x)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x)) { if (typeof v !== 'string') return null; out[k] = v; }
  return out;
}

function storedAlert(x: unknown): FleetAlert | null {
  if (!isObj(x) || typeof x.fingerprint !== 'string' || typeof x.name !== 'string' || (x.status !== 'firing' && x.status !== 'resolved')) return null;
  if (typeof x.summary !== 'string' || typeof x.startsAt !== 'string' || (x.endsAt !== null && typeof x.endsAt !== 'string')) return null;
  const labels = stringMap(x.labels);
  if (!labels) return null;
  return { ...(x as unknown as FleetAlert), labels };
}

function storedSilence(x: unknown): StoredSilence | null {
  if (!isObj(x) || typeof x.id !== 'string' || !isNum(x.endsAt) || !Array.isArray(x.matchers)) return null;
  const matchers: CompiledMatcher[] = [];
  for (const m of x.matchers) {
    if (!isObj(m) || typeof m.name !== 'string' || typeof m.op !== 'string' || !OPS.has(m.op) || typeof m.value !== 'string') return null;
    const c = compileMatcher({ name: m.name, op: m.op as MatchOp, value: m.value });
    if (!c.ok) return null;
    matchers.push(c.value);
  }
  return { id: x.id, matchers, endsAt: x.endsAt, createdBy: typeof x.createdBy === 'string' ? x.createdBy : undefined, comment: typeof x.comment === 'string' ? x.comment : undefined };
}

export function readStateRecords(records: Iterable<readonly [string, unknown]>): ReadState {
  const out: ReadState = { firing: [], silences: [], groups: [], orphans: [], damaged: 0 };
  const members = new Map<string, Member[]>();
  const groups = new Map<string, ReadState['groups'][number]>();
  for (const [key, v] of records) {
    const kind = key.slice(0, 2);
    const rest = key.slice(2);
    if (kind === 'f:') {
      const alert = isObj(v) ? storedAlert(v.alert) : null;
      if (!alert || !isObj(v) || !isNum(v.since) || !Array.isArray(v.escalated) || alert.fingerprint !== rest) { out.damaged++; continue; }
      out.firing.push({ alert, since: v.since, acked: v.acked === true, escalated: v.escalated.filter((i): i is number => Number.isInteger(i)) });
    } else if (kind === 's:') {
      const s = storedSilence(v);
      if (!s || s.id !== rest) { out.damaged++; continue; }
      out.silences.push(s);
    } else if (kind === 'g:') {
      const labels = isObj(v) ? stringMap(v.groupLabels) : null;
      if (!isObj(v) || !labels || typeof v.route !== 'string' || !isNum(v.nextFlushAt) || (v.lastNotifiedAt !== null && !isNum(v.lastNotifiedAt)) || typeof v.lastSent !== 'string') { out.damaged++; continue; }
      groups.set(rest, { key: rest, route: v.route, groupLabels: labels, nextFlushAt: v.nextFlushAt, lastNotifiedAt: v.lastNotifiedAt, lastSent: v.lastSent, members: [] });
    } else if (kind === 'm:') {
      let id: unknown;
      try { id = JSON.parse(rest); } catch { id = null; }
      const alert = v === 'firing' ? 'firing' : storedAlert(v);
      if (!Array.isArray(id) || id.length !== 2 || typeof id[0] !== 'string' || typeof id[1] !== 'string' || alert === null) { out.damaged++; continue; }
      const list = members.get(id[1]) ?? [];
      list.push({ fingerprint: id[0], alert });
      members.set(id[1], list);
    }
    // Other keys belong to whoever shares the store (the node's outbox).
  }
  for (const [gk, list] of members) {
    const g = groups.get(gk);
    if (g) g.members.push(...list);
    else for (const m of list) out.orphans.push({ ...m, groupKey: gk });
  }
  out.groups = [...groups.values()];
  return out;
}
