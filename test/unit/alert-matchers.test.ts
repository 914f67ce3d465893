/**
 * Matcher syntax and the regex dialect, case by case from Alertmanager's own tests, plus the
 * hardening reproductions (quadratic parsing, catastrophic regexes).
 */
import assert from 'node:assert/strict';

import { compileMatcher, compileMatcherList, formatMatcher, parseClassicMatchers, parseMatcher, parseMatcherText, parseUtf8Matchers, type Matcher } from '../../lib/alerts/matchers';

const m = (name: string, op: Matcher['op'], value: string): Matcher => ({ name, op, value });

describe('alert matchers: the UTF-8 parser', () => {
  // from prometheus/alertmanager matcher/parse/parse_test.go (TestMatchers)
  const ok: Array<[string, Matcher[]]> = [
    ['', []],
    ['{}', []],
    ['{foo=bar}', [m('foo', '=', 'bar')]],
    ['{foo=bar,}', [m('foo', '=', 'bar')]],
    ['{foo!=bar}', [m('foo', '!=', 'bar')]],
    ['{foo=~[a-z]+}', [m('foo', '=~', '[a-z]+')]],
    ['{foo!~[a-z]+}', [m('foo', '!~', '[a-z]+')]],
    ['{foo=🙂}', [m('foo', '=', '🙂')]],
    ['{foo=🙂bar}', [m('foo', '=', '🙂bar')]],
    ['foo=bar', [m('foo', '=', 'bar')]],
    ['foo=bar,', [m('foo', '=', 'bar')]],
    ['{"foo"="bar"}', [m('foo', '=', 'bar')]],
    ['{"foo"="bar",}', [m('foo', '=', 'bar')]],
    ['{"foo"=~"[a-z]+"}', [m('foo', '=~', '[a-z]+')]],
    ['{"foo"=~"\\\\d+"}', [m('foo', '=~', '\\d+')]],
    ['{"foo"="🙂"}', [m('foo', '=', '🙂')]],
    ['{"foo"="\\xf0\\x9f\\x99\\x82"}', [m('foo', '=', '🙂')]],
    ['{"foo"="\\U0001f642"}', [m('foo', '=', '🙂')]],
    ['{"foo"="bar\\n"}', [m('foo', '=', 'bar\n')]],
    ['{"foo"="bar\\t"}', [m('foo', '=', 'bar\t')]],
    ['{"foo"="\\"bar\\""}', [m('foo', '=', '"bar"')]],
    ['{"foo"="bar\\\\"}', [m('foo', '=', 'bar\\')]],
    ['"foo"="bar",', [m('foo', '=', 'bar')]],
    ['{foo=bar,bar!=baz}', [m('foo', '=', 'bar'), m('bar', '!=', 'baz')]],
    ['foo="bar",bar!="baz"', [m('foo', '=', 'bar'), m('bar', '!=', 'baz')]],
  ];
  for (const [input, want] of ok) it(`${JSON.stringify(input)} parses`, () => assert.deepEqual(parseUtf8Matchers(input), { ok: true, value: want }));

  // from prometheus/alertmanager matcher/parse/parse_test.go: the errors, with their columns
  const bad: Array<[string, string]> = [
    [',', '0:1: unexpected ,: expected label name'],
    ['{,}', '1:2: unexpected ,: expected label name'],
    ['{', '0:1: end of input: expected close brace'],
    ['}', '0:1: }: expected opening brace'],
    ['foo=bar}', '0:8: }: expected opening brace'],
    ['{foo=bar', '0:8: end of input: expected close brace'],
    ['{foo=:"bar"}', '6:11: unexpected "bar": expected a comma or close brace'],
    ['{foo="bar\\w"}', '5:12: "bar\\w": invalid input'],
    ['{"foo"=~"\\d+"}', '8:13: "\\d+": invalid input'],
    ['{foo=bar\\n}', '8:9: \\: invalid input: expected a comma or close brace'],
    ['{"foo"="\\xf0\\x9f"}', '7:17: "\\xf0\\x9f": invalid input'],
  ];
  for (const [input, reason] of bad) it(`${JSON.stringify(input)} → ${reason}`, () => assert.deepEqual(parseUtf8Matchers(input), { ok: false, reason }));

  it('lexer errors carry their columns: a lone !, an unterminated quote', () => {
    // the shapes of matcher/parse/lexer.go's expectedError and unterminatedError
    assert.deepEqual(parseUtf8Matchers('foo!'), { ok: false, reason: "3:4: unexpected end of input, expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'" });
    assert.deepEqual(parseUtf8Matchers('foo="bar'), { ok: false, reason: '4:8: "bar: missing end ": expected label value' });
  });

  it('exactly one matcher where one is wanted', () => {
    // from prometheus/alertmanager matcher/parse/parse_test.go (TestMatcher)
    assert.deepEqual(parseMatcher('{}'), { ok: false, reason: 'no matchers' });
    assert.deepEqual(parseMatcher('foo=bar,bar=baz'), { ok: false, reason: 'expected 1 matcher, found 2' });
    assert.deepEqual(parseMatcher('{foo=bar,}'), { ok: true, value: m('foo', '=', 'bar') });
  });
});

