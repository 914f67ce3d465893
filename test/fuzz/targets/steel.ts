/**
 * Fuzz targets for the Steel reader, the checker and the device-message parsers: arbitrary text
 * and mutated valid programs/messages. Contracts: nothing throws; a read error is a
 * SteelSyntaxError whose line:column matches its offset; findings are well-formed plain data in
 * position order; parsers return a value or a non-empty list of field errors.
 */
import fc from 'fast-check';

import {
  buildLoadMessage, parseFullReport, parseLoadMessage, parseRequest, parseResult, parseShadowUpdate, parseStatusReport,
} from '../../../firmware/contract/steel';
import { checkProgram, type Finding } from '../../../lib/steel/checker';
import { read, tokenize, SteelSyntaxError, type Position } from '../../../lib/steel/reader';
import { GUIDE_BLINK, GUIDE_SENSOR_MONITORING } from '../../unit/steel-fixtures';
import type { FuzzTarget } from '../harness';

const SEEDS = [
  GUIDE_BLINK,
  GUIDE_SENSOR_MONITORING,
  '(define (f #:k [k 2] . rest) (let loop ([i 0]) (when (< i k) (loop (+ i 1)))) `(a ,k ,@rest))',
  '#!/usr/bin/env steel\n#| block #| nested |# |# (displayln #\\space #\\x41 "a\\nb\\x41;" \'sym #:kw 1/2 -1.5e3 +inf.0 #xff #u8(1 2) #(1 2) (a . b))',
  '(define-syntax swap! (syntax-rules () [(swap! a b) (let ([tmp a]) (set! a b) (set! b tmp))])) #;(ignored) (cond [(= 1 1) => car] [else 0])',
];
const FRAGMENTS = [
  '(', ')', '[', ']', '{', '}', '#(', '#u8(', '.', ' . ', '\'', '`', ',', ',@', '#\'', '#`', '#,', '#,@', '#;', ';', '\n', '#|', '|#',
  '"', '\\', '\\q', '\\x41;', '\\u{', '#\\', '#\\space', '#\\x', '#t', '#false', '#:', '|', '1/0', '1/2', '+inf.0', '#x', '#b102', '1e', '.5',
  'define', 'lambda', 'let', 'if', 'set!', 'quote', 'while #t', 'eval', 'λ', '😀', '\u0000', '#!', '#<<E\n', 'E',
];

const mutated = fc.tuple(
  fc.constantFrom(...SEEDS),
  fc.array(fc.record({ pos: fc.nat(), del: fc.nat({ max: 6 }), ins: fc.constantFrom(...FRAGMENTS) }), { maxLength: 8 }),
).map(([seed, edits]) => {
  let s = seed;
  for (const e of edits) {
    const at = s.length === 0 ? 0 : e.pos % (s.length + 1);
    s = s.slice(0, at) + e.ins + s.slice(at + e.del);
  }
  return s;
});
const steelText = fc.oneof(
  { weight: 3, arbitrary: mutated },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...FRAGMENTS, 'a', ' ', '1'), { maxLength: 60 }).map((a) => a.join('')) },
);

/** The line and column an offset has, counted the way the lexer counts them. */
function positionOf(src: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) if (src.charCodeAt(i) === 10) { line++; start = i + 1; }
  return { line, col: offset - start + 1 };
}

function badPosition(src: string, p: Position, what: string): string | null {
  if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset > src.length) return `${what}: offset ${p.offset} outside the input`;
  const want = positionOf(src, p.offset);
  return want.line === p.line && want.col === p.col ? null : `${what}: ${p.line}:${p.col} but offset ${p.offset} is ${want.line}:${want.col}`;
}

const RULES = new Set(['syntax', 'size', 'depth', 'forms', 'special-form', 'set', 'unknown-function', 'call', 'forbidden', 'unbounded-loop']);

function badFinding(f: Finding): string | null {
  if (Object.getPrototypeOf(f) !== Object.prototype) return 'finding is not a plain object';
  if (!Number.isInteger(f.line) || f.line < 1 || !Number.isInteger(f.col) || f.col < 1) return `finding at ${f.line}:${f.col}`;
  if (f.severity !== 'error' && f.severity !== 'warning') return `severity ${String(f.severity)}`;
  if (!RULES.has(f.rule)) return `rule ${String(f.rule)}`;
  if (typeof f.message !== 'string' || f.message === '' || typeof f.hint !== 'string' || f.hint === '') return 'finding without message or hint';
  return null;
}

