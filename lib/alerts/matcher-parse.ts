/**
 * Alertmanager's two matcher parsers, rewritten from their grammar (not translated line by line):
 * the UTF-8 parser of `matcher/parse/` (quoted names and values with Go string escapes, errors
 * with `start:end` columns) and the classic parser of `pkg/labels/parse.go` (a tolerant split on
 * commas outside quotes). `parseMatcherText` chooses between them as Alertmanager's default
 * "fallback" mode does (`matcher/compat/parse.go`). Both run in one pass over the input: no
 * backtracking regex, so a long run of spaces costs what its length costs.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export type MatchersParse = { ok: true; value: Matcher[] } | { ok: false; reason: string };

const fail = (reason: string): MatchersParse => ({ ok: false, reason });

/** Lone UTF-16 surrogates are what invalid UTF-8 becomes in a JavaScript string. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

// ---- UTF-8 parser (matcher/parse/lexer.go, parse.go, token.go) ----

type Kind = 'eof' | '{' | '}' | ',' | '=' | '!=' | '=~' | '!~' | 'quoted' | 'unquoted';

interface Token {
  kind: Kind;
  value: string;
  /** Columns count code points, as the upstream lexer counts runes. */
  colStart: number;
  colEnd: number;
}

const RESERVED = new Set(['{', '}', '!', '=', '~', ',', '\\', '"', "'", '`']);
/** Go's unicode.IsSpace. */
const isSpace = (c: string): boolean => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(c);
const isReserved = (c: string): boolean => RESERVED.has(c) || isSpace(c);

class LexError {
  constructor(readonly message: string) {}
}

class Lexer {
  private start = 0;
  private pos = 0;
  private width = 0;
  private column = 0;
  private cols = 0;
  private err: LexError | null = null;

  constructor(private readonly input: string) {}

  get cursorColumn(): number { return this.cols; }

  private next(): string | null {
    if (this.pos >= this.input.length) { this.width = 0; return null; }
    const cp = this.input.codePointAt(this.pos) as number;
    this.width = cp > 0xffff ? 2 : 1;
    const c = this.input.slice(this.pos, this.pos + this.width);
    this.pos += this.width;
    this.cols++;
    return c;
  }

  private rewind(): void {
    this.pos -= this.width;
    if (this.width > 0) this.cols--;
  }

  private emit(kind: Kind): Token {
    const t: Token = { kind, value: this.input.slice(this.start, this.pos), colStart: this.column, colEnd: this.cols };
    this.start = this.pos;
    this.column = this.cols;
    return t;
  }

  private accept(valid: string): boolean {
    const c = this.next();
    if (c !== null && valid.includes(c)) return true;
    this.rewind();
    return false;
  }

  private expected(valid: string): LexError {
    const at = `${this.column}:${this.cols}`;
    if (this.pos >= this.input.length) return new LexError(`${at}: unexpected end of input, expected one of '${valid}'`);
    return new LexError(`${at}: ${this.input.slice(this.start, this.pos)}: expected one of '${valid}'`);
  }

  scan(): Token | LexError {
    if (this.err) return this.err;
    for (let c = this.next(); c !== null; c = this.next()) {
      if (c === '{' || c === '}' || c === ',') return this.emit(c);
      if (c === '=' || c === '!') { this.rewind(); return this.record(this.scanOperator()); }
      if (c === '"') { this.rewind(); return this.record(this.scanQuoted()); }
      if (!isReserved(c)) { this.rewind(); return this.scanUnquoted(); }
      if (isSpace(c)) { this.start = this.pos; this.column = this.cols; continue; }
      return this.record(new LexError(`${this.column}:${this.cols}: ${this.input.slice(this.start, this.pos)}: invalid input`));
    }
    return { kind: 'eof', value: '', colStart: this.column, colEnd: this.cols };
  }

  peek(): Token | LexError {
    const saved = [this.start, this.pos, this.width, this.column, this.cols] as const;
    const t = this.scan();
    [this.start, this.pos, this.width, this.column, this.cols] = saved;
    return t;
  }

  private record(t: Token | LexError): Token | LexError {
    if (t instanceof LexError) this.err = t;
    return t;
  }

  private scanOperator(): Token | LexError {
    if (this.accept('!')) {
      if (this.accept('=')) return this.emit('!=');
      if (this.accept('~')) return this.emit('!~');
      return this.expected('=~');
    }
    if (this.accept('=')) return this.emit(this.accept('~') ? '=~' : '=');
    return this.expected('!=');
  }

  private scanQuoted(): Token | LexError {
    this.next(); // the opening quote
    let escaped = false;
    for (let c = this.next(); c !== null; c = this.next()) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') { this.rewind(); break; }
    }
    if (!this.accept('"')) return new LexError(`${this.column}:${this.cols}: ${this.input.slice(this.start, this.pos)}: missing end "`);
    return this.emit('quoted');
  }

  private scanUnquoted(): Token {
    for (let c = this.next(); c !== null; c = this.next()) {
      if (isReserved(c)) { this.rewind(); break; }
    }
    return this.emit('unquoted');
  }
}

