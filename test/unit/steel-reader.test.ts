/**
 * The Steel reader: every token kind and every error, with line and column. Cases marked `from`
 * follow mattwparas/steel crates/steel-parser/src/lexer.rs (lexer_tests) and parser.rs (tests) at
 * commit 09dc028718281d3a398c9f567b3576f156f2b644.
 */
import * as assert from 'node:assert/strict';

import { read, tokenize, type Datum } from '../../lib/steel/reader';

const kinds = (src: string): string[] => {
  const { tokens, error } = tokenize(src);
  assert.equal(error, null, error?.message);
  return tokens.map((t) => t.kind);
};
const one = (src: string) => {
  const { tokens, error } = tokenize(src);
  assert.equal(error, null, error?.message);
  assert.equal(tokens.length, 1, `expected one token in ${JSON.stringify(src)}, got ${tokens.map((t) => t.kind).join(' ')}`);
  return tokens[0];
};
const lexError = (src: string): { message: string; line: number; col: number } => {
  const { error } = tokenize(src);
  assert.ok(error, `expected a lexical error for ${JSON.stringify(src)}`);
  return { message: error.message, line: error.at.line, col: error.at.col };
};
const readError = (src: string): { message: string; line: number; col: number; related?: { line: number; col: number } } => {
  const { error } = read(src);
  assert.ok(error, `expected a read error for ${JSON.stringify(src)}`);
  return { message: error.message, line: error.at.line, col: error.at.col, ...(error.related ? { related: { line: error.related.at.line, col: error.related.at.col } } : {}) };
};
const show = (d: Datum): string => {
  switch (d.type) {
    case 'list': {
      const [o, c] = d.mod === 'vector' ? ['#(', ')'] : d.mod === 'bytes' ? ['#u8(', ')'] : d.paren === 'square' ? ['[', ']'] : d.paren === 'curly' ? ['{', '}'] : ['(', ')'];
      return `${o}${d.items.map(show).join(' ')}${d.tail ? ` . ${show(d.tail)}` : ''}${c}`;
    }
    case 'symbol': case 'keyword': return d.name;
    case 'string': return JSON.stringify(d.value);
    case 'char': return `#\\${d.value.codePointAt(0)}`;
    case 'boolean': return d.value ? '#t' : '#f';
    case 'number': return d.value.type === 'float' ? String(d.value.value) : d.value.text;
  }
};
const readAll = (src: string): string => {
  const r = read(src);
  assert.equal(r.error, null, r.error?.message);
  return r.forms.map(show).join(' ');
};

