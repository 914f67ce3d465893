/**
 * The MQTT topic filters (`mqtt in` subscriptions) that bring a decoder everything its profiles
 * read, derived from the topic map so a flow cannot listen on a topic the contract does not have.
 */
import { DEVICE_KINDS, PROFILES, TOPIC_ROUTES, type DeviceKind, type ProfileName, type TopicRoute } from './topics';

export interface SubscriptionOptions {
  /** The decoder's profiles; all of them unless said. */
  readonly profiles?: readonly ProfileName[];
  /** Also the topics the server sends (commands, configuration, OTA): fleet-decode's `includeCommands`. */
  readonly downlink?: boolean;
  /** The device kinds the decoder accepts; routes that name no kind (OTA, configuration) are always in. */
  readonly kinds?: readonly DeviceKind[];
  /** The prefixes of {prefix+} layouts; each route's `defaultPrefix` unless said. */
  readonly prefixes?: readonly string[];
}

/** What fleet-decode does unless configured: every profile, commands included. */
export const DECODER_SUBSCRIPTION_DEFAULTS: Required<Omit<SubscriptionOptions, 'prefixes'>> = {
  profiles: PROFILES, downlink: true, kinds: DEVICE_KINDS,
};

/** One filter per pattern: a variable becomes `+`; a {prefix+} becomes each prefix. */
function routeFilters(r: TopicRoute, prefixes: readonly string[] | undefined): string[] {
  const rest = r.pattern.replace(/\{(device|arch)\}/g, '+');
  if (!rest.startsWith('{prefix+}')) return [rest];
  const own = prefixes ?? (r.defaultPrefix !== undefined ? [r.defaultPrefix] : []);
  return own.map((p) => rest.replace('{prefix+}', p));
}

function selected(r: TopicRoute, o: SubscriptionOptions): boolean {
  const profiles = o.profiles ?? DECODER_SUBSCRIPTION_DEFAULTS.profiles;
  const kinds = o.kinds ?? DECODER_SUBSCRIPTION_DEFAULTS.kinds;
  return profiles.includes(r.profile) && ((o.downlink ?? DECODER_SUBSCRIPTION_DEFAULTS.downlink) || r.direction === 'up') && (r.deviceKind === null || kinds.includes(r.deviceKind));
}

/** Whether a topic filter matches a topic (MQTT 3.1.1 §4.7: `+` one level, `#` the rest, parent included). */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether one filter admits every topic the other does. */
function covers(wide: string, narrow: string): boolean {
  const w = wide.split('/');
  const n = narrow.split('/');
  for (let i = 0; i < w.length; i++) {
    if (w[i] === '#') return true;
    if (i >= n.length || n[i] === '#') return false;
    if (w[i] !== '+' && (n[i] === '+' || w[i] !== n[i])) return false;
  }
  return w.length === n.length;
}

/** Whether some topic matches both filters. */
function overlaps(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === '#' || y[i] === '#') return true;
    if (x[i] === undefined || y[i] === undefined) return false;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
  return true;
}

/**
 * Folds filters that differ in one level into one with `+` there (`esp32c3/+/+/sensor` and
 * `esp32c3/+/+/status` into `esp32c3/+/+/+`) while that admits no unwanted route.
 */
function fold(filters: readonly string[], clean: (f: string) => boolean): string[] {
  let list = [...new Set(filters)];
  for (let changed = true; changed;) {
    changed = false;
    search: for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i].split('/');
        const b = list[j].split('/');
        if (a.length !== b.length) continue;
        const diff = a.flatMap((seg, k) => (seg === b[k] ? [] : [k]));
        if (diff.length !== 1) continue;
        a[diff[0]] = '+';
        const merged = a.join('/');
        if (!clean(merged)) continue;
        list = [...list.filter((f) => !covers(merged, f)), merged];
        changed = true;
        break search;
      }
    }
  }
  return list.filter((f) => !list.some((g) => g !== f && covers(g, f)));
}

/**
 * The filters for a decoder's options, sorted. A first segment every route under which is wanted
 * becomes one `first/#` (so `esp32/#` when commands are in, one filter per uplink route when they are not); a filter
 * another one covers is dropped.
 */
export function subscriptionsFor(options: SubscriptionOptions = {}): string[] {
  const wanted = new Set<string>();
  const unwanted = new Set<string>();
  for (const r of TOPIC_ROUTES) {
    for (const f of routeFilters(r, options.prefixes)) (selected(r, options) ? wanted : unwanted).add(f);
  }
  const byFirst = new Map<string, string[]>();
  for (const f of wanted) {
    const first = f.split('/')[0];
    byFirst.set(first, [...(byFirst.get(first) ?? []), f]);
  }
  const out: string[] = [];
  for (const [first, filters] of byFirst) {
    // A filter is clean when every unwanted route it admits is also a wanted one's (same pattern twice).
    const clean = (f: string): boolean => ![...unwanted].some((u) => overlaps(f, u) && !wanted.has(u));
    const whole = `${first}/#`;
    if (filters.length > 1 && clean(whole)) out.push(whole);
    else out.push(...fold(filters, clean));
  }
  return out.sort();
}
