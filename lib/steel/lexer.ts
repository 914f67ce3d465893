/**
 * Steel's lexer, rebuilt from mattwparas/steel crates/steel-parser/src/lexer.rs (commit
 * 09dc028718281d3a398c9f567b3576f156f2b644): the same token kinds, the same word boundaries, the
 * same string escapes, character names, number syntax and errors. Every token and error carries a
 * 1-based line and column (columns count UTF-16 code units, as editors do). One pass, no regular
 * expression that can backtrack over the input, so the cost is linear in its length.
 */

export type Paren = 'round' | 'square' | 'curly';
export type ParenMod = 'vector' | 'bytes';

export interface Position {
  readonly offset: number;
  readonly line: number;
  readonly col: number;
}

export type NumberValue =
  /** text: the digits without the radix prefix, in `radix`. */
  | { readonly type: 'int'; readonly text: string; readonly radix: number }
  | { readonly type: 'rational'; readonly text: string; readonly radix: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'complex'; readonly text: string };

export type TokenKind =
  | { readonly kind: 'open'; readonly paren: Paren; readonly mod: ParenMod | null }
  | { readonly kind: 'close'; readonly paren: Paren }
  | { readonly kind: 'quote' | 'quasiquote' | 'unquote' | 'unquote-splicing' }
  | { readonly kind: 'quote-syntax' | 'quasiquote-syntax' | 'unquote-syntax' | 'unquote-splicing-syntax' }
  | { readonly kind: 'datum-comment' }
  | { readonly kind: 'comment' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'char'; readonly value: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: NumberValue }
  | { readonly kind: 'keyword'; readonly name: string }
  | { readonly kind: 'identifier'; readonly name: string }
  | { readonly kind: 'dot' };

/** A token; its source text is `source.slice(start.offset, end)` (not kept: most tokens never need it). */
export type Token = TokenKind & { readonly start: Position; readonly end: number };

export class SteelSyntaxError extends Error {
  override readonly name = 'SteelSyntaxError';
  constructor(message: string, readonly at: Position, readonly related?: { readonly message: string; readonly at: Position }) {
    super(`${at.line}:${at.col}: ${message}`);
  }
}

const isWhitespace = (c: string): boolean => /\s/u.test(c);
const WS = new Set([' ', '\t', '\n', '\r', '\f', '\v']);
const ws = (c: string | undefined): boolean => c !== undefined && (WS.has(c) || (c > '\x7f' && isWhitespace(c)));
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** ASCII characters that end a word (read_word): brackets, quotes, ; , and whitespace. */
const WORD_END = new Uint8Array(128);
for (const c of '()[]{}\'"`;, \t\n\r\f\v') WORD_END[c.charCodeAt(0)] = 1;

const CHAR_NAMES = new Map<string, string>([
  ['alarm', '\x07'], ['backspace', '\x08'], ['delete', '\x7f'], ['escape', '\x1b'], ['newline', '\n'],
  ['null', '\0'], ['return', '\r'], ['space', ' '], ['tab', '\t'],
]);

