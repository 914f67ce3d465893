/**
 * Grouping, deduplication and notification timing, as Alertmanager's aggregation groups do it:
 * an alert joins one group per matched route; a new group waits group_wait before its first
 * notification, then changes go out at most every group_interval, and an unchanged group is sent
 * again after repeat_interval. A resolved alert is sent once in a resolve notification, then dropped.
 * Silences and inhibition mute alerts before they reach a group. Time is passed in (no timers).
 */
import type { FleetAlert } from '../health/alert';
import { compileMatcher, matchesAll, type CompiledMatcher, type Matcher } from './matchers';
import { groupKey, matchRoutes, type Route } from './routes';
import { isActive, type TimeIntervalSpec } from './time-intervals';

export interface Notification {
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
  /** Set when this is an escalation: the alert was not acknowledged in time. */
  readonly escalation?: { readonly afterMs: number; readonly fingerprint: string };
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

export interface InhibitRule {
  readonly source: readonly CompiledMatcher[];
  readonly target: readonly CompiledMatcher[];
  /** Labels that must be equal on source and target, e.g. [site]. */
  readonly equal: readonly string[];
}

interface Group {
  readonly key: string;
  readonly route: Route;
  readonly groupLabels: Record<string, string>;
  readonly alerts: Map<string, FleetAlert>;
  nextFlushAt: number;
  lastNotifiedAt: number | null;
  /** Fingerprints (with status) in the last notification: a different set is a change. */
  lastSent: string;
}

/** Everything that must survive a restart: groups with what was last sent, silences, acknowledgements. */
export interface DispatcherState {
  readonly v: 1;
  readonly groups: Array<{ key: string; route: string; groupLabels: Record<string, string>; alerts: FleetAlert[]; nextFlushAt: number; lastNotifiedAt: number | null; lastSent: string }>;
  readonly silences: Array<{ id: string; matchers: Matcher[]; endsAt: number; createdBy?: string; comment?: string }>;
  readonly firing: Array<{ alert: FleetAlert; since: number; acked: boolean; escalated: number[] }>;
}

export class AlertDispatcher {
  private readonly groups = new Map<string, Group>();
  private readonly silences = new Map<string, Silence>();
  /** Firing alerts by fingerprint: for inhibition, acknowledgement and escalation. */
  private readonly firing = new Map<string, Active>();

  constructor(
    private tree: Route,
    private inhibitRules: readonly InhibitRule[] = [],
    private timeIntervals: ReadonlyMap<string, readonly TimeIntervalSpec[]> = new Map(),
    private escalations: readonly Escalation[] = [],
  ) {}

  /** A route's mute_time_intervals hold it quiet; its active_time_intervals, when set, are the only times it speaks. */
  routeMuted(route: Route, now: number): boolean {
    const active = (name: string): boolean => isActive(this.timeIntervals.get(name) ?? [], now) === true;
    if (route.muteTimeIntervals.some(active)) return true;
    return route.activeTimeIntervals.length > 0 && !route.activeTimeIntervals.some(active);
  }

