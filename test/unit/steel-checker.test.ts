/** The Steel checker: special forms, names, forbidden calls, loops, limits; every finding located. */
import * as assert from 'node:assert/strict';

import { checkProgram, type CheckOptions, type Finding } from '../../lib/steel/checker';
import { DEFAULT_DEVICE_API, parseDeviceApi } from '../../lib/steel/device-api';
import { GUIDE_BLINK, GUIDE_SENSOR_MONITORING } from './steel-fixtures';

const findings = (src: string, o: CheckOptions = {}): Finding[] => [...checkProgram(src, o).findings];
const rules = (src: string, o: CheckOptions = {}): string[] => findings(src, o).map((f) => `${f.line}:${f.col} ${f.severity} ${f.rule}`);
const clean = (src: string, o: CheckOptions = {}): void => assert.deepEqual(findings(src, o), []);

describe('steel checker: the guide\'s programs', () => {
  it('the blink and sensor-monitoring programs check clean', () => {
    clean(GUIDE_BLINK);
    clean(GUIDE_SENSOR_MONITORING);
  });

  it('the guide\'s optimisation snippet is refused for the helper it never defines', () => {
    const snippet = `(let ((sensors (read-sensors)))
  (let ((temp (get sensors 'temperature)))
    (process-temperature temp)))
(define readings '())
(when (>= (length readings) 10)
  (mqtt-publish "sensors/batch" (json-encode readings))
  (set! readings '()))`;
    assert.deepEqual(rules(snippet), ['3:6 error unknown-function']);
  });

  it('a missing paren is refused with line:column', () => {
    const broken = GUIDE_SENSOR_MONITORING.replace('(set-timer "sensor-check" 60 monitor-sensors))))', '(set-timer "sensor-check" 60 monitor-sensors)))');
    const f = findings(broken);
    assert.equal(f.length, 1);
    assert.deepEqual([f[0].line, f[0].col, f[0].rule, f[0].severity], [2, 1, 'syntax', 'error']);
    assert.match(f[0].message, /not closed/);
  });

  it('an unknown function is refused at its call, with a suggestion', () => {
    const f = findings(GUIDE_BLINK.replace('(led-off)', '(led-of)'));
    assert.equal(f.length, 1);
    assert.deepEqual([f[0].line, f[0].col, f[0].rule], [6, 4, 'unknown-function']);
    assert.match(f[0].message, /'led-of'/);
    assert.match(f[0].hint, /did you mean 'led-off'/);
  });
});