const HEX = /^[0-9a-fA-F]+$/;
const SIMPLE_ESCAPES = new Map([['a', 7], ['b', 8], ['f', 12], ['n', 10], ['r', 13], ['t', 9], ['v', 11], ['\\', 92], ['"', 34]]);
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Go's strconv.Unquote for a double-quoted string, then the UTF-8 check of token.unquote. */
function goUnquote(quoted: string): string | null {
  const body = quoted.slice(1, -1);
  if (body.includes('\n')) return null;
  if (!body.includes('\\')) return body;
  const bytes: number[] = [];
  const pushText = (s: string): void => { for (const b of Buffer.from(s, 'utf8')) bytes.push(b); };
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (c !== '\\') {
      const cp = body.codePointAt(i) as number;
      const w = cp > 0xffff ? 2 : 1;
      pushText(body.slice(i, i + w));
      i += w;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) return null;
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) { bytes.push(simple); i += 2; continue; }
    if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const digits = body.slice(i + 2, i + 2 + n);
      if (digits.length !== n || !HEX.test(digits)) return null;
      const v = parseInt(digits, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
      else pushText(String.fromCodePoint(v));
      i += 2 + n;
      continue;
    }
    if (e >= '0' && e <= '7') {
      const digits = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits)) return null;
      const v = parseInt(digits, 8);
      if (v > 255) return null;
      bytes.push(v);
      i += 4;
      continue;
    }
    return null;
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

function tokenText(t: Token): string | null {
  return t.kind === 'quoted' ? goUnquote(t.value) : t.value;
}

const OPS = new Set<Kind>(['=', '!=', '=~', '!~']);

/** `matcher/parse.Matchers`: zero or more matchers, optionally in braces. */
export function parseUtf8Matchers(input: string): MatchersParse {
  const l = new Lexer(input);
  const out: Matcher[] = [];
  const err = (t: Token | LexError): string => (t instanceof LexError ? t.message : t.kind === 'eof' ? 'end of input' : `${t.colStart}:${t.colEnd}: unexpected ${t.value}`);
  const isEof = (t: Token | LexError): boolean => !(t instanceof LexError) && t.kind === 'eof';

  let first = l.peek();
  if (isEof(first)) return parseEof();
  if (first instanceof LexError) return fail(first.message);
  const hasOpenBrace = first.kind === '{';
  if (hasOpenBrace) {
    l.scan();
    first = l.peek();
    if (first instanceof LexError) return fail(first.message);
    if (first.kind === 'eof' || first.kind === '}') return parseCloseBrace();
  } else if (first.kind === '}') {
    return parseCloseBrace();
  }

  for (;;) {
    // a matcher: name, operator, value
    const name = l.scan();
    if (name instanceof LexError || (name.kind !== 'quoted' && name.kind !== 'unquoted')) return fail(`${err(name)}: expected label name`);
    const nameText = tokenText(name);
    if (nameText === null) return fail(`${name.colStart}:${name.colEnd}: ${name.value}: invalid input`);
    const op = l.scan();
    if (op instanceof LexError || !OPS.has(op.kind)) return fail(`${err(op)}: expected an operator such as '=', '!=', '=~' or '!~'`);
    const value = l.scan();
    if (value instanceof LexError || (value.kind !== 'quoted' && value.kind !== 'unquoted')) return fail(`${err(value)}: expected label value`);
    const valueText = tokenText(value);
    if (valueText === null) return fail(`${value.colStart}:${value.colEnd}: ${value.value}: invalid input`);
    out.push({ name: nameText, op: op.kind as MatchOp, value: valueText });

    // the end of a matcher: a comma, a close brace or the end
    const end = l.peek();
    if (isEof(end)) return parseCloseBrace();
    if (end instanceof LexError || (end.kind !== ',' && end.kind !== '}')) return fail(`${err(end)}: expected a comma or close brace`);
    if (end.kind === '}') return parseCloseBrace();
    l.scan();
    const after = l.peek();
    if (isEof(after)) return parseCloseBrace();
    if (after instanceof LexError || (after.kind !== '}' && after.kind !== 'quoted' && after.kind !== 'unquoted')) return fail(`${err(after)}: expected a matcher or close brace after comma`);
    if (after.kind === '}') return parseCloseBrace();
  }

  function parseCloseBrace(): MatchersParse {
    const t = l.peek();
    const isClose = !(t instanceof LexError) && t.kind === '}';
    if (hasOpenBrace) {
      if (!isClose) return fail(`0:${l.cursorColumn}: ${err(t)}: expected close brace`);
      l.scan();
    } else if (isClose) {
      l.scan();
      return fail(`0:${l.cursorColumn}: }: expected opening brace`);
    }
    return parseEof();
  }

  function parseEof(): MatchersParse {
    const t = l.scan();
    if (t instanceof LexError) return fail(`${t.message}: expected end of input`);
    if (t.kind !== 'eof') return fail(`${t.colStart}:${t.colEnd}: ${t.value}: expected end of input`);
    return { ok: true, value: out };
  }
}