const readerTarget: FuzzTarget<string> = {
  name: 'steel-reader',
  arbitrary: steelText,
  check(src) {
    const r = read(src);
    if (r.error !== null) {
      if (!(r.error instanceof SteelSyntaxError)) return 'error is not a SteelSyntaxError';
      const bad = badPosition(src, r.error.at, 'error');
      if (bad) return bad;
      if (r.error.related) { const rb = badPosition(src, r.error.related.at, 'related'); if (rb) return rb; }
    }
    for (const f of r.forms) { const bad = badPosition(src, f.at, 'datum'); if (bad) return bad; }
    const t = tokenize(src);
    let last = -1;
    for (const tok of t.tokens) {
      if (tok.start.offset <= last || tok.end <= tok.start.offset || tok.end > src.length) return `token ${tok.kind} at ${tok.start.offset}..${tok.end} out of order`;
      last = tok.start.offset;
    }
    if (t.error && !(t.error instanceof SteelSyntaxError)) return 'tokenize error is not a SteelSyntaxError';
    return null;
  },
};

const checkerTarget: FuzzTarget<string> = {
  name: 'steel-checker',
  arbitrary: steelText,
  check(src) {
    const r = checkProgram(src);
    let prev = [0, 0];
    for (const f of r.findings) {
      const bad = badFinding(f);
      if (bad) return bad;
      if (f.line < prev[0] || (f.line === prev[0] && f.col < prev[1])) return 'findings out of position order';
      prev = [f.line, f.col];
    }
    const errors = r.findings.filter((f) => f.severity === 'error').length;
    if (errors !== r.errors || r.ok !== (errors === 0) || r.warnings !== r.findings.length - errors) return 'counts disagree with findings';
    if (JSON.stringify(JSON.parse(JSON.stringify(r.findings))) !== JSON.stringify(r.findings)) return 'findings are not plain JSON';
    const syntax = checkProgram(src, { syntaxOnly: true });
    if (syntax.findings.some((f) => f.rule !== 'syntax')) return 'syntax-only reported a non-syntax rule';
    return null;
  },
};

const T = '2025-08-25T09:06:08Z';
const VALID: Record<string, unknown>[] = [
  { program_id: 'p', status: 'Completed', message: null, timestamp: T, execution_time_ms: 5 },
  { device_id: 'd', programs: [{ program_id: 'p', status: 'Running', timestamp: T }], timestamp: T },
  { program_id: 'p', success: true, result: 'ok', error: null, execution_time_ms: 1, timestamp: T },
  { state: { reported: { runtime_status: 'Idle', hardware_state: { led_status: false, sleep_status: 'Awake', memory_usage: { total_bytes: 1, free_bytes: 1, used_bytes: 0, largest_free_block: 1 } }, system_info: { firmware_version: '1', platform: 'p', uptime_seconds: 1, steel_runtime_version: '0.7.0' }, timestamp: T } } },
  { ...buildLoadMessage({ programId: 'p', steelCode: '(led-on)', version: '1' }) },
  { program_id: 'p', action: 'Execute', parameters: null, timeout_seconds: null },
];
const KEYS = ['program_id', 'status', 'timestamp', 'programs', 'success', 'result', 'execution_time_ms', 'state', 'reported', 'runtime_status', 'hardware_state', 'checksum', 'metadata', 'action', 'ExecutingProgram', 'sleep_status'];

/** A valid message with one field (at any depth) replaced by anything. */
const mutatedMessage = fc.tuple(fc.constantFrom(...VALID), fc.constantFrom(...KEYS), fc.anything({ maxDepth: 2 })).map(([m, key, value]) => {
  const copy = JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
  const todo: unknown[] = [copy];
  while (todo.length > 0) {
    const o = todo.pop();
    if (o && typeof o === 'object') {
      if (Object.prototype.hasOwnProperty.call(o, key)) { (o as Record<string, unknown>)[key] = value; break; }
      todo.push(...Object.values(o));
    }
  }
  return copy;
});

const PARSERS = [parseStatusReport, parseFullReport, parseResult, parseShadowUpdate, parseLoadMessage, parseRequest];

const messagesTarget: FuzzTarget<unknown> = {
  name: 'steel-messages',
  arbitrary: fc.oneof(mutatedMessage, fc.jsonValue(), fc.json(), fc.anything()),
  check(input) {
    for (const parse of PARSERS) {
      const r = parse(input);
      if (r.ok) {
        if (JSON.stringify(r.value) === undefined) return `${parse.name}: value is not JSON`;
      } else if (!Array.isArray(r.errors) || r.errors.length === 0 || r.errors.some((e) => typeof e.field !== 'string' || typeof e.message !== 'string' || e.message === '')) {
        return `${parse.name}: malformed field errors`;
      }
    }
    return null;
  },
};

export const targets: FuzzTarget[] = [readerTarget as FuzzTarget, checkerTarget as FuzzTarget, messagesTarget];