describe('alert matchers: the classic parser', () => {
  // from prometheus/alertmanager pkg/labels/parse_test.go (TestMatchers)
  const ok: Array<[string, Matcher[]]> = [
    ['{}', []],
    ["{foo='}", [m('foo', '=', "'")]],
    ['{foo=`}', [m('foo', '=', '`')]],
    ['{foo=\\"}', [m('foo', '=', '"')]],
    ['{foo="bar"}', [m('foo', '=', 'bar')]],
    ['{foo=~"bar.*"}', [m('foo', '=~', 'bar.*')]],
    ['{foo!~bar.*}', [m('foo', '!~', 'bar.*')]],
    ['{foo="bar",baz!~".*quux", derp="wat"}', [m('foo', '=', 'bar'), m('baz', '!~', '.*quux'), m('derp', '=', 'wat')]],
    ['{foo=""}', [m('foo', '=', '')]],
    ['{foo="bar,quux", job="job1"}', [m('foo', '=', 'bar,quux'), m('job', '=', 'job1')]],
    ['{foo = "bar", dings != "bums", }', [m('foo', '=', 'bar'), m('dings', '!=', 'bums')]],
    ['foo=bar,dings!=bums', [m('foo', '=', 'bar'), m('dings', '!=', 'bums')]],
    ['{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}', [m('quote', '=', 'She said: "Hi, ladies! That\'s gender-neutral…"')]],
    ['statuscode=~"5.."', [m('statuscode', '=~', '5..')]],
    ['tricky=~~~', [m('tricky', '=~', '~~')]],
    ['trickier==\\\\=\\=\\"', [m('trickier', '=', '=\\=\\="')]],
    ['contains_quote != "\\"" , contains_comma !~ "foo,bar" , ', [m('contains_quote', '!=', '"'), m('contains_comma', '!~', 'foo,bar')]],
    ['{foo=bar}}', [m('foo', '=', 'bar}')]],
    ['{foo=bar}},}', [m('foo', '=', 'bar}}')]],
    ['{foo=,bar=}}', [m('foo', '=', ''), m('bar', '=', '}')]],
    ['{foo=bar\\t}', [m('foo', '=', 'bar\\t')]],
    ['{foo=bar\\n}', [m('foo', '=', 'bar\n')]],
    ['{foo=bar\\}', [m('foo', '=', 'bar\\')]],
    ['{foo=bar\\\\}', [m('foo', '=', 'bar\\')]],
    ['{foo=bar\\"}', [m('foo', '=', 'bar"')]],
    ['job=', [m('job', '=', '')]],
    ['{foo=', [m('foo', '=', '')]],
    ['{foo=}b', [m('foo', '=', '}b')]],
  ];
  for (const [input, want] of ok) it(`${JSON.stringify(input)} parses`, () => assert.deepEqual(parseClassicMatchers(input), { ok: true, value: want }));

  // from prometheus/alertmanager pkg/labels/parse_test.go: the errors
  const bad: Array<[string, string]> = [
    [',', 'bad matcher format: '],
    ['{,}', 'bad matcher format: '],
    ['job="value', 'matcher value contains unescaped double quote: "value'],
    ['job=value"', 'matcher value contains unescaped double quote: value"'],
    ['trickier==\\\\=\\=\\""', 'matcher value contains unescaped double quote: =\\\\=\\=\\""'],
    ['contains_unescaped_quote = foo"bar', 'matcher value contains unescaped double quote: foo"bar'],
    ['{invalid-name = "valid label"}', 'bad matcher format: invalid-name = "valid label"'],
    ['"{foo=\\"bar"}', 'bad matcher format: "{foo=\\"bar"'],
    ['"foo="bar""', 'bad matcher format: "foo="bar""'],
    ['{{foo=', 'bad matcher format: {foo='],
  ];
  for (const [input, reason] of bad) it(`${JSON.stringify(input)} → ${reason}`, () => assert.deepEqual(parseClassicMatchers(input), { ok: false, reason }));
});

