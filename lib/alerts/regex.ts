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

export function compileAnchored(pattern: string): RegexResult {
  if (pattern.length > MAX_REGEX_LENGTH) return { ok: false, reason: `regex is ${pattern.length} characters; at most ${MAX_REGEX_LENGTH}` };
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?:${pattern})$`);
  } catch (err) {
    return { ok: false, reason: `regex ${JSON.stringify(pattern)} does not compile: ${err instanceof Error ? err.message : String(err)}` };
  }
  // An unanchored search of the wrapped pattern, as Go's MatchString does: `a)|(b` means what it
  // means in Alertmanager.
  return { ok: true, test: (s) => re.test(s) };
}
