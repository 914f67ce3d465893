/**
 * Label matchers as Alertmanager writes them: `name=value`, `name!=value`, `name=~regex`,
 * `name!~regex`. Regexes are anchored at both ends, as in Alertmanager; a missing label matches as
 * the empty string.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export interface CompiledMatcher extends Matcher {
  test(labels: Readonly<Record<string, string>>): boolean;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    return v.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  return v;
}

export type MatcherParse = { ok: true; value: Matcher } | { ok: false; reason: string };

export function parseMatcher(text: string): MatcherParse {
  const m = MATCHER.exec(text);
  if (!m) return { ok: false, reason: `${JSON.stringify(text)} is not a matcher (label=value, label!=value, label=~regex, label!~regex)` };
  return { ok: true, value: { name: m[1], op: m[2] as MatchOp, value: unquote(m[3]) } };
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}

export type CompileResult = { ok: true; value: CompiledMatcher } | { ok: false; reason: string };

export function compileMatcher(m: Matcher): CompileResult {
  if (m.op === '=' || m.op === '!=') {
    const want = m.op === '=';
    return { ok: true, value: { ...m, test: (l) => ((l[m.name] ?? '') === m.value) === want } };
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${m.value})$`);
  } catch (err) {
    return { ok: false, reason: `regex ${JSON.stringify(m.value)} does not compile: ${(err as Error).message}` };
  }
  const want = m.op === '=~';
  return { ok: true, value: { ...m, test: (l) => re.test(l[m.name] ?? '') === want } };
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) if (!m.test(labels)) return false;
  return true;
}

export type MatcherListResult = { ok: true; value: CompiledMatcher[] } | { ok: false; index: number | null; reason: string };

/** A list of matcher strings as routes, inhibit rules, silences and escalations take them. */
export function compileMatcherList(list: unknown): MatcherListResult {
  if (!Array.isArray(list)) return { ok: false, index: null, reason: 'must be a list of matchers such as ["severity=critical", "site=~north|south"]' };
  const out: CompiledMatcher[] = [];
  for (const [i, text] of list.entries()) {
    const p = typeof text === 'string' ? parseMatcher(text) : { ok: false as const, reason: 'must be a string' };
    if (!p.ok) return { ok: false, index: i, reason: p.reason };
    const c = compileMatcher(p.value);
    if (!c.ok) return { ok: false, index: i, reason: c.reason };
    out.push(c.value);
  }
  return { ok: true, value: out };
}