// ---- classic parser (pkg/labels/parse.go) ----

/** Go's `\s` in RE2: ASCII space, \t, \n, \f, \r (not \v). */
const isGoRegexSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
const isNameStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':';
const isNameChar = (c: string): boolean => isNameStart(c) || (c >= '0' && c <= '9');

/** `labels.ParseMatcher`: `name op value`, the value optionally in double quotes. */
export function parseClassicMatcher(s: string): { ok: true; value: Matcher } | { ok: false; reason: string } {
  const bad = { ok: false as const, reason: `bad matcher format: ${s}` };
  let i = 0;
  while (isGoRegexSpace(s[i])) i++;
  const nameStart = i;
  if (i >= s.length || !isNameStart(s[i])) return bad;
  while (i < s.length && isNameChar(s[i])) i++;
  const name = s.slice(nameStart, i);
  while (isGoRegexSpace(s[i])) i++;
  let op: MatchOp;
  if (s.startsWith('=~', i)) op = '=~';
  else if (s.startsWith('=', i)) op = '=';
  else if (s.startsWith('!=', i)) op = '!=';
  else if (s.startsWith('!~', i)) op = '!~';
  else return bad;
  i += op.length;
  while (isGoRegexSpace(s[i])) i++;
  let end = s.length;
  while (end > i && isGoRegexSpace(s[end - 1])) end--;
  const raw = s.slice(i, end);

  let rest = raw;
  let expectTrailingQuote = false;
  if (rest.startsWith('"')) { rest = rest.slice(1); expectTrailingQuote = true; }
  if (!isWellFormed(rest)) return { ok: false, reason: `matcher value not valid UTF-8: ${raw}` };
  const unescaped = { ok: false as const, reason: `matcher value contains unescaped double quote: ${raw}` };
  let value = '';
  let escaped = false;
  for (let j = 0; j < rest.length; j++) {
    const c = rest[j];
    if (escaped) {
      escaped = false;
      value += c === 'n' ? '\n' : c === '"' || c === '\\' ? c : `\\${c}`;
      continue;
    }
    if (c === '\\') {
      if (j < rest.length - 1) { escaped = true; continue; }
      value += '\\';
    } else if (c === '"') {
      if (!expectTrailingQuote || j < rest.length - 1) return unescaped;
      expectTrailingQuote = false;
    } else {
      value += c;
    }
  }
  if (expectTrailingQuote) return unescaped;
  return { ok: true, value: { name, op, value } };
}

/** Go's strings.TrimSpace (Unicode white space). */
const trimGoSpace = (s: string): string => {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a])) a++;
  while (b > a && isSpace(s[b - 1])) b--;
  return s.slice(a, b);
};

/** `labels.ParseMatchers`: optional braces, matchers split on commas outside double quotes. */
export function parseClassicMatchers(input: string): MatchersParse {
  let s = input.startsWith('{') ? input.slice(1) : input;
  if (s.endsWith('}')) s = s.slice(0, -1);
  const tokens: string[] = [];
  let inside = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ',' && !inside) { tokens.push(s.slice(start, i)); start = i + 1; continue; }
    if (c === '"') { if (!escaped) inside = !inside; else escaped = false; } else if (c === '\\') escaped = !escaped; else escaped = false;
  }
  const last = trimGoSpace(s.slice(start));
  if (last !== '') tokens.push(last);
  const out: Matcher[] = [];
  for (const t of tokens) {
    const m = parseClassicMatcher(t);
    if (!m.ok) return m;
    out.push(m.value);
  }
  return { ok: true, value: out };
}

// ---- the choice Alertmanager makes ----

const same = (a: readonly Matcher[], b: readonly Matcher[]): boolean =>
  a.length === b.length && a.every((m, i) => m.name === b[i].name && m.op === b[i].op && m.value === b[i].value);

/**
 * One line of a `matchers` list, read as Alertmanager reads configuration by default: the UTF-8
 * parser first; where only the classic parser accepts the line, or the two disagree, the classic
 * reading wins; where neither does, both errors are given (the UTF-8 one has the column).
 */
export function parseMatcherText(input: string): MatchersParse {
  if (!isWellFormed(input)) return fail('is not valid UTF-8 (a lone surrogate)');
  const utf8 = parseUtf8Matchers(input);
  const classic = parseClassicMatchers(input);
  if (classic.ok && (!utf8.ok || !same(utf8.value, classic.value))) return classic;
  if (utf8.ok) return utf8;
  return fail(`${(classic as { reason: string }).reason} (as a UTF-8 matcher: ${utf8.reason})`);
}