describe('steel reader: tokens', () => {
  it('lists with () [] {}, and their closers', () => {
    assert.deepEqual(kinds('( ) [ ] { }'), ['open', 'close', 'open', 'close', 'open', 'close']);
    const t = tokenize('[{(').tokens;
    assert.deepEqual(t.map((x) => x.kind === 'open' && x.paren), ['square', 'curly', 'round']);
  });

  it('#( vectors and #u8( bytevectors', () => {
    const v = one('#(');
    assert.ok(v.kind === 'open' && v.mod === 'vector');
    const b = one('#u8(');
    assert.ok(b.kind === 'open' && b.mod === 'bytes');
    assert.equal(readAll('#(1 a "s") #u8(0 255 #xff)'), '#(1 a "s") #u8(0 255 ff)');
  });

  it('quote forms and their syntax versions', () => {
    assert.deepEqual(kinds('\' ` , ,@'), ['quote', 'quasiquote', 'unquote', 'unquote-splicing']);
    assert.deepEqual(kinds('#\' #` #, #,@'), ['quote-syntax', 'quasiquote-syntax', 'unquote-syntax', 'unquote-splicing-syntax']);
    assert.equal(readAll('\'a `(b ,c ,@d) #\'e #`f #,g #,@h'),
      '(quote a) (quasiquote (b (unquote c) (unquote-splicing d))) (syntax e) (quasisyntax f) (unsyntax g) (unsyntax-splicing h)');
  });

  it('booleans #t #f #true #false', () => {
    assert.deepEqual(['#t', '#f', '#true', '#false'].map((s) => { const t = one(s); return t.kind === 'boolean' && t.value; }), [true, false, true, false]);
  });

  it('keywords #:name', () => {
    const t = one('#:name');
    assert.ok(t.kind === 'keyword' && t.name === '#:name');
  });

  it('characters: plain, named (any case), hex, \\u{…}, and brackets', () => {
    // from lexer.rs test_chars, test_bracket_characters
    const ch = (s: string): string => { const t = one(s); assert.equal(t.kind, 'char', s); return (t as { value: string }).value; };
    assert.equal(ch('#\\a'), 'a');
    assert.equal(ch('#\\λ'), 'λ');
    assert.equal(ch('#\\space'), ' ');
    assert.equal(ch('#\\NEWLINE'), '\n');
    for (const [n, v] of [['alarm', '\x07'], ['backspace', '\b'], ['delete', '\x7f'], ['escape', '\x1b'], ['null', '\0'], ['return', '\r'], ['tab', '\t']]) assert.equal(ch(`#\\${n}`), v);
    assert.equal(ch('#\\x41'), 'A');
    assert.equal(ch('#\\u03BB'), 'λ');
    assert.equal(ch('#\\u{1F600}'), '😀');
    assert.equal(ch('#\\x'), 'x');
    assert.equal(ch('#\\('), '(');
    assert.equal(ch('#\\['), '[');
    assert.equal(readAll('[(equal? #\\[ (car chars)) (b (cdr chars) (+ sum 1))]'), '[(equal? #\\91 (car chars)) (b (cdr chars) (+ sum 1))]');
  });

  it('strings with Steel\'s escapes', () => {
    const str = (s: string): string => { const t = one(s); assert.equal(t.kind, 'string', s); return (t as { value: string }).value; };
    assert.equal(str('"a\\"b"'), 'a"b');
    assert.equal(str('"\\a\\b\\t\\n\\r\\0\\\\\\|"'), '\x07\b\t\n\r\0\\|');
    assert.equal(str('"\\x41;\\u03bb;\\u{1F600}"'), 'Aλ😀');
    assert.equal(str('"one \\\n     two"'), 'one two'); // line continuation trims the next line's indentation
    assert.equal(str('"}\\n"'), '}\n'); // from lexer.rs test_escape_in_string
    assert.equal(str('"λ ü"'), 'λ ü');
    assert.equal(str('#<<END\nraw "text" \\q\nEND'), 'raw "text" \\q\n');
  });

  it('integers, rationals, floats, infinities, NaN, complex numbers and radix prefixes', () => {
    const num = (s: string) => { const t = one(s); assert.equal(t.kind, 'number', s); return (t as { value: { type: string } }).value; };
    assert.deepEqual(num('42'), { type: 'int', text: '42', radix: 10 });
    assert.deepEqual(num('-7'), { type: 'int', text: '-7', radix: 10 });
    assert.deepEqual(num('+7'), { type: 'int', text: '+7', radix: 10 });
    assert.deepEqual(num('123456789012345678901234567890'), { type: 'int', text: '123456789012345678901234567890', radix: 10 });
    assert.deepEqual(num('1/3'), { type: 'rational', text: '1/3', radix: 10 });
    assert.deepEqual(num('1.5'), { type: 'float', value: 1.5 });
    assert.deepEqual(num('.5'), { type: 'float', value: 0.5 });
    assert.deepEqual(num('1e3'), { type: 'float', value: 1000 });
    assert.deepEqual(num('-2.5E-1'), { type: 'float', value: -0.25 });
    assert.deepEqual(num('+inf.0'), { type: 'float', value: Infinity });
    assert.deepEqual(num('-inf.0'), { type: 'float', value: -Infinity });
    assert.ok(Number.isNaN((num('+nan.0') as unknown as { value: number }).value));
    assert.equal(num('1+2i').type, 'complex');
    assert.equal(num('+i').type, 'complex');
    assert.equal(num('1@2').type, 'complex');
    assert.deepEqual(num('#xff'), { type: 'int', text: 'ff', radix: 16 });
    assert.deepEqual(num('#XFF'), { type: 'int', text: 'FF', radix: 16 });
    assert.deepEqual(num('#b101'), { type: 'int', text: '101', radix: 2 });
    assert.deepEqual(num('#o17'), { type: 'int', text: '17', radix: 8 });
    assert.deepEqual(num('#d10'), { type: 'int', text: '10', radix: 10 });
  });

  it('identifiers, including ones that look almost like numbers, and |escaped identifiers|', () => {
    const id = (s: string): string => { const t = one(s); assert.equal(t.kind, 'identifier', s); return (t as { name: string }).name; };
    for (const s of ['foo', 'set-car!', 'a->b', '+', '-', '...', '1+', '-x', '#foo', 'λ', 'a|b']) assert.equal(id(s), s);
    assert.equal(id('|hello world|'), 'hello world');
    assert.equal(id('|a\\|b|'), 'a|b');
    assert.equal(id('|\\x41;|'), 'A');
    assert.equal(id('foo\\\'a'), 'foo\\\'a'); // from lexer.rs test_quote_within_word: a backslash keeps the quote in the word
  });

  it('the dot of an improper list, and improper lists', () => {
    assert.deepEqual(kinds('(a . b)'), ['open', 'identifier', 'dot', 'identifier', 'close']);
    assert.equal(readAll('(a b . c) \'(1 . 2)'), '(a b . c) (quote (1 . 2))');
  });

  it('comments: ;, nested #| |#, datum comments #;, and a leading #! line', () => {
    assert.deepEqual(kinds('; line\na'), ['comment', 'identifier']);
    assert.deepEqual(kinds('#| outer #| inner |# still |# a'), ['comment', 'identifier']);
    assert.deepEqual(kinds('#;a b'), ['datum-comment', 'identifier', 'identifier']);
    assert.equal(readAll('#;(ignored (x)) kept #; #;a b c'), 'kept c');
    assert.equal(readAll('(a #;b c)'), '(a c)');
    assert.equal(readAll('\'#;a b'), '(quote b)');
    assert.equal(readAll('#!/usr/bin/env steel\n(display 1)'), '(display 1)');
    const { tokens } = tokenize('#!/usr/bin/env steel\n(x)');
    assert.deepEqual([tokens[0].start.line, tokens[0].start.col], [2, 1]);
  });

  it('gives every token its line and column', () => {
    const { tokens } = tokenize('(define (f x)\n  "s"\n\t#\\a 1.5) ; c');
    assert.deepEqual(tokens.map((t) => [t.kind, t.start.line, t.start.col]), [
      ['open', 1, 1], ['identifier', 1, 2], ['open', 1, 9], ['identifier', 1, 10], ['identifier', 1, 12], ['close', 1, 13],
      ['string', 2, 3], ['char', 3, 2], ['number', 3, 6], ['close', 3, 9], ['comment', 3, 11],
    ]);
  });

  it('gives every datum its position, lists their closer', () => {
    const r = read('\n  (a\n   [b c])');
    const top = r.forms[0];
    assert.ok(top.type === 'list');
    assert.deepEqual([top.at.line, top.at.col, top.end.line, top.end.col], [2, 3, 3, 9]);
    const inner = top.items[1];
    assert.ok(inner.type === 'list');
    assert.deepEqual([inner.at.line, inner.at.col, inner.items[1].at.col], [3, 4, 7]);
  });
});