/** Keywords of the lexer that are still identifiers to a reader: Steel lexes them as their own kinds. */
export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly src: string) {
    // A leading `#!` line is skipped whole, as strip_shebang_line does.
    if (src.startsWith('#!')) {
      const nl = src.indexOf('\n');
      this.pos = nl < 0 ? src.length : nl;
    }
  }

  position(offset = this.pos): Position {
    // Only called for the current token start or a position already passed on this line.
    return { offset, line: this.line, col: offset - this.lineStart + 1 };
  }

  private peek(k = 0): string | undefined {
    const i = this.pos + k;
    return i < this.src.length ? this.src[i] : undefined;
  }

  private eat(): string | undefined {
    if (this.pos >= this.src.length) return undefined;
    const c = this.src[this.pos++];
    if (c === '\n') { this.line++; this.lineStart = this.pos; }
    return c;
  }

  private fail(message: string, at: Position): never {
    throw new SteelSyntaxError(message, at);
  }

  /** The next token, or null at the end. Throws SteelSyntaxError on a lexical error. */
  next(): Token | null {
    for (;;) {
      const code = this.src.charCodeAt(this.pos);
      if (code === 32 || code === 9 || code === 13) this.pos++;
      else if (code === 10) this.eat();
      else if (code === 12 || code === 11 || (code >= 128 && ws(this.src[this.pos]))) this.eat();
      else break;
    }
    if (this.pos >= this.src.length) return null;
    const start = this.position();
    // Properties added to the kind object, not spread into a new one: spreading objects of a
    // dozen shapes takes V8's slow path, which was most of the lexer's time.
    const token = this.read(start) as { start?: Position; end?: number };
    token.start = start;
    token.end = this.pos;
    return token as Token;
  }

  private read(start: Position): TokenKind {
    const c = this.peek() as string;
    switch (c) {
      case ';':
        while (this.pos < this.src.length && this.eat() !== '\n') { /* to end of line */ }
        return { kind: 'comment' };
      case '"': return this.readString(start);
      case '(': case '[': case '{':
        this.eat();
        return { kind: 'open', paren: c === '(' ? 'round' : c === '[' ? 'square' : 'curly', mod: null };
      case ')': case ']': case '}':
        this.eat();
        return { kind: 'close', paren: c === ')' ? 'round' : c === ']' ? 'square' : 'curly' };
      case '\'': this.eat(); return { kind: 'quote' };
      case '`': this.eat(); return { kind: 'quasiquote' };
      case ',':
        this.eat();
        if (this.peek() === '@') { this.eat(); return { kind: 'unquote-splicing' }; }
        return { kind: 'unquote' };
      case '#': return this.readHash(start);
      default: return this.readWord(start);
    }
  }

  private readHash(start: Position): TokenKind {
    const n = this.peek(1);
    if (n === '|') { this.eat(); this.eat(); return this.readNestedComment(start); }
    if (n === ';') { this.eat(); this.eat(); return { kind: 'datum-comment' }; }
    if (n === '#') { this.eat(); this.eat(); this.fail('unexpected char \'#\'', start); }
    if (n === '<' && this.peek(2) === '<') { this.eat(); this.eat(); this.eat(); return this.readHereString(start); }
    if (n !== undefined && 'xXdDoObB'.includes(n)) return this.readWord(start);
    if (n === '\\') return this.readChar(start);
    if (n === '(') { this.eat(); this.eat(); return { kind: 'open', paren: 'round', mod: 'vector' }; }
    if (n === 'u' && this.peek(2) === '8' && this.peek(3) === '(') {
      this.eat(); this.eat(); this.eat(); this.eat();
      return { kind: 'open', paren: 'round', mod: 'bytes' };
    }
    // read_hash_value: the word runs to a paren or whitespace, and takes one trailing quote mark.
    const from = this.pos;
    this.eat();
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '(' || c === '[' || c === ')' || c === ']' || ws(c)) break;
      if (c === '\'' || c === '`') { this.eat(); break; }
      if (c === ',') { this.eat(); if (this.peek() === '@') this.eat(); break; }
      this.eat();
    }
    const s = this.src.slice(from, this.pos);
    switch (s) {
      case '#t': case '#true': return { kind: 'boolean', value: true };
      case '#f': case '#false': return { kind: 'boolean', value: false };
      case '#\'': return { kind: 'quote-syntax' };
      case '#`': return { kind: 'quasiquote-syntax' };
      case '#,': return { kind: 'unquote-syntax' };
      case '#,@': return { kind: 'unquote-splicing-syntax' };
      default: break;
    }
    if (s.startsWith('#:')) return { kind: 'keyword', name: s };
    // Anything else is an identifier to Steel (read_word on the rest): `#foo`.
    this.pos = from;
    this.restorePosition(start);
    return this.readWord(start);
  }

  private restorePosition(start: Position): void {
    this.line = start.line;
    this.lineStart = start.offset - start.col + 1;
  }

  private readChar(start: Position): TokenKind {
    this.eat(); this.eat(); // #\
    if (this.pos >= this.src.length) this.fail('invalid character', start);
    // The first character after #\ is always part of the literal, even a paren or a space.
    const first = this.src.codePointAt(this.pos) as number;
    const firstLen = first > 0xffff ? 2 : 1;
    for (let i = 0; i < firstLen; i++) this.eat();
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '(' || c === '[' || c === ')' || c === ']' || ws(c)) break;
      if (c === '\\') { this.eat(); this.eat(); continue; }
      if (c === '\'' || c === '`') { this.eat(); break; }
      if (c === ',') { this.eat(); if (this.peek() === '@') this.eat(); break; }
      this.eat();
    }
    const body = this.src.slice(start.offset + 2, this.pos);
    const named = CHAR_NAMES.get(body.toLowerCase());
    if (named !== undefined) return { kind: 'char', value: named };
    if ([...body].length === 1) return { kind: 'char', value: body };
    if ((body[0] === 'x' || body[0] === 'u') && body.length > 1) {
      let payload = body.slice(1);
      if (body[0] === 'u' && body[1] === '{') {
        if (!body.endsWith('}')) this.fail('unclosed hex escape, expected \'}\'', start);
        payload = body.slice(2, -1);
      }
      return { kind: 'char', value: this.codePoint(payload, start) };
    }
    return this.fail(`invalid character name #\\${body}`, start);
  }

  private codePoint(hex: string, at: Position): string {
    if (!/^[+]?[0-9a-fA-F]{1,8}$/.test(hex)) this.fail(`invalid hex escape literal ${JSON.stringify(hex)}`, at);
    const code = parseInt(hex, 16);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`invalid code point ${code.toString(16)}`, at);
    return String.fromCodePoint(code);
  }

  private readString(start: Position): TokenKind {
    this.eat();
    let buf = '';
    for (;;) {
      const c = this.eat();
      if (c === undefined) this.fail('incomplete string: no closing \'"\'', start);
      if (c === '"') return { kind: 'string', value: buf };
      if (c === '\\') {
        const e = this.readEscape('"', start);
        if (e !== null) buf += e;
      } else {
        buf += c;
      }
    }
  }

  /** read_string_escape: the character after a backslash; null for a line continuation. */
  private readEscape(delim: string, tokenStart: Position): string | null {
    const at = this.position(this.pos - 1);
    const c = this.peek();
    const simple: Record<string, string> = { '"': '"', a: '\x07', b: '\x08', '\\': '\\', '|': '|', t: '\t', n: '\n', r: '\r', '0': '\0' };
    if (c === undefined) this.fail(delim === '"' ? 'incomplete string: no closing \'"\'' : 'incomplete identifier: no closing \'|\'', tokenStart);
    if (Object.prototype.hasOwnProperty.call(simple, c)) { this.eat(); return simple[c]; }
    if (c === 'x' || c === 'u') {
      this.eat();
      let end = ';';
      if (c === 'u' && this.peek() === '{') { this.eat(); end = '}'; }
      let digits = '';
      for (;;) {
        const d = this.eat();
        if (d === undefined) this.fail('incomplete string: no closing \'"\'', tokenStart);
        if (d === end) break;
        if (';\\\n()[]{}'.includes(d) || d === delim) this.fail(`unclosed hex escape, expected '${end}'`, at);
        digits += d;
      }
      return this.codePoint(digits, at);
    }
    if (c === ' ' || c === '\t' || c === '\n') {
      this.eat();
      let trimming = c === '\n';
      for (;;) {
        const d = this.peek();
        if (d === undefined) this.fail('incomplete string: no closing \'"\'', tokenStart);
        if (d === ' ' || d === '\t') { this.eat(); continue; }
        if (d === '\n' && !trimming) { this.eat(); trimming = true; continue; }
        if (trimming) return null;
        this.fail('unexpected character after \\ and spaces, expected whitespace or newline', this.position());
      }
    }
    return this.fail(`invalid escape '\\${c}'`, at);
  }

  private readHereString(start: Position): TokenKind {
    let delim = '';
    for (;;) {
      const c = this.eat();
      if (c === undefined || c === '\n') break;
      if (c === '\r') continue;
      if (ws(c)) this.fail(`unexpected char ${JSON.stringify(c)} in a here-string delimiter`, start);
      delim += c;
    }
    const from = this.pos;
    const idx = delim === '' ? -1 : this.src.indexOf(delim, from);
    if (idx < 0) { while (this.eat() !== undefined) { /* to end */ } this.fail('incomplete string: here-string not closed', start); }
    while (this.pos < idx + delim.length) this.eat();
    return { kind: 'string', value: this.src.slice(from, idx) };
  }

  private readNestedComment(start: Position): TokenKind {
    let depth = 1;
    for (;;) {
      const c = this.eat();
      if (c === undefined) this.fail('incomplete comment: #| is not closed by |#', start);
      if (c === '|' && this.peek() === '#') { this.eat(); if (--depth === 0) return { kind: 'comment' }; }
      else if (c === '#' && this.peek() === '|') { this.eat(); depth++; }
    }
  }

  private readWord(start: Position): TokenKind {
    if (this.peek() === '|') return this.readEscapedIdentifier(start);
    // The hot loop of the lexer: char codes and a table instead of one-character strings.
    const src = this.src;
    for (;;) {
      const code = src.charCodeAt(this.pos);
      if (Number.isNaN(code) || (code < 128 && WORD_END[code] === 1) || (code >= 128 && ws(src[this.pos]))) break;
      if (code === 92 /* \\ */) { this.eat(); this.eat(); continue; }
      if (code === 10) { this.eat(); continue; }
      this.pos++;
    }
    const s = this.src.slice(start.offset, this.pos);
    if (s === '.') return { kind: 'dot' };
    const c0 = s[0];
    if (isDigit(c0) || c0 === '+' || c0 === '-' || c0 === '.' || (c0 === '#' && s.length > 1 && 'xXdDoObB'.includes(s[1]))) {
      const n = parseNumber(s);
      if (n === 'zero-denominator') this.fail('division by zero is not allowed in rational literals', start);
      if (n !== null) return { kind: 'number', value: n };
    }
    return { kind: 'identifier', name: s };
  }

  private readEscapedIdentifier(start: Position): TokenKind {
    this.eat();
    let name = '';
    for (;;) {
      const c = this.eat();
      if (c === undefined) this.fail('incomplete identifier: no closing \'|\'', start);
      if (c === '|') return { kind: 'identifier', name };
      if (c === '\\') {
        const e = this.readEscape('|', start);
        if (e !== null) name += e;
      } else {
        name += c;
      }
    }
  }
}

