/**
 * The routing tree, with Prometheus Alertmanager's semantics: the root matches every alert; a child
 * whose matchers match takes the alert, and its siblings are not tried unless it says `continue`; a
 * node none of whose children take the alert takes it itself. Receiver, grouping and timings are
 * inherited from the parent unless a route sets them.
 */
import { compileMatcherList, matchesAll, type CompiledMatcher } from './matchers';

/** A route as saved (and as Alertmanager's YAML spells it). Durations: `30s`, `5m`, `4h`, `1h30m`. */
export interface RouteConfig {
  receiver?: string;
  matchers?: string[];
  continue?: boolean;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  mute_time_intervals?: string[];
  active_time_intervals?: string[];
  routes?: RouteConfig[];
}

export interface Route {
  /** Where it sits, e.g. `route.routes[1].routes[0]`: names it in errors, and keys its groups. */
  readonly path: string;
  readonly receiver: string;
  readonly matchers: readonly CompiledMatcher[];
  readonly continue: boolean;
  /** `all` for Alertmanager's `...`: every label. */
  readonly groupBy: readonly string[] | 'all';
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
  readonly routes: readonly Route[];
}

/** Alertmanager's defaults. */
export const DEFAULT_TIMINGS = { group_wait: '30s', group_interval: '5m', repeat_interval: '4h' } as const;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Prometheus durations: one or more of <number><unit>, e.g. `1h30m`. */
export function parseDuration(text: string): number | null {
  if (typeof text !== 'string' || !/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (rest >= size) { parts.push(`${Math.floor(rest / size)}${unit}`); rest %= size; }
  }
  return parts.join('');
}

export type TreeResult = { ok: true; value: Route } | { ok: false; path: string; field: string; reason: string };

interface Inherited {
  receiver: string;
  groupBy: readonly string[] | 'all';
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const KNOWN_KEYS = new Set(['receiver', 'matchers', 'continue', 'group_by', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals', 'routes']);

/**
 * Checks and compiles a routing tree. Every error names the route (by path) and the field, so the
 * dialog and a deploy can say exactly what to fix.
 */
export function compileTree(root: unknown, receivers: readonly string[], timeIntervals: readonly string[] = []): TreeResult {
  const fail = (path: string, field: string, reason: string): TreeResult => ({ ok: false, path, field, reason });
  const known = new Set(receivers);
  const intervals = new Set(timeIntervals);

  function walk(raw: unknown, path: string, parent: Inherited | null): TreeResult {
    if (!isObj(raw)) return fail(path, '', 'must be an object');
    for (const key of Object.keys(raw)) if (!KNOWN_KEYS.has(key)) return fail(path, key, 'is not a route setting');
    const cfg = raw as RouteConfig;
    if (parent === null) {
      if (!cfg.receiver) return fail(path, 'receiver', 'the default route must name a receiver');
      if (cfg.matchers && cfg.matchers.length) return fail(path, 'matchers', 'the default route matches every alert and takes no matchers');
      if (cfg.continue) return fail(path, 'continue', 'the default route cannot continue');
    }
    if (cfg.receiver !== undefined && (typeof cfg.receiver !== 'string' || !known.has(cfg.receiver))) {
      return fail(path, 'receiver', `receiver ${JSON.stringify(cfg.receiver)} is not defined (receivers: ${receivers.join(', ') || 'none'})`);
    }
    let matchers: CompiledMatcher[] = [];
    if (cfg.matchers !== undefined) {
      const m = compileMatcherList(cfg.matchers);
      if (!m.ok) return fail(path, m.index === null ? 'matchers' : `matchers[${m.index}]`, m.reason);
      matchers = m.value;
    }
    const timing = (field: 'group_wait' | 'group_interval' | 'repeat_interval', inherited: number | undefined): number | string => {
      const v = cfg[field];
      if (v === undefined) return inherited ?? (parseDuration(DEFAULT_TIMINGS[field]) as number);
      const ms = parseDuration(v);
      if (ms === null) return `must be a duration such as 30s, 5m or 4h, not ${JSON.stringify(v)}`;
      return ms;
    };
    const gw = timing('group_wait', parent?.groupWaitMs);
    if (typeof gw === 'string') return fail(path, 'group_wait', gw);
    const gi = timing('group_interval', parent?.groupIntervalMs);
    if (typeof gi === 'string') return fail(path, 'group_interval', gi);
    if (gi === 0) return fail(path, 'group_interval', 'must be above 0');
    const ri = timing('repeat_interval', parent?.repeatIntervalMs);
    if (typeof ri === 'string') return fail(path, 'repeat_interval', ri);
    if (ri === 0) return fail(path, 'repeat_interval', 'must be above 0');
    let groupBy: readonly string[] | 'all' = parent?.groupBy ?? [];
    if (cfg.group_by !== undefined) {
      if (!Array.isArray(cfg.group_by) || cfg.group_by.some((l) => typeof l !== 'string')) return fail(path, 'group_by', 'must be a list of label names');
      if (cfg.group_by.includes('...')) {
        if (cfg.group_by.length > 1) return fail(path, 'group_by', '"..." (every label) stands alone');
        groupBy = 'all';
      } else {
        const bad = cfg.group_by.find((l) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l));
        if (bad !== undefined) return fail(path, 'group_by', `${JSON.stringify(bad)} is not a label name`);
        groupBy = [...cfg.group_by];
      }
    }
    for (const field of ['mute_time_intervals', 'active_time_intervals'] as const) {
      const list = cfg[field];
      if (list === undefined) continue;
      if (!Array.isArray(list)) return fail(path, field, 'must be a list of time interval names');
      const missing = list.find((n) => !intervals.has(n));
      if (missing !== undefined) return fail(path, field, `time interval ${JSON.stringify(missing)} is not defined`);
    }
    const here: Inherited = { receiver: cfg.receiver ?? parent!.receiver, groupBy, groupWaitMs: gw, groupIntervalMs: gi, repeatIntervalMs: ri };
    const children: Route[] = [];
    if (cfg.routes !== undefined) {
      if (!Array.isArray(cfg.routes)) return fail(path, 'routes', 'must be a list of routes');
      for (const [i, child] of cfg.routes.entries()) {
        const r = walk(child, `${path}.routes[${i}]`, here);
        if (!r.ok) return r;
        children.push(r.value);
      }
    }
    return {
      ok: true,
      value: {
        path, receiver: here.receiver, matchers, continue: cfg.continue === true, groupBy,
        groupWaitMs: gw, groupIntervalMs: gi, repeatIntervalMs: ri,
        muteTimeIntervals: cfg.mute_time_intervals ?? [], activeTimeIntervals: cfg.active_time_intervals ?? [],
        routes: children,
      },
    };
  }
  return walk(root, 'route', null);
}

/** The routes an alert with these labels goes to, in order (Alertmanager's Route.Match). */
export function matchRoutes(route: Route, labels: Readonly<Record<string, string>>): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const matched = matchRoutes(child, labels);
    all.push(...matched);
    if (matched.length > 0 && !child.continue) break;
  }
  if (all.length === 0) all.push(route);
  return all;
}

/** Identifies an alert's group on a route: the route and the values of its group_by labels. */
export function groupKey(route: Route, labels: Readonly<Record<string, string>>): string {
  const names = route.groupBy === 'all' ? Object.keys(labels).sort() : route.groupBy;
  return `${route.path}{${names.map((n) => `${n}=${JSON.stringify(labels[n] ?? '')}`).join(',')}}`;
}
