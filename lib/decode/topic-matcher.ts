/** Matches a topic against the contract's topic map, indexed by first segment so a message costs a few comparisons. */
import { ESP32C3_ARCHS, TOPIC_ROUTES, type ProfileName, type TopicRoute } from '../../firmware/contract/topics';

const ARCH: readonly string[] = [...new Set(ESP32C3_ARCHS)];

type Segment =
  | { readonly t: 'lit'; readonly v: string }
  | { readonly t: 'device' }
  | { readonly t: 'arch'; readonly allowed: readonly string[] };

interface CompiledRoute {
  readonly route: TopicRoute;
  /** Segments after a leading {prefix+}, or the whole pattern when there is none. */
  readonly segments: readonly Segment[];
  readonly prefixed: boolean;
  /** The last segment when it is a literal: most topics of a family differ there, so it is compared first. */
  readonly lastLit: string | null;
}

export interface TopicMatch {
  readonly route: TopicRoute;
  readonly device: string | null;
  readonly arch: string | null;
  /** The segments a {prefix+} stood for, joined by `/`. */
  readonly prefix: string | null;
}

function compile(route: TopicRoute): CompiledRoute {
  const parts = route.pattern.split('/');
  const prefixed = parts[0] === '{prefix+}';
  const segments = (prefixed ? parts.slice(1) : parts).map((p): Segment => {
    if (p === '{device}') return { t: 'device' };
    if (p === '{arch}') return { t: 'arch', allowed: ARCH };
    if (p.startsWith('{')) throw new Error(`unknown pattern variable ${p} in ${route.pattern}`);
    return { t: 'lit', v: p };
  });
  const last = segments[segments.length - 1];
  return { route, segments, prefixed, lastLit: last?.t === 'lit' ? last.v : null };
}

export class TopicMatcher {
  private readonly byFirst = new Map<string, CompiledRoute[]>();
  private readonly prefixed: CompiledRoute[] = [];
  /**
   * The prefixed routes by their last segment, when every one ends in a literal: a topic is tried
   * against those that can end it, in the same order, instead of against all of them.
   */
  private byLast: Map<string, CompiledRoute[]> | null = new Map();
  private readonly known = new Set<TopicRoute>();

  constructor(profiles: readonly ProfileName[], includeCommands: boolean) {
    for (const route of TOPIC_ROUTES) {
      if (!profiles.includes(route.profile)) continue;
      if (!includeCommands && route.direction === 'down') continue;
      const c = compile(route);
      this.known.add(route);
      if (c.prefixed) {
        this.prefixed.push(c);
        const last = c.segments[c.segments.length - 1];
        if (last?.t === 'lit' && this.byLast) {
          const list = this.byLast.get(last.v) ?? [];
          list.push(c);
          this.byLast.set(last.v, list);
        } else {
          this.byLast = null;
        }
      } else {
        const first = c.segments[0];
        if (first.t !== 'lit') throw new Error(`route ${route.id} must start with a literal or {prefix+}`);
        const list = this.byFirst.get(first.v) ?? [];
        list.push(c);
        this.byFirst.set(first.v, list);
      }
    }
  }

  /** The routes this matcher knows, in contract order. */
  routes(): TopicRoute[] {
    return TOPIC_ROUTES.filter((r) => this.known.has(r));
  }

  /** The first route the topic matches, or null. */
  match(topic: string): TopicMatch | null {
    return this.matchAll(topic)[0] ?? null;
  }

  /** Every route the topic matches, in contract order; the decoder takes the first whose encoding fits the payload. */
  matchAll(topic: string): TopicMatch[] {
    const out: TopicMatch[] = [];
    // The segments' bounds instead of topic.split('/'): no array and no string per segment, only
    // the segments a match returns (device, prefix) and the two the indexes are looked up by.
    const b = segmentBounds(topic);
    const n = b.count;
    const candidates = this.byFirst.get(topic.slice(0, b.at[1] - 1));
    if (candidates) {
      for (const c of candidates) {
        if (c.segments.length !== n || (c.lastLit !== null && !segmentIs(topic, b.at, n - 1, c.lastLit))) continue;
        const m = matchSegments(c, topic, b.at, 0, false);
        if (m) out.push(m);
      }
    }
    const prefixed = this.byLast ? this.byLast.get(topic.slice(b.at[n - 1], b.at[n] - 1)) : this.prefixed;
    if (prefixed) {
      for (const c of prefixed) {
        const start = n - c.segments.length;
        if (start < 1) continue;
        const m = matchSegments(c, topic, b.at, start, true);
        if (m) out.push(m);
      }
    }
    return out;
  }
}

/** Segment i of a topic spans at[i] .. at[i + 1] - 1 (the slash excluded); reused by every call. */
const bounds = { count: 0, at: new Int32Array(64) };

function segmentBounds(topic: string): { count: number; at: Int32Array } {
  let n = 0;
  let pos = 0;
  for (;;) {
    if (n + 2 > bounds.at.length) { const bigger = new Int32Array(bounds.at.length * 2); bigger.set(bounds.at); bounds.at = bigger; }
    bounds.at[n++] = pos;
    const slash = topic.indexOf('/', pos);
    if (slash < 0) break;
    pos = slash + 1;
  }
  bounds.at[n] = topic.length + 1;
  bounds.count = n;
  return bounds;
}

const segmentIs = (topic: string, at: Int32Array, i: number, lit: string): boolean => at[i + 1] - 1 - at[i] === lit.length && topic.startsWith(lit, at[i]);
const segment = (topic: string, at: Int32Array, i: number): string => topic.slice(at[i], at[i + 1] - 1);

/** `withPrefix`: the segments before `start` are the route's {prefix+}. */
function matchSegments(c: CompiledRoute, topic: string, at: Int32Array, start: number, withPrefix: boolean): TopicMatch | null {
  let device: string | null = null;
  let arch: string | null = null;
  for (let i = 0; i < c.segments.length; i++) {
    const seg = c.segments[i];
    const k = start + i;
    if (seg.t === 'lit') {
      if (!segmentIs(topic, at, k, seg.v)) return null;
    } else if (seg.t === 'arch') {
      // The allowed spelling itself (a constant), not a slice of the topic.
      arch = null;
      for (const a of seg.allowed) if (segmentIs(topic, at, k, a)) { arch = a; break; }
      if (arch === null) return null;
    } else {
      device = segment(topic, at, k);
    }
  }
  return { route: c.route, device, arch, prefix: withPrefix ? topic.slice(0, at[start] - 1) : null };
}
