/**
 * Grouping, deduplication and notification timing, as Alertmanager's aggregation groups do it:
 * an alert joins one group per matched route; a new group waits group_wait before its first
 * notification, then changes go out at most every group_interval, and an unchanged group is sent
 * again after repeat_interval. A resolved alert is sent once in a resolve notification, then dropped.
 * Silences and inhibition mute alerts before they reach a group. Time is passed in (no timers).
 */
import type { FleetAlert } from '../health/alert';
import { matchesAll, type CompiledMatcher } from './matchers';
import { groupKey, matchRoutes, type Route } from './routes';

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
  readonly at: number;
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

export class AlertDispatcher {
  private readonly groups = new Map<string, Group>();
  private readonly silences = new Map<string, Silence>();
  /** Firing alerts by fingerprint, for inhibition. */
  private readonly firing = new Map<string, FleetAlert>();

  constructor(private tree: Route, private inhibitRules: readonly InhibitRule[] = []) {}

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
      for (const src of this.firing.values()) {
        if (src.fingerprint === alert.fingerprint || !matchesAll(rule.source, src.labels)) continue;
        if (rule.equal.every((l) => (src.labels[l] ?? '') === (alert.labels[l] ?? ''))) return `inhibited by ${src.labels.alertname ?? src.fingerprint}`;
      }
    }
    return null;
  }

  /** Takes an alert (firing or resolved); returns the receivers it was routed to. */
  receive(alert: FleetAlert, now: number): string[] {
    if (alert.status === 'firing') this.firing.set(alert.fingerprint, alert);
    else this.firing.delete(alert.fingerprint);
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
    const out: Notification[] = [];
    for (const g of this.groups.values()) {
      if (now < g.nextFlushAt) continue;
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
}
