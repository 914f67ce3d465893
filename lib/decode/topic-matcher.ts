/** Matches a topic against the contract's topic map, indexed by first segment so a message costs a few comparisons. */
import { ESP32C3_ARCHS, TOPIC_ROUTES, type ProfileName, type TopicRoute } from '../../firmware/contract/topics';

const ARCH: ReadonlySet<string> = new Set(ESP32C3_ARCHS);

type Segment =
  | { readonly t: 'lit'; readonly v: string }
  | { readonly t: 'device' }
  | { readonly t: 'arch'; readonly allowed: ReadonlySet<string> };

interface CompiledRoute {
  readonly route: TopicRoute;
  /** Segments after a leading {prefix+}, or the whole pattern when there is none. */
  readonly segments: readonly Segment[];
  readonly prefixed: boolean;
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
  return { route, segments, prefixed };
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
    const parts = topic.split('/');
    const candidates = this.byFirst.get(parts[0]);
    if (candidates) {
      for (const c of candidates) {
        if (c.segments.length !== parts.length) continue;
        const m = matchSegments(c, parts, 0, false);
        if (m) out.push(m);
      }
    }
    const prefixed = this.byLast ? this.byLast.get(parts[parts.length - 1]) : this.prefixed;
    if (prefixed) {
      for (const c of prefixed) {
        const start = parts.length - c.segments.length;
        if (start < 1) continue;
        const m = matchSegments(c, parts, start, true);
        if (m) out.push(m);
      }
    }
    return out;
  }
}

/** `withPrefix`: the segments before `start` are the route's {prefix+}. */
function matchSegments(c: CompiledRoute, parts: readonly string[], start: number, withPrefix: boolean): TopicMatch | null {
  let device: string | null = null;
  let arch: string | null = null;
  for (let i = 0; i < c.segments.length; i++) {
    const seg = c.segments[i];
    const part = parts[start + i];
    if (seg.t === 'lit') {
      if (seg.v !== part) return null;
    } else if (seg.t === 'arch') {
      if (!seg.allowed.has(part)) return null;
      arch = part;
    } else {
      device = part;
    }
  }
  return { route: c.route, device, arch, prefix: withPrefix ? parts.slice(0, start).join('/') : null };
}
