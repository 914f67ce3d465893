/**
 * Grouping, deduplication and notification timing, as Alertmanager's aggregation groups do it:
 * an alert joins one group per matched route; a new group waits group_wait before its first
 * notification, then changes go out at most every group_interval, and an unchanged group is sent
 * again after repeat_interval. A resolved alert is sent once in a resolve notification, then dropped.
 * Silences and inhibition mute alerts before they reach a group. Time is passed in (no timers).
 *
 * Every change to what decides the next notification is recorded as a keyed record (see
 * dispatcher-state.ts); `takeChanges` hands the changed records to whoever makes them durable.
 */
import { createHash } from 'node:crypto';

import type { FleetAlert } from '../alert-shape';
import { matchesAll, type CompiledMatcher } from './matchers';
import { groupKey, matchRoutes, type Route } from './routes';
import { isActive, type TimeIntervalSpec } from './time-intervals';
import { InhibitionIndex, type InhibitRule } from './inhibition';
import {
  firingKey, groupRecordKey, memberKey, readStateRecords, silenceKey, silenceRecord,
  type DispatcherState, type StateChange,
} from './dispatcher-state';

export type { InhibitRule } from './inhibition';
export type { DispatcherState, StateChange } from './dispatcher-state';

export interface Notification {
  /**
   * Stable idempotency key: the same notification delivered again (after a crash between sending
   * and recording it) carries the same id, so a receiver can drop the duplicate.
   */
  readonly id: string;
  readonly receiver: string;
  readonly route: string;
  readonly groupKey: string;
  /** The labels the group is keyed by (its group_by values). */
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly FleetAlert[];
  readonly firing: number;
  readonly resolved: number;
  /** True when nothing changed and the group is sent again because repeat_interval passed. */
  readonly repeat: boolean;
  /** Set when this is an escalation: these alerts were not acknowledged in time. */
  readonly escalation?: { readonly afterMs: number; readonly index: number };
  readonly at: number;
}

/** An unacknowledged alert matching `matchers` goes to `receiver` after `afterMs`. */
export interface Escalation {
  readonly matchers: readonly CompiledMatcher[];
  readonly afterMs: number;
  readonly receiver: string;
}

interface Active {
  alert: FleetAlert;
  readonly since: number;
  acked: boolean;
  readonly escalated: Set<number>;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly CompiledMatcher[];
  readonly endsAt: number;
  readonly createdBy?: string;
  readonly comment?: string;
}

interface Group {
  readonly key: string;
  readonly route: Route;
  readonly groupLabels: Record<string, string>;
  readonly alerts: Map<string, FleetAlert>;
  nextFlushAt: number;
  lastNotifiedAt: number | null;
  /** Digest of the fingerprints (with status) in the last notification: a different set is a change. */
  lastSent: string;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

function labelsFor(route: Route, labels: Readonly<Record<string, string>>): Record<string, string> {
  const names = route.groupBy === 'all' ? Object.keys(labels) : route.groupBy;
  const out: Record<string, string> = {};
  for (const n of names) out[n] = Object.prototype.hasOwnProperty.call(labels, n) ? labels[n] : '';
  return out;
}

export class AlertDispatcher {
  private readonly groups = new Map<string, Group>();
  private readonly silences = new Map<string, Silence>();
  /** Firing alerts by fingerprint: for inhibition, acknowledgement and escalation. */
  private readonly firing = new Map<string, Active>();
  private inhibition: InhibitionIndex;
  /** Record keys changed since the last takeChanges. */
  private readonly dirty = new Set<string>();

  constructor(
    private tree: Route,
    private inhibitRules: readonly InhibitRule[] = [],
    private timeIntervals: ReadonlyMap<string, readonly TimeIntervalSpec[]> = new Map(),
    private escalations: readonly Escalation[] = [],
  ) {
    this.inhibition = new InhibitionIndex(inhibitRules);
  }

  /** A route's mute_time_intervals hold it quiet; its active_time_intervals, when set, are the only times it speaks. */
  routeMuted(route: Route, now: number): boolean {
    const active = (name: string): boolean => isActive(this.timeIntervals.get(name) ?? [], now) === true;
    if (route.muteTimeIntervals.some(active)) return true;
    return route.activeTimeIntervals.length > 0 && !route.activeTimeIntervals.some(active);
  }

