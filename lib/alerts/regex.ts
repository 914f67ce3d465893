/**
 * Every user-supplied regex (routes, inhibit rules, silences, escalations) goes through RE2
 * (`re2js`, a pure-JavaScript port): Go's syntax, which is Alertmanager's (`(?i)`, `(?s)`, `\z`,
 * `\A`, `(?P<name>…)`, `\Q…\E`, `[[:alpha:]]`), and matching in time linear in the input, so a
 * pattern such as `(a+)+` cannot hold the event loop. Anchored as Alertmanager anchors: `^(?:re)$`.
 */
import { RE2JS } from 're2js';

/** Longer patterns are refused before compiling: RE2's compile cost grows with the pattern. */
export const MAX_REGEX_LENGTH = 4096;

export type RegexResult = { ok: true; test: (s: string) => boolean } | { ok: false; reason: string };

/** Letters, digits, `_` and `-` separated by `|`: a regex that is a list of values. */
const LITERAL_ALTERNATION = /^[A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)*$/;

export function compileAnchored(pattern: string): RegexResult {
  if (typeof pattern !== 'string') return { ok: false, reason: 'a regex is text' };
  if (pattern.length > MAX_REGEX_LENGTH) return { ok: false, reason: `regex is ${pattern.length} characters; at most ${MAX_REGEX_LENGTH}` };
  let wrapped: RE2JS;
  try {
    wrapped = RE2JS.compile(`^(?:${pattern})$`);
  } catch (err) {
    return { ok: false, reason: `regex ${JSON.stringify(pattern)} does not compile: ${err instanceof Error ? err.message : String(err)}` };
  }
  // `critical|major`, the commonest routing regex, is a set of values: the same answer, faster.
  if (LITERAL_ALTERNATION.test(pattern)) {
    const values = new Set(pattern.split('|'));
    return { ok: true, test: (s) => values.has(s) };
  }
  // A pattern that compiles on its own is balanced, so `^(?:re)$` is a whole-string match of it,
  // which RE2's testExact answers faster. One that only compiles wrapped (`a)|(b`) means what it
  // means to Go's MatchString: an unanchored search of the wrapped text.
  let bare: RE2JS | null;
  try { bare = RE2JS.compile(pattern); } catch { bare = null; }
  if (bare) {
    const re = bare;
    return { ok: true, test: (s) => re.testExact(s) };
  }
  return { ok: true, test: (s) => wrapped.test(s) };
}
