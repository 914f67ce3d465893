/**
 * The routing tree, with Prometheus Alertmanager's semantics: the root matches every alert; a child
 * whose matchers match takes the alert, and its siblings are not tried unless it says `continue`; a
 * node none of whose children take the alert takes it itself. Receiver, grouping and timings are
 * inherited from the parent unless a route sets them.
 */
import { isWellFormed } from './matcher-parse';
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

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/**
 * Prometheus durations (common/model.ParseDuration): units largest first, each at most once, e.g.
 * `1h30m`; `0` alone is zero. Null for anything else, or beyond what a millisecond count can hold.
 */
export function parseDuration(text: string): number | null {
  if (typeof text !== 'string' || text === '' || text.length > 64) return null;
  if (text === '0') return 0;
  const m = DURATION.exec(text);
  if (!m) return null;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[i];
  return Number.isSafeInteger(ms) ? ms : null;
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

/**
 * Bounds on a tree: far beyond any hand-written configuration, and they keep every walk of the tree
 * (matching, restore) shallow. Alertmanager sets none; a deeper tree is refused with its path.
 */
export const ROUTE_LIMITS = { depth: 64, routes: 10_000, labelNameLength: 128 } as const;

interface Inherited {
  receiver: string;
  groupBy: readonly string[] | 'all';
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const KNOWN_KEYS = new Set(['receiver', 'matchers', 'continue', 'group_by', 'group_wait', 'group_interval', 'repeat_interval', 'mute_time_intervals', 'active_time_intervals', 'routes']);
const isStringList = (x: unknown): x is string[] => Array.isArray(x) && x.every((v) => typeof v === 'string');

/**
 * Checks and compiles a routing tree. Every error names the route (by path) and the field, so the
 * dialog and a deploy can say exactly what to fix. Nothing in `root` is trusted: each field is read
 * for its type, and the compiled tree shares nothing with the input.
 */
export function compileTree(root: unknown, receivers: readonly string[], timeIntervals: readonly string[] = []): TreeResult {
  const fail = (path: string, field: string, reason: string): TreeResult => ({ ok: false, path, field, reason });
  const known = new Set(receivers);
  const intervals = new Set(timeIntervals);
  let count = 0;

  function walk(raw: unknown, path: string, parent: Inherited | null, depth: number): TreeResult {
    if (depth > ROUTE_LIMITS.depth) return fail(path, '', `routes nest deeper than ${ROUTE_LIMITS.depth} levels`);
    if (++count > ROUTE_LIMITS.routes) return fail(path, '', `the tree has more than ${ROUTE_LIMITS.routes} routes`);
    if (!isObj(raw)) return fail(path, '', 'must be an object');
    for (const key of Object.keys(raw)) if (!KNOWN_KEYS.has(key)) return fail(path, key, 'is not a route setting');
    if (raw.receiver !== undefined && (typeof raw.receiver !== 'string' || !known.has(raw.receiver))) {
      const list = receivers.join(', ') || 'none';
      return fail(path, 'receiver', `receiver ${typeof raw.receiver === 'string' ? JSON.stringify(raw.receiver) : 'must be a name, and'} is not defined (receivers: ${list})`);
    }
    const receiver = raw.receiver as string | undefined;
    if (raw.continue !== undefined && typeof raw.continue !== 'boolean') return fail(path, 'continue', 'must be true or false');
    if (parent === null) {
      if (!receiver) return fail(path, 'receiver', 'the default route must name a receiver');
      if (Array.isArray(raw.matchers) && raw.matchers.length) return fail(path, 'matchers', 'the default route matches every alert and takes no matchers');
      if (raw.continue) return fail(path, 'continue', 'the default route cannot continue');
    }
    let matchers: CompiledMatcher[] = [];
    if (raw.matchers !== undefined) {
      const m = compileMatcherList(raw.matchers);
      if (!m.ok) return fail(path, m.index === null ? 'matchers' : `matchers[${m.index}]`, m.reason);
      matchers = m.value;
    }
    const timing = (field: 'group_wait' | 'group_interval' | 'repeat_interval', inherited: number | undefined): number | string => {
      const v = raw[field];
      if (v === undefined) return inherited ?? (parseDuration(DEFAULT_TIMINGS[field]) as number);
      const ms = typeof v === 'string' ? parseDuration(v) : null;
      if (ms === null) return `must be a duration such as 30s, 5m or 4h, not ${typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : typeof v}`;
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
    if (raw.group_by !== undefined) {
      if (!isStringList(raw.group_by)) return fail(path, 'group_by', 'must be a list of label names');
      if (raw.group_by.includes('...')) {
        if (raw.group_by.length > 1) return fail(path, 'group_by', '"..." (every label) stands alone');
        groupBy = 'all';
      } else {
        // Alertmanager (UTF-8 mode, its default) takes any non-empty UTF-8 label name.
        const bad = raw.group_by.find((l) => l === '' || l.length > ROUTE_LIMITS.labelNameLength || !isWellFormed(l));
        if (bad !== undefined) return fail(path, 'group_by', `${JSON.stringify(bad.slice(0, 64))} is not a label name`);
        if (new Set(raw.group_by).size !== raw.group_by.length) return fail(path, 'group_by', 'names a label twice');
        groupBy = [...raw.group_by];
      }
    }
    const timeLists: Record<'mute_time_intervals' | 'active_time_intervals', string[]> = { mute_time_intervals: [], active_time_intervals: [] };
    for (const field of ['mute_time_intervals', 'active_time_intervals'] as const) {
      const list = raw[field];
      if (list === undefined) continue;
      if (!isStringList(list)) return fail(path, field, 'must be a list of time interval names');
      const missing = list.find((n) => !intervals.has(n));
      if (missing !== undefined) return fail(path, field, `time interval ${JSON.stringify(missing)} is not defined`);
      timeLists[field] = [...list];
    }
    const here: Inherited = { receiver: receiver ?? parent!.receiver, groupBy, groupWaitMs: gw, groupIntervalMs: gi, repeatIntervalMs: ri };
    const children: Route[] = [];
    if (raw.routes !== undefined) {
      if (!Array.isArray(raw.routes)) return fail(path, 'routes', 'must be a list of routes');
      for (let i = 0; i < raw.routes.length; i++) {
        const r = walk(raw.routes[i], `${path}.routes[${i}]`, here, depth + 1);
        if (!r.ok) return r;
        children.push(r.value);
      }
    }
    return {
      ok: true,
      value: {
        path, receiver: here.receiver, matchers, continue: raw.continue === true, groupBy,
        groupWaitMs: gw, groupIntervalMs: gi, repeatIntervalMs: ri,
        muteTimeIntervals: timeLists.mute_time_intervals, activeTimeIntervals: timeLists.active_time_intervals,
        routes: children,
      },
    };
  }
  return walk(root, 'route', null, 0);
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
  const value = (n: string): string => (Object.hasOwn(labels, n) ? labels[n] : '');
  return `${route.path}{${names.map((n) => `${n}=${JSON.stringify(value(n))}`).join(',')}}`;
}