  /** Acknowledges firing alerts by fingerprint, or all matching the matchers; returns how many. */
  acknowledge(by: string | readonly CompiledMatcher[]): number {
    let n = 0;
    for (const a of this.firing.values()) {
      if (typeof by === 'string' ? a.alert.fingerprint === by : matchesAll(by, a.alert.labels)) {
        if (!a.acked) n++;
        a.acked = true;
      }
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
  }

  addSilence(s: Silence): void {
    this.silences.set(s.id, s);
  }

  expireSilence(id: string): boolean {
    return this.silences.delete(id);
  }

  activeSilences(now: number): Silence[] {
    return [...this.silences.values()].filter((s) => s.endsAt > now);
  }

  /** Why an alert is muted right now, or null. */
  mutedBy(alert: FleetAlert, now: number): string | null {
    for (const s of this.silences.values()) {
      if (s.endsAt > now && matchesAll(s.matchers, alert.labels)) return `silence ${s.id}`;
    }
    for (const rule of this.inhibitRules) {
      if (!matchesAll(rule.target, alert.labels)) continue;
      for (const { alert: src } of this.firing.values()) {
        if (src.fingerprint === alert.fingerprint || !matchesAll(rule.source, src.labels)) continue;
        if (rule.equal.every((l) => (src.labels[l] ?? '') === (alert.labels[l] ?? ''))) return `inhibited by ${src.labels.alertname ?? src.fingerprint}`;
      }
    }
    return null;
  }

  /** Takes an alert (firing or resolved); returns the receivers it was routed to. */
  receive(alert: FleetAlert, now: number): string[] {
    if (alert.status === 'firing') {
      const known = this.firing.get(alert.fingerprint);
      if (known) known.alert = alert;
      else this.firing.set(alert.fingerprint, { alert, since: now, acked: false, escalated: new Set() });
    } else {
      this.firing.delete(alert.fingerprint);
    }
    const routes = matchRoutes(this.tree, alert.labels);
    for (const route of routes) {
      const key = groupKey(route, alert.labels);
      let g = this.groups.get(key);
      if (!g) {
        if (alert.status === 'resolved') continue; // nothing was sent about it here
        const names = route.groupBy === 'all' ? Object.keys(alert.labels) : route.groupBy;
        g = { key, route, groupLabels: Object.fromEntries(names.map((n) => [n, alert.labels[n] ?? ''])), alerts: new Map(), nextFlushAt: now + route.groupWaitMs, lastNotifiedAt: null, lastSent: '' };
        this.groups.set(key, g);
      }
      g.alerts.set(alert.fingerprint, alert);
    }
    return routes.map((r) => r.receiver);
  }

  /** Notifications due at `now`. Call it on a timer (every second is plenty). */
  flush(now: number): Notification[] {
    const out: Notification[] = this.escalate(now);
    for (const g of this.groups.values()) {
      if (now < g.nextFlushAt) continue;
      // Quiet hours: nothing goes out and nothing is marked sent, so it all goes out when they end.
      if (this.routeMuted(g.route, now)) { g.nextFlushAt = now + g.route.groupIntervalMs; continue; }
      const shown: FleetAlert[] = [];
      for (const a of g.alerts.values()) if (a.status === 'resolved' || this.mutedBy(a, now) === null) shown.push(a);
      const firing = shown.filter((a) => a.status === 'firing');
      const resolved = shown.filter((a) => a.status === 'resolved');
      const signature = shown.map((a) => `${a.fingerprint}:${a.status}`).sort().join(',');
      const changed = signature !== g.lastSent && (firing.length > 0 || (resolved.length > 0 && g.lastNotifiedAt !== null));
      const repeat = !changed && firing.length > 0 && g.lastNotifiedAt !== null && now - g.lastNotifiedAt >= g.route.repeatIntervalMs;
      if (changed || repeat) {
        out.push({
          receiver: g.route.receiver, route: g.route.path, groupKey: g.key, groupLabels: g.groupLabels,
          status: firing.length > 0 ? 'firing' : 'resolved', alerts: shown, firing: firing.length, resolved: resolved.length, repeat, at: now,
        });
        g.lastNotifiedAt = now;
        g.lastSent = signature;
      }
      for (const a of resolved) g.alerts.delete(a.fingerprint);
      // Resolved alerts that were never sent (muted, or resolved inside group_wait) go quietly.
      for (const [fp, a] of g.alerts) if (a.status === 'resolved') g.alerts.delete(fp);
      if (g.alerts.size === 0) this.groups.delete(g.key);
      else g.nextFlushAt = now + g.route.groupIntervalMs;
    }
    return out;
  }

  snapshot(): DispatcherState {
    const plain = (m: CompiledMatcher): Matcher => ({ name: m.name, op: m.op, value: m.value });
    return {
      v: 1,
      groups: [...this.groups.values()].map((g) => ({ key: g.key, route: g.route.path, groupLabels: g.groupLabels, alerts: [...g.alerts.values()], nextFlushAt: g.nextFlushAt, lastNotifiedAt: g.lastNotifiedAt, lastSent: g.lastSent })),
      silences: [...this.silences.values()].map((x) => ({ id: x.id, matchers: x.matchers.map(plain), endsAt: x.endsAt, createdBy: x.createdBy, comment: x.comment })),
      firing: [...this.firing.values()].map((a) => ({ alert: a.alert, since: a.since, acked: a.acked, escalated: [...a.escalated] })),
    };
  }

  /**
   * Takes back a snapshot after a restart. Groups whose route still exists keep what was sent and
   * when the next flush is due (so nothing is re-sent and nothing pending is lost); alerts of routes
   * that a new configuration removed are routed again.
   */
  restore(state: DispatcherState, now: number): void {
    const routes = new Map<string, Route>();
    const walk = (r: Route): void => { routes.set(r.path, r); r.routes.forEach(walk); };
    walk(this.tree);
    for (const f of state.firing) this.firing.set(f.alert.fingerprint, { alert: f.alert, since: f.since, acked: f.acked, escalated: new Set(f.escalated) });
    for (const x of state.silences) {
      const matchers = x.matchers.map((m) => compileMatcher(m)).flatMap((c) => (c.ok ? [c.value] : []));
      if (matchers.length === x.matchers.length && x.endsAt > now) this.silences.set(x.id, { id: x.id, matchers, endsAt: x.endsAt, createdBy: x.createdBy, comment: x.comment });
    }
    for (const g of state.groups) {
      const route = routes.get(g.route);
      if (route && groupKey(route, g.alerts[0]?.labels ?? {}) === g.key) {
        this.groups.set(g.key, { key: g.key, route, groupLabels: g.groupLabels, alerts: new Map(g.alerts.map((a) => [a.fingerprint, a])), nextFlushAt: g.nextFlushAt, lastNotifiedAt: g.lastNotifiedAt, lastSent: g.lastSent });
      } else {
        for (const a of g.alerts) this.receive(a, now);
      }
    }
  }

  private escalate(now: number): Notification[] {
    const out: Notification[] = [];
    if (this.escalations.length === 0) return out;
    for (const a of this.firing.values()) {
      if (a.acked) continue;
      this.escalations.forEach((e, i) => {
        if (a.escalated.has(i) || now - a.since < e.afterMs || !matchesAll(e.matchers, a.alert.labels) || this.mutedBy(a.alert, now) !== null) return;
        a.escalated.add(i);
        out.push({
          receiver: e.receiver, route: `escalation[${i}]`, groupKey: `escalation[${i}]{${a.alert.fingerprint}}`, groupLabels: { ...a.alert.labels },
          status: 'firing', alerts: [a.alert], firing: 1, resolved: 0, repeat: false, escalation: { afterMs: e.afterMs, fingerprint: a.alert.fingerprint }, at: now,
        });
      });
    }
    return out;
  }
}