describe('steel reader: errors', () => {
  it('an unknown string escape is an error at the backslash', () => {
    assert.deepEqual(lexError('(x "ab\\q")'), { message: '1:7: invalid escape \'\\q\'', line: 1, col: 7 });
  });

  it('an unterminated string, identifier or block comment is reported where it starts', () => {
    assert.deepEqual(lexError('\n  "abc'), { message: '2:3: incomplete string: no closing \'"\'', line: 2, col: 3 });
    assert.equal(lexError('|abc').col, 1);
    assert.match(lexError('|abc').message, /incomplete identifier/);
    assert.match(lexError('a #| never #| closed |#').message, /incomplete comment/);
    assert.equal(lexError('a #| never').col, 3);
    assert.match(lexError('#<<END\nno end').message, /here-string/);
  });

  it('a zero denominator is an error', () => {
    assert.match(lexError('1/0').message, /division by zero/);
    assert.match(lexError('#x10/00').message, /division by zero/);
    assert.match(lexError('1/0+2i').message, /division by zero/);
  });

  it('bad characters and hex escapes', () => {
    assert.match(lexError('#\\').message, /invalid character/);
    assert.match(lexError('#\\nope').message, /invalid character name/);
    assert.match(lexError('#\\xZZ').message, /invalid hex escape/);
    assert.match(lexError('#\\x110000').message, /invalid code point/);
    assert.match(lexError('#\\u{41').message, /unclosed hex escape/);
    assert.match(lexError('"\\x41"').message, /unclosed hex escape/);
    assert.match(lexError('"\\xD800;"').message, /invalid code point/);
    assert.match(lexError('"a\\  b"').message, /expected whitespace or newline/);
    assert.match(lexError('##').message, /unexpected char '#'/);
  });

  it('a mismatched closer is reported at the closer, naming where the opener was', () => {
    assert.deepEqual(readError('(define (f x)\n  [+ x 1))'), {
      message: '2:9: mismatched \')\': expected \']\' to close the \'[\' opened at 2:3', line: 2, col: 9, related: { line: 2, col: 3 },
    });
    assert.equal(readError('#(1 2]').related?.col, 1);
  });

  it('a missing closer is reported at the unclosed opener', () => {
    // from parser.rs: parse_err("(") and parse_err("(abc") are UnexpectedEOF
    assert.deepEqual(readError('('), { message: '1:1: unexpected end of input: the \'(\' opened at 1:1 is not closed with \')\'', line: 1, col: 1 });
    const e = readError('(define (f)\n  (g (h)');
    assert.deepEqual([e.line, e.col], [2, 3]);
  });

  it('a closer with nothing open', () => {
    assert.deepEqual(readError('(a))'), { message: '1:4: unexpected \')\' with no list open', line: 1, col: 4 });
  });

  it('improper list errors (parser.rs read_from_tokens / build_expr messages)', () => {
    assert.match(readError('(. a)').message, /must have a car element before the dot/);
    assert.match(readError('(a . b . c)').message, /only have a single dot/);
    assert.match(readError('(a . b c)').message, /single cdr/);
    assert.match(readError('(a .)').message, /single cdr/);
    assert.match(readError('#(a . b)').message, /vector literals cannot contain dots/);
    assert.match(readError('#u8(1 . 2)').message, /bytevector literals cannot contain dots/);
    assert.match(readError('(a #; . b)').message, /commented-out datum cannot start with a dot/);
    assert.match(readError('.').message, /outside a list/);
  });

  it('bytevectors hold only bytes', () => {
    assert.match(readError('#u8(1 256)').message, /0-255/);
    assert.match(readError('#u8(a)').message, /0-255/);
    assert.match(readError('#u8(-1)').message, /0-255/);
    assert.equal(read('#u8(0 #xff 255 +1 007)').error, null);
  });

  it('datum comments and quotes need a datum', () => {
    assert.match(readError('(a #;)').message, /invalid datum comment/);
    assert.match(readError('#;').message, /unfinished commented-out expression/);
    assert.match(readError('(a \')').message, /must be followed by a datum/);
    assert.match(readError('\'').message, /end of input after '''/);
  });

  it('keeps the forms read before the error', () => {
    const r = read('(a) (b) (c');
    assert.equal(r.forms.length, 2);
    assert.ok(r.error);
  });
});

describe('steel reader: cost', () => {
  it('reads 200,000 nested lists without recursion', () => {
    const deep = `${'('.repeat(200_000)}x${')'.repeat(200_000)}`;
    const r = read(deep);
    assert.equal(r.error, null);
    assert.equal(r.maxDepth, 200_000);
    const open = read('('.repeat(200_000));
    assert.match(open.error?.message ?? '', /not closed/);
  });
});