const INT: Record<number, RegExp> = {
  2: /^[+-]?[01]+$/, 8: /^[+-]?[0-7]+$/, 10: /^[+-]?[0-9]+$/, 16: /^[+-]?[0-9a-fA-F]+$/,
};
const FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

type Real = { type: 'int' | 'rational'; text: string; zeroDen?: boolean } | { type: 'float'; value: number };

function parseReal(s: string, radix: number): Real | null {
  if (s === '+inf.0') return { type: 'float', value: Infinity };
  if (s === '-inf.0') return { type: 'float', value: -Infinity };
  if (s === '+nan.0' || s === '-nan.0') return { type: 'float', value: NaN };
  let dot = false; let exp = false; let slash = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ((c === 'e' || c === 'E') && radix < 15) { if (exp) return null; exp = true; }
    else if (c === '/') { if (slash >= 0) return null; slash = i; }
    else if (c === '.') { if (dot) return null; dot = true; }
  }
  if (dot || exp) {
    if (radix !== 10 || !FLOAT.test(s)) return null;
    return { type: 'float', value: Number(s) };
  }
  if (slash >= 0) {
    const n = s.slice(0, slash); const d = s.slice(slash + 1);
    if (!INT[radix].test(n) || !INT[radix].test(d)) return null;
    return { type: 'rational', text: s, zeroDen: /^[+-]?0+$/.test(d) };
  }
  return INT[radix].test(s) ? { type: 'int', text: s } : null;
}