describe('steel checker: special forms', () => {
  it('define and defn', () => {
    clean('(define x 1) (defn (f a . rest) (+ a x)) (define (g #:k [k 2]) k) (f 1) (g)');
    assert.deepEqual(rules('(define)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(define x)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(define x 1 2)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(define (f))'), ['1:1 error special-form']);
    assert.deepEqual(rules('(define 1 2)'), ['1:9 error special-form']);
    assert.deepEqual(rules('(define ("f") 1)'), ['1:9 error special-form']);
  });

  it('lambda, fn and λ', () => {
    clean('(define f (lambda (x) x)) (define g (fn args args)) (define h (λ (a b) (+ a b)))');
    assert.deepEqual(rules('(lambda (x))'), ['1:1 error special-form']);
    assert.deepEqual(rules('(fn 1 2)'), ['1:5 error special-form']);
    assert.deepEqual(rules('(λ (x "y") x)'), ['1:7 error special-form']);
  });

  it('let, let*, letrec, named let', () => {
    clean('(let ((a 1) [b 2]) (+ a b)) (let* ((a 1) (b a)) b) (letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1))))) (od? (lambda (n) (ev? n)))) (ev? 4))');
    clean('(let loop ((i 0)) (when (< i 3) (loop (+ i 1))))');
    assert.deepEqual(rules('(let ((a)) a)'), ['1:7 error special-form']);
    assert.deepEqual(rules('(let (a 1) a)'), ['1:7 error special-form', '1:9 error special-form']);
    assert.deepEqual(rules('(let ((a 1)))'), ['1:1 error special-form']);
    assert.deepEqual(rules('(let x)'), ['1:1 error special-form']);
    // let's inits do not see each other; let*'s do
    assert.deepEqual(rules('(let ((a 1) (b (a))) b)'), ['1:17 error unknown-function']);
    clean('(let* ((a (lambda () 1)) (b (a))) b)');
  });

  it('if takes 2–3 parts', () => {
    clean('(if #t 1) (if #t 1 2)');
    assert.deepEqual(rules('(if #t)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(if)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(if #t 1 2 3)'), ['1:1 error special-form']);
  });

  it('cond, case, when, unless', () => {
    clean('(define x 1) (cond [(= x 1) "one"] [(assoc x \'((1 . 2))) => cdr] [else "other"]) (case x [(1 2) "low"] [else "high"]) (when x 1) (unless x 2)');
    assert.deepEqual(rules('(cond [else 1] [#t 2])'), ['1:7 error special-form']);
    assert.deepEqual(rules('(cond 1)'), ['1:7 error special-form']);
    assert.deepEqual(rules('(case 1 [1 "x"])'), ['1:10 error special-form']);
    assert.deepEqual(rules('(case 1 [else 1] [(2) 3])'), ['1:9 error special-form']);
    assert.deepEqual(rules('(when #t)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(unless)'), ['1:1 error special-form']);
  });

  it('begin, quote, quasiquote', () => {
    clean('(begin) (begin 1 2) \'(anything (goes here)) (quote (x y)) (define v 1) `(a ,v ,@(list v))');
    assert.deepEqual(rules('(quote a b)'), ['1:1 error special-form']);
    assert.deepEqual(rules('`(a ,(nope))'), ['1:7 error unknown-function']);
    assert.deepEqual(rules(',x'), ['1:1 error special-form']);
  });

  it('set! of a bound name only', () => {
    clean('(define n 0) (set! n (+ n 1)) (let ((m 1)) (set! m 2)) (define (f k) (set! k 3) k)');
    assert.deepEqual(rules('(set! nope 1)'), ['1:7 error set']);
    assert.deepEqual(rules('(set! car 1)'), ['1:7 error set']);
    assert.deepEqual(rules('(set! n)'), ['1:1 error special-form']);
  });

  it('require', () => {
    clean('(require "helpers.scm") (require steel/lists) (require (only-in "x.scm" f))');
    assert.deepEqual(rules('(require)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(require 1)'), ['1:10 error special-form']);
    // with a require, a name the checker cannot see is a warning, not an error
    assert.deepEqual(rules('(require "helpers.scm") (helper 1)'), ['1:26 warning unknown-function']);
  });

  it('define-syntax and syntax-rules', () => {
    clean('(define-syntax swap! (syntax-rules () [(swap! a b) (let ([tmp a]) (set! a b) (set! b tmp))])) (define x 1) (define y 2) (swap! x y)');
    assert.deepEqual(rules('(define-syntax m)'), ['1:1 error special-form']);
    assert.deepEqual(rules('(define-syntax m (syntax-rules 1 [(m) 1]))'), ['1:18 error special-form']);
    assert.deepEqual(rules('(define-syntax m (syntax-rules () [(m)]))'), ['1:35 error special-form']);
  });

  it('do loops and struct declarations', () => {
    clean('(do ((i 0 (+ i 1))) ((= i 3) i) (led-on)) (struct point (x y)) (point-x (point 1 2)) (point? 1)');
  });
});

describe('steel checker: names', () => {
  it('takes program definitions in any order, locals, Steel builtins and device functions', () => {
    clean('(define (a) (b)) (define (b) (displayln (map car (list (cons 1 2))))) (a)');
    clean(DEFAULT_DEVICE_API.filter((n) => n !== 'get').map((n) => `(${n})`).join(' '));
    clean('(define (f g) (g 1)) (f (lambda (x) x))');
  });

  it('refuses calls to undefined names and to non-functions', () => {
    assert.deepEqual(rules('(frobnicate 1)'), ['1:2 error unknown-function']);
    assert.deepEqual(rules('(1 2)'), ['1:2 error call']);
    assert.deepEqual(rules('("s")'), ['1:2 error call']);
    assert.deepEqual(rules('()'), ['1:1 error call']);
    assert.deepEqual(rules('(f . x)'), ['1:1 error call']);
  });

  it('a profile narrows the device functions', () => {
    const api = parseDeviceApi('{"functions": ["led-on", "log"]}');
    clean('(led-on) (log "i" "x")', { deviceApi: api });
    assert.deepEqual(rules('(led-on) (mqtt-publish "t" "x")', { deviceApi: api }), ['1:11 error unknown-function']);
    assert.throws(() => parseDeviceApi('{"functions": "led-on"}'), /JSON array/);
    assert.throws(() => parseDeviceApi('["a b"]'), /entry 0/);
    assert.throws(() => parseDeviceApi('nope'), /not JSON/);
  });

  it('a program may define a name that is otherwise forbidden', () => {
    clean('(define (eval x) x) (eval 1)');
  });
});