  /** The routes holding quiet right now (quiet hours), for the status badge and the dashboard. */
  mutedRoutes(now: number): Array<{ readonly path: string; readonly receiver: string }> {
    const out: Array<{ path: string; receiver: string }> = [];
    const stack: Route[] = [this.tree];
    while (stack.length > 0) {
      const r = stack.pop() as Route;
      if (this.routeMuted(r, now)) out.push({ path: r.path, receiver: r.receiver });
      stack.push(...r.routes);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** Acknowledges firing alerts by fingerprint, or all matching the matchers; returns how many. */
  acknowledge(by: string | readonly CompiledMatcher[]): number {
    let n = 0;
    const ack = (a: Active): void => {
      if (a.acked) return;
      a.acked = true;
      n++;
      this.dirty.add(firingKey(a.alert.fingerprint));
    };
    if (typeof by === 'string') {
      const a = this.firing.get(by);
      if (a) ack(a);
    } else {
      for (const a of this.firing.values()) if (matchesAll(by, a.alert.labels)) ack(a);
    }
    return n;
  }

  get groupCount(): number {
    return this.groups.size;
  }

  get activeCount(): number {
    return this.firing.size;
  }

  setTree(tree: Route, inhibitRules: readonly InhibitRule[] = this.inhibitRules): void {
    this.tree = tree;
    this.inhibitRules = inhibitRules;
    this.inhibition = new InhibitionIndex(inhibitRules);
    for (const a of this.firing.values()) this.inhibition.add(a.alert);
  }

  addSilence(s: Silence): void {
    this.silences.set(s.id, s);
    this.dirty.add(silenceKey(s.id));
  }

  expireSilence(id: string): boolean {
    const had = this.silences.delete(id);
    if (had) this.dirty.add(silenceKey(id));
    return had;
  }

  activeSilences(now: number): Silence[] {
    return [...this.silences.values()].filter((s) => s.endsAt > now);
  }

  /** Why an alert is muted right now, or null. */
  mutedBy(alert: FleetAlert, now: number): string | null {
    for (const s of this.silences.values()) {
      if (s.endsAt > now && matchesAll(s.matchers, alert.labels)) return `silence ${s.id}`;
    }
    const by = this.inhibition.inhibitor(alert.labels);
    return by === null ? null : `inhibited by ${this.inhibition.nameOf(by)}`;
  }

  /** Takes an alert (firing or resolved); returns the receivers it was routed to. */
  receive(alert: FleetAlert, now: number): string[] {
    if (alert.status === 'firing') {
      const known = this.firing.get(alert.fingerprint);
      if (known) known.alert = alert;
      else {
        this.firing.set(alert.fingerprint, { alert, since: now, acked: false, escalated: new Set() });
        this.inhibition.add(alert);
      }
      this.dirty.add(firingKey(alert.fingerprint));
    } else if (this.firing.delete(alert.fingerprint)) {
      this.inhibition.remove(alert.fingerprint);
      this.dirty.add(firingKey(alert.fingerprint));
    }
    const routes = matchRoutes(this.tree, alert.labels);
    for (const route of routes) this.place(route, alert, now);
    return routes.map((r) => r.receiver);
  }

  /** Notifications due at `now`. Call it on a timer (every second is plenty). */
  flush(now: number): Notification[] {
    for (const [id, s] of this.silences) if (s.endsAt <= now) { this.silences.delete(id); this.dirty.add(silenceKey(id)); }
    const out: Notification[] = this.escalate(now);
    for (const g of this.groups.values()) {
      if (now < g.nextFlushAt) continue;
      this.dirty.add(groupRecordKey(g.key));
      // Quiet hours: nothing goes out and nothing is marked sent, so it all goes out when they end.
      if (this.routeMuted(g.route, now)) { g.nextFlushAt = now + g.route.groupIntervalMs; continue; }
      const shown: FleetAlert[] = [];
      const firing: FleetAlert[] = [];
      const resolved: FleetAlert[] = [];
      for (const a of g.alerts.values()) {
        if (a.status === 'resolved') { shown.push(a); resolved.push(a); } else if (this.mutedBy(a, now) === null) { shown.push(a); firing.push(a); }
      }
      const signature = digest(shown.map((a) => `${a.fingerprint}:${a.status}`).sort().join(','));
      const changed = signature !== g.lastSent && (firing.length > 0 || (resolved.length > 0 && g.lastNotifiedAt !== null));
      const repeat = !changed && firing.length > 0 && g.lastNotifiedAt !== null && now - g.lastNotifiedAt >= g.route.repeatIntervalMs;
      if (changed || repeat) {
        out.push({
          id: digest(`${g.route.receiver}\n${g.key}\n${now}\n${signature}`),
          receiver: g.route.receiver, route: g.route.path, groupKey: g.key, groupLabels: g.groupLabels,
          status: firing.length > 0 ? 'firing' : 'resolved', alerts: shown, firing: firing.length, resolved: resolved.length, repeat, at: now,
        });
        g.lastNotifiedAt = now;
        g.lastSent = signature;
      }
      // Resolved alerts go after their resolve notification, or quietly when it never was sent (muted, or resolved inside group_wait).
      for (const [fp, a] of g.alerts) if (a.status === 'resolved') { g.alerts.delete(fp); this.dirty.add(memberKey(fp, g.key)); }
      if (g.alerts.size === 0) this.groups.delete(g.key);
      else g.nextFlushAt = now + g.route.groupIntervalMs;
    }
    return out;
  }

  /** The records changed since the last call, with their current values (undefined: deleted). */
  takeChanges(): StateChange[] {
    const out: StateChange[] = [];
    for (const key of this.dirty) out.push([key, this.recordValue(key)]);
    this.dirty.clear();
    return out;
  }

  /** Every record of the current state (for a fresh store, and for tests). */
  records(): StateChange[] {
    this.markAllDirty();
    return this.takeChanges();
  }

  /**
   * Takes back the records after a restart. Groups whose route still exists keep what was sent and
   * when the next flush is due (so nothing is re-sent and nothing pending is lost); alerts of routes
   * that a new configuration removed, or of a group whose record was lost, are routed again.
   * Returns how many records could not be read.
   */
  load(records: Iterable<readonly [string, unknown]>, now: number): number {
    const state = readStateRecords(records);
    for (const f of state.firing) {
      this.firing.set(f.alert.fingerprint, { alert: f.alert, since: f.since, acked: f.acked, escalated: new Set(f.escalated) });
      this.inhibition.add(f.alert);
    }
    for (const s of state.silences) if (s.endsAt > now) this.silences.set(s.id, s); else this.dirty.add(silenceKey(s.id));
    const routes = this.routesByPath();
    for (const g of state.groups) {
      const members = g.members.map((m) => (m.alert === 'firing' ? this.firing.get(m.fingerprint)?.alert : m.alert)).filter((a): a is FleetAlert => a !== undefined);
      const route = routes.get(g.route);
      if (route && members.length > 0 && members.every((a) => groupKey(route, a.labels) === g.key)) {
        this.groups.set(g.key, { key: g.key, route, groupLabels: g.groupLabels, alerts: new Map(members.map((a) => [a.fingerprint, a])), nextFlushAt: g.nextFlushAt, lastNotifiedAt: g.lastNotifiedAt, lastSent: g.lastSent });
      } else {
        this.dirty.add(groupRecordKey(g.key));
        for (const m of g.members) this.dirty.add(memberKey(m.fingerprint, g.key));
        for (const a of members) for (const r of matchRoutes(this.tree, a.labels)) this.place(r, a, now);
      }
    }
    for (const m of state.orphans) {
      this.dirty.add(memberKey(m.fingerprint, m.groupKey));
      const a = m.alert === 'firing' ? this.firing.get(m.fingerprint)?.alert : m.alert;
      if (a) for (const r of matchRoutes(this.tree, a.labels)) this.place(r, a, now);
    }
    return state.damaged;
  }

  /** Takes back the one-document snapshot earlier versions saved in the node's context (a migration). */
  restore(state: DispatcherState, now: number): number {
    const records: Array<[string, unknown]> = [];
    for (const f of state.firing ?? []) records.push([firingKey(f.alert.fingerprint), f]);
    for (const s of state.silences ?? []) records.push([silenceKey(s.id), s]);
    for (const g of state.groups ?? []) {
      records.push([groupRecordKey(g.key), { route: g.route, groupLabels: g.groupLabels, nextFlushAt: g.nextFlushAt, lastNotifiedAt: g.lastNotifiedAt, lastSent: digest(g.lastSent) }]);
      for (const a of g.alerts) records.push([memberKey(a.fingerprint, g.key), a]);
    }
    const damaged = this.load(records, now);
    this.markAllDirty();
    return damaged;
  }

  private place(route: Route, alert: FleetAlert, now: number): void {
    const key = groupKey(route, alert.labels);
    let g = this.groups.get(key);
    if (!g) {
      if (alert.status === 'resolved') return; // nothing was sent about it here
      g = { key, route, groupLabels: labelsFor(route, alert.labels), alerts: new Map(), nextFlushAt: now + route.groupWaitMs, lastNotifiedAt: null, lastSent: '' };
      this.groups.set(key, g);
      this.dirty.add(groupRecordKey(key));
    }
    g.alerts.set(alert.fingerprint, alert);
    this.dirty.add(memberKey(alert.fingerprint, key));
  }

  private routesByPath(): Map<string, Route> {
    const routes = new Map<string, Route>();
    const walk = (r: Route): void => { routes.set(r.path, r); r.routes.forEach(walk); };
    walk(this.tree);
    return routes;
  }

  private markAllDirty(): void {
    for (const fp of this.firing.keys()) this.dirty.add(firingKey(fp));
    for (const id of this.silences.keys()) this.dirty.add(silenceKey(id));
    for (const g of this.groups.values()) {
      this.dirty.add(groupRecordKey(g.key));
      for (const fp of g.alerts.keys()) this.dirty.add(memberKey(fp, g.key));
    }
  }

  private recordValue(key: string): unknown {
    const kind = key.slice(0, 2);
    const rest = key.slice(2);
    if (kind === 'f:') {
      const a = this.firing.get(rest);
      return a ? { alert: a.alert, since: a.since, acked: a.acked, escalated: [...a.escalated] } : undefined;
    }
    if (kind === 's:') {
      const s = this.silences.get(rest);
      return s ? silenceRecord(s) : undefined;
    }
    if (kind === 'g:') {
      const g = this.groups.get(rest);
      return g ? { route: g.route.path, groupLabels: g.groupLabels, nextFlushAt: g.nextFlushAt, lastNotifiedAt: g.lastNotifiedAt, lastSent: g.lastSent } : undefined;
    }
    // A member: the firing alert it shares with f:<fingerprint> is written once, there.
    const [fp, gk] = JSON.parse(rest) as [string, string];
    const a = this.groups.get(gk)?.alerts.get(fp);
    if (!a) return undefined;
    return a === this.firing.get(fp)?.alert ? 'firing' : a;
  }

  private escalate(now: number): Notification[] {
    if (this.escalations.length === 0) return [];
    // Due escalations of one flush go out grouped: per escalation and the labels of the alert's route group.
    const due = new Map<string, { index: number; groupLabels: Record<string, string>; alerts: FleetAlert[] }>();
    for (const a of this.firing.values()) {
      if (a.acked) continue;
      this.escalations.forEach((e, i) => {
        if (now - a.since < e.afterMs || a.escalated.has(i) || !matchesAll(e.matchers, a.alert.labels) || this.mutedBy(a.alert, now) !== null) return;
        a.escalated.add(i);
        this.dirty.add(firingKey(a.alert.fingerprint));
        const route = matchRoutes(this.tree, a.alert.labels)[0] ?? this.tree;
        const groupLabels = labelsFor(route, a.alert.labels);
        const key = `escalation[${i}]${JSON.stringify(Object.entries(groupLabels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))}`;
        let d = due.get(key);
        if (!d) { d = { index: i, groupLabels, alerts: [] }; due.set(key, d); }
        d.alerts.push(a.alert);
      });
    }
    const out: Notification[] = [];
    for (const [key, d] of due) {
      const e = this.escalations[d.index];
      const signature = digest(d.alerts.map((a) => a.fingerprint).sort().join(','));
      out.push({
        id: digest(`${e.receiver}\n${key}\n${now}\n${signature}`),
        receiver: e.receiver, route: `escalations[${d.index}]`, groupKey: key, groupLabels: d.groupLabels,
        status: 'firing', alerts: d.alerts, firing: d.alerts.length, resolved: 0, repeat: false, escalation: { afterMs: e.afterMs, index: d.index }, at: now,
      });
    }
    return out;
  }
}