describe('alert matchers: configuration lines read as Alertmanager reads them', () => {
  it('classic-only lines fall back to the classic reading (matcher/compat/parse.go)', () => {
    assert.deepEqual(parseMatcherText("foo='"), { ok: true, value: [m('foo', '=', "'")] });
    assert.deepEqual(parseMatcherText('{foo=bar\\n}'), { ok: true, value: [m('foo', '=', 'bar\n')] });
  });
  it('UTF-8-only lines use the UTF-8 reading: quoted and non-ASCII names', () => {
    assert.deepEqual(parseMatcherText('"service name"="api"'), { ok: true, value: [m('service name', '=', 'api')] });
    assert.deepEqual(parseMatcherText('{Προμηθεύς="x"}'), { ok: true, value: [m('Προμηθεύς', '=', 'x')] });
  });
  it('a line neither parser takes gives both errors, the UTF-8 one with its column', () => {
    const r = parseMatcherText('severity critical');
    assert.ok(!r.ok);
    assert.match(r.reason, /^bad matcher format: severity critical \(as a UTF-8 matcher: 9:17: unexpected critical: expected an operator/);
  });
  it('a line may hold several matchers; the index names the line', () => {
    const list = compileMatcherList(['{owner="team-A", x=~"y|z"}', 'severity!=info']);
    assert.ok(list.ok);
    assert.deepEqual(list.value.map(({ name, op, value }) => ({ name, op, value })), [m('owner', '=', 'team-A'), m('x', '=~', 'y|z'), m('severity', '!=', 'info')]);
    assert.equal(list.value.every((x) => x.test({ owner: 'team-A', x: 'z', severity: 'warning' })), true);
    const bad = compileMatcherList(['a=b', 'c=~"("']);
    assert.ok(!bad.ok && bad.index === 1 && /does not compile/.test(bad.reason));
  });
  it('what formatMatcher writes, both parsers read back', () => {
    for (const x of [m('a', '=', 'x"y\\z\nw'), m('b', '=~', 'north|south'), m('svc name', '!=', 'q,r'), m('c', '!~', '\t{}')]) {
      assert.deepEqual(parseMatcherText(formatMatcher(x)), { ok: true, value: [x] }, formatMatcher(x));
    }
  });
  it('80,000 spaces parse in one pass (was quadratic)', () => {
    // Behaviour, not a timing: the result is a plain refusal or value, and the test returns.
    const r = parseMatcherText(`a${' '.repeat(80_000)}=${' '.repeat(80_000)}b`);
    assert.deepEqual(r, { ok: true, value: [m('a', '=', 'b')] });
    assert.equal(parseMatcher(' '.repeat(80_000)).ok, false);
  });
  it('a label named like an Object.prototype member is absent, not a function', () => {
    const c = compileMatcher(m('constructor', '=', ''));
    assert.ok(c.ok && c.value.test({}));
    const r = compileMatcher(m('toString', '=~', '.+'));
    assert.ok(r.ok && !r.value.test({}));
  });
});

describe('alert matchers: Go RE2 regexes', () => {
  const test = (re: string, value: string): boolean => {
    const c = compileMatcher(m('l', '=~', re));
    if (!c.ok) throw new Error(c.reason);
    return c.value.test({ l: value });
  };
  it('anchored at both ends, as Alertmanager anchors (pkg/labels/matcher.go: ^(?:re)$)', () => {
    assert.equal(test('north', 'northeast'), false);
    assert.equal(test('north.*', 'northeast'), true);
    assert.equal(test('a|b', 'b'), true);
    assert.equal(test('a', 'a\n'), false, '$ is the end of text in Go, not before a final newline');
  });
  it('Go syntax JavaScript reads differently or rejects', () => {
    assert.equal(test('(?i)north', 'NORTH'), true);
    assert.equal(test('(?i:n)orth', 'North'), true);
    assert.equal(test('(?i:n)orth', 'NORTH'), false);
    assert.equal(test('a.b', 'a\nb'), false);
    assert.equal(test('(?s)a.b', 'a\nb'), true);
    assert.equal(test('abc\\z', 'abc'), true);
    assert.equal(test('\\Aabc', 'abc'), true);
    assert.equal(test('(?P<site>north|south)-[0-9]+', 'south-12'), true);
    assert.equal(test('\\Qa.b\\E', 'a.b'), true);
    assert.equal(test('\\Qa.b\\E', 'axb'), false);
    assert.equal(test('[[:alpha:]]+', 'abc'), true);
    assert.equal(test('[[:alpha:]]+', 'ab1'), false);
  });
  it('(a+)+ against a 30-character label answers (linear time: RE2)', () => {
    assert.equal(test('(a+)+', `${'a'.repeat(30)}!`), false);
    const c = compileMatcher(m('site', '=~', '(a+)+$'));
    assert.ok(c.ok && c.value.test({ site: 'a'.repeat(100_000) }));
  });
  it('Go refuses what Go refuses: back-references, lookahead, too-large repeats', () => {
    for (const re of ['(a)\\1', '(?=a)a', 'a{1001}', '(']) assert.equal(compileMatcher(m('l', '=~', re)).ok, false, re);
  });
});

describe('alert matchers: RE2 anchoring corner cases', () => {
  const test = (re: string, value: string): boolean => {
    const c = compileMatcher(m('l', '=~', re));
    if (!c.ok) throw new Error(c.reason);
    return c.value.test({ l: value });
  };
  it('a pattern that breaks out of the group means what Go\'s ^(?:a)|(b)$ means', () => {
    assert.equal(test('a)|(b', 'ax'), true, 'starts with a');
    assert.equal(test('a)|(b', 'xb'), true, 'ends with b');
    assert.equal(test('a)|(b', 'xx'), false);
  });
  it('lists of values, classes and (?m) read as RE2 reads them', () => {
    assert.equal(test('critical|major', 'major'), true);
    assert.equal(test('critical|major', 'majorx'), false);
    assert.equal(test('critical|major', ''), false);
    assert.equal(test('a-b|c', 'a-b'), true);
    assert.equal(test('(?m)a$', 'a\n'), false, 'the outer anchors stay the end of text');
  });
});
