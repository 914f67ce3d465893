/**
 * Steel's reader: tokens to data, following the frame stack of read_from_tokens in
 * mattwparas/steel crates/steel-parser/src/parser.rs (commit 09dc0287…). It is iterative (an explicit
 * stack, no recursion), so deep nesting costs memory, not the call stack, and the whole read is one
 * pass. It stops at the first error, as Steel does, and reports it with line and column; a
 * mismatched closer is reported at the closer and names where its opener was.
 */
import { Lexer, SteelSyntaxError, type NumberValue, type Paren, type ParenMod, type Position, type Token } from './lexer';

export { SteelSyntaxError } from './lexer';
export type { Position } from './lexer';

interface Base { readonly at: Position }
export type Datum =
  | (Base & { readonly type: 'list'; readonly paren: Paren; readonly mod: ParenMod | null; readonly items: readonly Datum[]; readonly tail: Datum | null; readonly end: Position })
  | (Base & { readonly type: 'symbol'; readonly name: string })
  | (Base & { readonly type: 'keyword'; readonly name: string })
  | (Base & { readonly type: 'number'; readonly value: NumberValue })
  | (Base & { readonly type: 'string'; readonly value: string })
  | (Base & { readonly type: 'char'; readonly value: string })
  | (Base & { readonly type: 'boolean'; readonly value: boolean });

export type ListDatum = Extract<Datum, { type: 'list' }>;

export interface ReadResult {
  /** Top-level data read before the first error (all of them when there is none). */
  readonly forms: readonly Datum[];
  readonly error: SteelSyntaxError | null;
  /** Deepest list nesting seen. */
  readonly maxDepth: number;
}

const CLOSE: Record<Paren, string> = { round: ')', square: ']', curly: '}' };
const OPEN: Record<Paren, string> = { round: '(', square: '[', curly: '{' };
const QUOTE_NAMES = new Map<string, string>([
  ['quote', 'quote'], ['quasiquote', 'quasiquote'], ['unquote', 'unquote'], ['unquote-splicing', 'unquote-splicing'],
  ['quote-syntax', 'syntax'], ['quasiquote-syntax', 'quasisyntax'], ['unquote-syntax', 'unsyntax'],
  ['unquote-splicing-syntax', 'unsyntax-splicing'],
]);

interface Prefix { readonly kind: 'quote' | 'comment'; readonly name: string; readonly at: Position; readonly text: string }
interface Frame {
  readonly open: Token | null;
  readonly paren: Paren;
  readonly mod: ParenMod | null;
  readonly items: Datum[];
  dot: Position | null;
  tail: Datum | null;
  /** Pending quote marks and datum comments; most lists never have one, so made on demand. */
  prefixes: Prefix[] | null;
}

/** Every token of `source`, comments included; stops at the first lexical error. */
export function tokenize(source: string): { tokens: Token[]; error: SteelSyntaxError | null } {
  const lexer = new Lexer(source);
  const tokens: Token[] = [];
  try {
    for (let t = lexer.next(); t; t = lexer.next()) tokens.push(t);
    return { tokens, error: null };
  } catch (err) {
    if (err instanceof SteelSyntaxError) return { tokens, error: err };
    throw err;
  }
}

