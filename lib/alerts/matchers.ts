/**
 * Label matchers as Alertmanager writes them: `name=value`, `name!=value`, `name=~regex`,
 * `name!~regex`, one or several on a line (`{owner="team-A", x=~"y"}`), read by Alertmanager's
 * own rules (see matcher-parse.ts). Regexes are RE2, anchored at both ends (see regex.ts); a
 * missing label matches as the empty string.
 */
import { parseMatcherText, type MatchOp, type Matcher } from './matcher-parse';
import { compileAnchored } from './regex';

export { parseClassicMatchers, parseUtf8Matchers, parseMatcherText, type MatchOp, type Matcher, type MatchersParse } from './matcher-parse';

export interface CompiledMatcher extends Matcher {
  test(labels: Readonly<Record<string, string>>): boolean;
}

/** Bounds on what a matcher list may hold, so a pasted document cannot grow without end. */
export const MATCHER_LIMITS = { lineLength: 8192, lines: 256 } as const;

export type MatcherParse = { ok: true; value: Matcher } | { ok: false; reason: string };

/** Exactly one matcher (Alertmanager's compat.Matcher). */
export function parseMatcher(text: string): MatcherParse {
  if (typeof text !== 'string') return { ok: false, reason: 'must be a string' };
  if (text.length > MATCHER_LIMITS.lineLength) return { ok: false, reason: `is ${text.length} characters; at most ${MATCHER_LIMITS.lineLength}` };
  const p = parseMatcherText(text);
  if (!p.ok) return p;
  if (p.value.length !== 1) return { ok: false, reason: p.value.length === 0 ? 'no matchers' : `expected 1 matcher, found ${p.value.length}` };
  return { ok: true, value: p.value[0] };
}

const OPS: ReadonlySet<string> = new Set<MatchOp>(['=', '!=', '=~', '!~']);

/** As Alertmanager prints a matcher: the value always quoted, with OpenMetrics escapes. */
export function formatMatcher(m: Matcher): string {
  const esc = (s: string): string => s.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
  const reserved = /[\s{}!=~,\\"'`]/u.test(m.name);
  return `${reserved ? JSON.stringify(m.name) : m.name}${m.op}"${esc(m.value)}"`;
}

export type CompileResult = { ok: true; value: CompiledMatcher } | { ok: false; reason: string };

/** A label's value, never an Object.prototype member: a label named `constructor` is just absent. */
const labelValue = (l: Readonly<Record<string, string>>, name: string): string => (Object.hasOwn(l, name) && typeof l[name] === 'string' ? l[name] : '');

export function compileMatcher(m: Matcher): CompileResult {
  if (m === null || typeof m !== 'object' || typeof m.name !== 'string' || typeof m.value !== 'string' || !OPS.has(m.op)) {
    return { ok: false, reason: 'a matcher has a name, an operator (=, !=, =~, !~) and a value' };
  }
  const { name, op, value } = m;
  if (op === '=' || op === '!=') {
    const want = op === '=';
    return { ok: true, value: { name, op, value, test: (l) => (labelValue(l, name) === value) === want } };
  }
  const re = compileAnchored(value);
  if (!re.ok) return re;
  const want = op === '=~';
  return { ok: true, value: { name, op, value, test: (l) => re.test(labelValue(l, name)) === want } };
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) if (!m.test(labels)) return false;
  return true;
}

export type MatcherListResult = { ok: true; value: CompiledMatcher[] } | { ok: false; index: number | null; reason: string };

/**
 * A list of matcher lines as routes, inhibit rules, silences and escalations take them; a line may
 * hold several matchers (`{a="b", c=~"d"}`), as in Alertmanager. `index` names the line at fault.
 */
export function compileMatcherList(list: unknown): MatcherListResult {
  if (!Array.isArray(list)) return { ok: false, index: null, reason: 'must be a list of matchers such as ["severity=critical", "site=~north|south"]' };
  if (list.length > MATCHER_LIMITS.lines) return { ok: false, index: null, reason: `has ${list.length} lines; at most ${MATCHER_LIMITS.lines}` };
  const out: CompiledMatcher[] = [];
  for (let i = 0; i < list.length; i++) {
    const text: unknown = list[i];
    if (typeof text !== 'string') return { ok: false, index: i, reason: 'must be a string' };
    if (text.length > MATCHER_LIMITS.lineLength) return { ok: false, index: i, reason: `is ${text.length} characters; at most ${MATCHER_LIMITS.lineLength}` };
    const p = parseMatcherText(text);
    if (!p.ok) return { ok: false, index: i, reason: p.reason };
    for (const m of p.value) {
      const c = compileMatcher(m);
      if (!c.ok) return { ok: false, index: i, reason: c.reason };
      out.push(c.value);
    }
  }
  return { ok: true, value: out };
}