/** Steel's parse_number with try_parse_number's zero-denominator check. */
export function parseNumber(word: string): NumberValue | null | 'zero-denominator' {
  let s = word; let radix = 10;
  const p = word.slice(0, 2).toLowerCase();
  if (p === '#x') { s = word.slice(2); radix = 16; }
  else if (p === '#d') { s = word.slice(2); }
  else if (p === '#o') { s = word.slice(2); radix = 8; }
  else if (p === '#b') { s = word.slice(2); radix = 2; }
  const parts: Real[] = [];
  const at = s.indexOf('@');
  if (at >= 0) {
    const r = parseReal(s.slice(0, at), radix); const t = parseReal(s.slice(at + 1), radix);
    if (!r || !t) return null;
    parts.push(r, t);
  } else {
    // split_into_complex: at most two signs, a sign right after an exponent marker does not count.
    const idx: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === '+' || c === '-') { if (idx.length === 2) return null; idx.push(i); }
      else if (c === 'e' || c === 'E') i++;
    }
    const cut = idx.length === 0 || (idx.length === 1 && idx[0] === 0) ? -1
      : idx.length === 1 ? idx[0] : idx[0] === 0 ? idx[1] : -2;
    if (cut === -2) return null;
    const pieces = cut < 0 ? [s] : [s.slice(0, cut), s.slice(cut)];
    const imag = pieces.map((x) => x.endsWith('i'));
    if (pieces.length === 1 && !imag[0]) {
      const r = parseReal(s, radix);
      if (!r) return null;
      if (r.type === 'rational' && r.zeroDen) return 'zero-denominator';
      return r.type === 'float' ? r : { type: r.type, text: r.text, radix };
    }
    if (pieces.length === 2 && (imag[0] || !imag[1])) return null;
    for (let k = 0; k < pieces.length; k++) {
      let x = pieces[k];
      if (imag[k]) {
        x = x.slice(0, -1);
        if (pieces.length === 1 && x[0] !== '+' && x[0] !== '-') return null;
        if (x === '+' || x === '-') { parts.push({ type: 'int', text: `${x}1` }); continue; }
      }
      const r = parseReal(x, radix);
      if (!r) return null;
      parts.push(r);
    }
  }
  if (parts.some((r) => r.type === 'rational' && r.zeroDen)) return 'zero-denominator';
  return { type: 'complex', text: word };
}