export function read(source: string): ReadResult {
  const lexer = new Lexer(source);
  const top: Frame = { open: null, paren: 'round', mod: null, items: [], dot: null, tail: null, prefixes: null };
  const text = (t: Token): string => source.slice(t.start.offset, t.end);
  const pending = (f: Frame): Prefix | null => (f.prefixes && f.prefixes.length > 0 ? f.prefixes[f.prefixes.length - 1] : null);
  const push = (f: Frame, p: Prefix): void => { (f.prefixes ??= []).push(p); };
  const stack: Frame[] = [];
  let frame = top;
  let maxDepth = 0;
  const fail = (message: string, at: Position, related?: { message: string; at: Position }): never => {
    throw new SteelSyntaxError(message, at, related);
  };
  /** A finished datum goes through the frame's pending quote marks and datum comments. */
  const complete = (d: Datum, f: Frame): void => {
    let datum: Datum | null = d;
    while (datum && f.prefixes && f.prefixes.length > 0) {
      const p = f.prefixes.pop() as Prefix;
      if (p.kind === 'comment') { datum = null; break; }
      datum = { type: 'list', paren: 'round', mod: null, at: p.at, end: datum.at, tail: null, items: [{ type: 'symbol', name: p.name, at: p.at }, datum] };
    }
    if (!datum) return;
    if (f.dot) {
      if (f.tail) fail('improper list must have a single cdr', datum.at);
      f.tail = datum;
      return;
    }
    if (f.mod === 'bytes' && !(datum.type === 'number' && datum.value.type === 'int' && isByte(datum.value.text, datum.value.radix))) {
      fail('bytevector literals can only contain integer literals in the 0-255 range', datum.at);
    }
    f.items.push(datum);
  };
  try {
    for (let t = lexer.next(); t; t = lexer.next()) {
      switch (t.kind) {
        case 'comment': break;
        case 'datum-comment':
          push(frame, { kind: 'comment', name: '#;', at: t.start, text: '#;' });
          break;
        case 'quote': case 'quasiquote': case 'unquote': case 'unquote-splicing':
        case 'quote-syntax': case 'quasiquote-syntax': case 'unquote-syntax': case 'unquote-splicing-syntax':
          push(frame, { kind: 'quote', name: QUOTE_NAMES.get(t.kind) as string, at: t.start, text: text(t) });
          break;
        case 'dot': {
          if (frame === top) fail('unexpected \'.\' outside a list', t.start);
          const p = pending(frame);
          if (p) {
            fail(p.kind === 'comment' ? 'commented-out datum cannot start with a dot' : `'${p.text}' must be followed by a datum, not '.'`, t.start);
          }
          if (frame.dot) fail('improper lists can only have a single dot', t.start);
          if (frame.items.length === 0) fail('improper lists must have a car element before the dot', t.start);
          if (frame.mod) fail(`${frame.mod === 'vector' ? 'vector' : 'bytevector'} literals cannot contain dots`, t.start);
          frame.dot = t.start;
          break;
        }
        case 'open':
          stack.push(frame);
          frame = { open: t, paren: t.paren, mod: t.mod, items: [], dot: null, tail: null, prefixes: null };
          if (stack.length > maxDepth) maxDepth = stack.length;
          break;
        case 'close': {
          if (frame === top) fail(`unexpected '${CLOSE[t.paren]}' with no list open`, t.start);
          const open = frame.open as Token;
          if (t.paren !== frame.paren) {
            fail(`mismatched '${CLOSE[t.paren]}': expected '${CLOSE[frame.paren]}' to close the '${text(open)}' opened at ${open.start.line}:${open.start.col}`, t.start,
              { message: `'${text(open)}' opened here`, at: open.start });
          }
          const p = pending(frame);
          if (p) {
            fail(p.kind === 'comment' ? 'invalid datum comment: #; has no datum before the closer' : `'${p.text}' must be followed by a datum before '${CLOSE[t.paren]}'`, p.at);
          }
          if (frame.dot && !frame.tail) fail('improper list must have a single cdr', t.start);
          const done: Datum = { type: 'list', paren: frame.paren, mod: frame.mod, items: frame.items, tail: frame.tail, at: open.start, end: t.start };
          frame = stack.pop() as Frame;
          complete(done, frame);
          break;
        }
        case 'identifier': complete({ type: 'symbol', name: t.name, at: t.start }, frame); break;
        case 'keyword': complete({ type: 'keyword', name: t.name, at: t.start }, frame); break;
        case 'number': complete({ type: 'number', value: t.value, at: t.start }, frame); break;
        case 'string': complete({ type: 'string', value: t.value, at: t.start }, frame); break;
        case 'char': complete({ type: 'char', value: t.value, at: t.start }, frame); break;
        case 'boolean': complete({ type: 'boolean', value: t.value, at: t.start }, frame); break;
      }
    }
    if (frame !== top) {
      const open = frame.open as Token;
      fail(`unexpected end of input: the '${text(open)}' opened at ${open.start.line}:${open.start.col} is not closed with '${CLOSE[frame.paren]}'`, open.start);
    }
    const p = pending(top);
    if (p) {
      fail(p.kind === 'comment' ? 'unfinished commented-out expression' : `unexpected end of input after '${p.text}'`, p.at);
    }
    return { forms: top.items, error: null, maxDepth };
  } catch (err) {
    if (err instanceof SteelSyntaxError) return { forms: top.items, error: err, maxDepth };
    throw err;
  }
}

function isByte(text: string, radix: number): boolean {
  const digits = (text.startsWith('+') ? text.slice(1) : text).replace(/^(-?)0+(?=.)/, '$1');
  if (digits.startsWith('-')) return digits === '-0';
  if (digits.length > 8) return false;
  return parseInt(digits, radix) <= 255;
}

export const openerText = (p: Paren): string => OPEN[p];