describe('steel checker: forbidden calls and loops', () => {
  it('refuses eval, system, file and network primitives; warns when configured', () => {
    for (const name of ['eval', 'system', 'command', 'open-input-file', 'delete-file!', 'read-dir', 'tcp-connect', 'http-parse-request']) {
      assert.deepEqual(rules(`(${name} "x")`), ['1:2 error forbidden'], name);
    }
    assert.deepEqual(rules('(eval 1)', { forbidden: 'warning' }), ['1:2 warning forbidden']);
    assert.equal(checkProgram('(eval 1)', { forbidden: 'warning' }).ok, true);
  });

  it('(while #t …) with no way out', () => {
    assert.deepEqual(rules('(while #t (led-on) (sleep 1))'), ['1:1 error unbounded-loop']);
    clean('(while #t (led-on) (when (> (uptime) 10) (return! 1)))');
    clean('(define n 0) (while (< n 3) (set! n (+ n 1)))');
    assert.deepEqual(rules('(while #t (led-on))', { unboundedLoops: 'warning' }), ['1:1 warning unbounded-loop']);
  });

  it('a function or named let that always calls itself again', () => {
    assert.deepEqual(rules('(define (tick) (led-on) (sleep 1) (tick)) (tick)'), ['1:1 error unbounded-loop']);
    assert.deepEqual(rules('(let loop () (led-on) (loop))'), ['1:1 error unbounded-loop']);
    clean('(define (tick n) (when (> n 0) (led-on) (tick (- n 1)))) (tick 3)');
  });
});

describe('steel checker: limits', () => {
  it('size: 65,536 bytes by default, counted in UTF-8', () => {
    const big = `(define s "${'x'.repeat(65_536)}")`;
    assert.deepEqual(rules(big), ['1:1 error size']);
    const justFits = `(define s "${'é'.repeat(32_761)}x")`;
    assert.equal(Buffer.byteLength(justFits), 65_536);
    clean(justFits);
    assert.deepEqual(rules('(led-on)', { maxBytes: 4 }), ['1:1 error size']);
  });

  it('nesting depth', () => {
    const deep = (n: number) => `${'(begin '.repeat(n)}1${')'.repeat(n)}`;
    clean(deep(32));
    assert.deepEqual(rules(deep(33)), ['1:225 error depth']);
    assert.deepEqual(rules(deep(5), { maxDepth: 4 }), ['1:29 error depth']);
    // very deep input: one depth finding, no stack overflow
    assert.deepEqual(rules(deep(50_000), { maxBytes: 1e9 }), ['1:225 error depth']);
  });

  it('number of top-level forms', () => {
    clean('(led-on)\n'.repeat(256));
    assert.deepEqual(rules('(led-on)\n'.repeat(257)), ['257:1 error forms']);
    assert.deepEqual(rules('1 2 3', { maxForms: 2 }), ['1:5 error forms']);
  });

  it('syntax-only runs the reader alone', () => {
    clean('(frobnicate) (eval 1) (if)', { syntaxOnly: true });
    assert.deepEqual(rules('(a', { syntaxOnly: true }), ['1:1 error syntax']);
  });

  it('every finding has a position, a rule, a message and a hint', () => {
    const f = findings('(frobnicate)\n(if)\n(eval 1)\n(set! q 1)\n(while #t 1)');
    assert.equal(f.length, 5);
    for (const x of f) {
      assert.ok(x.line >= 1 && x.col >= 1);
      assert.ok(x.message.length > 0 && x.hint.length > 0);
    }
    assert.deepEqual(f.map((x) => x.line), [1, 2, 3, 4, 5]);
  });
});
