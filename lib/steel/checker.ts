/**
 * The Steel program checker: the reader's error, the special forms' shapes, every called name
 * accounted for (defined by the program, bound locally, a Steel builtin or a device function),
 * forbidden calls, obvious unbounded loops, and size/depth/form-count limits. Every finding names
 * line:column, a rule, a message and a hint. A plain module: the CLI and the fleet-steel node
 * both call `checkProgram`.
 */
import { STEEL_BUILTINS } from './builtins';
import { DEFAULT_DEVICE_API, FORBIDDEN_CALLS } from './device-api';
import { read, type Datum, type ListDatum, type Position } from './reader';

export type Severity = 'error' | 'warning';
export type Rule =
  | 'syntax' | 'size' | 'depth' | 'forms' | 'special-form' | 'set' | 'unknown-function' | 'call'
  | 'forbidden' | 'unbounded-loop';

export interface Finding {
  readonly line: number;
  readonly col: number;
  readonly severity: Severity;
  readonly rule: Rule;
  readonly message: string;
  readonly hint: string;
}

export interface CheckOptions {
  /** Device functions the program may call; default DEFAULT_DEVICE_API. */
  readonly deviceApi?: readonly string[];
  /** Calls refused outright; default FORBIDDEN_CALLS. */
  readonly forbiddenCalls?: readonly string[];
  readonly forbidden?: Severity;
  readonly unboundedLoops?: Severity;
  readonly unknownFunctions?: Severity;
  /** UTF-8 bytes; default 65,536 (production.toml's max_program_size on the device). */
  readonly maxBytes?: number;
  /** List nesting; default 32. */
  readonly maxDepth?: number;
  /** Top-level forms; default 256. */
  readonly maxForms?: number;
  /** Run the reader alone. */
  readonly syntaxOnly?: boolean;
}

export interface CheckResult {
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
}

export const DEFAULT_LIMITS = { maxBytes: 65_536, maxDepth: 32, maxForms: 256 } as const;
/** Beyond this nesting the semantic walk (recursive) is not attempted; the depth finding stands. */
const WALK_DEPTH_CAP = 1_000;
/** Suggestions cost a scan of ~1,000 names each; past this many unknown names, none are offered. */
const MAX_SUGGESTIONS = 10;

const SPECIAL = new Set([
  'define', 'defn', '#%define', 'lambda', 'fn', 'λ', '#%plain-lambda', 'let', 'let*', 'letrec', 'letrec*', 'if',
  'cond', 'case', 'when', 'unless', 'begin', 'set!', 'quote', 'quasiquote', 'unquote', 'unquote-splicing',
  'require', 'provide', 'define-syntax', 'syntax-rules', 'and', 'or', 'do', 'while', 'struct', 'define-values',
  'return!', 'else',
]);
/** Steel prelude macros whose arguments are patterns or declarations, not expressions. */
const OPAQUE_MACROS = new Set([
  'match', 'match-define', 'match-syntax', 'define-type', 'define/contract', 'defmacro', 'module', 'contract/out',
  'syntax', 'quasisyntax', 'with-syntax', 'case-lambda', 'klambda', 'define/generator', 'def-method', 'impl',
  'make-generator!', 'syntax-case', 'let-values', 'let*-values', 'define-record-type', 'provide', 'struct',
]);
const EXITS = new Set(['return!', 'error', 'error!', 'raise', 'raise-error', 'exit', 'break']);
const CONDITIONALS = new Set(['if', 'cond', 'case', 'when', 'unless', 'and', 'or', 'while', 'do', 'match']);

const enum Global { Special, OpaqueMacro, Forbidden, Device, Builtin }

const globalsCache = new Map<readonly string[], Map<readonly string[], ReadonlyMap<string, Global>>>();

/** Built once per (device API, forbidden list) pair: a thousand entries are not rebuilt per program. */
function globalsFor(device: readonly string[], forbidden: readonly string[]): ReadonlyMap<string, Global> {
  let inner = globalsCache.get(device);
  if (!inner) { inner = new Map(); if (globalsCache.size < 32) globalsCache.set(device, inner); }
  const hit = inner.get(forbidden);
  if (hit) return hit;
  // Later kinds win: a device function shadows a Steel builtin, a forbidden call both; special forms stay special.
  const m = new Map<string, Global>();
  for (const n of STEEL_BUILTINS) m.set(n, OPAQUE_MACROS.has(n) ? Global.OpaqueMacro : Global.Builtin);
  for (const n of device) m.set(n, Global.Device);
  for (const n of forbidden) m.set(n, Global.Forbidden);
  for (const n of SPECIAL) m.set(n, Global.Special);
  if (inner.size < 32) inner.set(forbidden, m);
  return m;
}

class Scope {
  /** Made on the first name: many bodies bind nothing. */
  private names: Set<string> | null = null;
  constructor(readonly parent: Scope | null) {}
  add(n: string): void { (this.names ??= new Set()).add(n); }
  has(n: string): boolean {
    // A loop, not recursion: scopes nest as deep as the program does.
    if (this.names?.has(n)) return true;
    for (let s = this.parent; s; s = s.parent) if (s.names?.has(n)) return true;
    return false;
  }
}

const isList = (d: Datum | undefined): d is ListDatum => d !== undefined && d.type === 'list';
const isSym = (d: Datum | undefined, name?: string): d is Extract<Datum, { type: 'symbol' }> =>
  d !== undefined && d.type === 'symbol' && (name === undefined || d.name === name);
const headName = (d: Datum): string | null => (isList(d) && d.mod === null && isSym(d.items[0]) ? (d.items[0] as { name: string }).name : null);

const ROW_A = new Uint16Array(256);
const ROW_B = new Uint16Array(256);

/** Edit distance, or max + 1 as soon as it must exceed max (names longer than 255 never match). */
function levenshtein(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max || a.length > 255 || b.length > 255) return max + 1;
  let prev = ROW_A;
  let cur = ROW_B;
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let best = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1));
      cur[j] = v;
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    const t = prev; prev = cur; cur = t;
  }
  return prev[b.length];
}

class Checker {
  readonly findings: Finding[] = [];
  /** What a name in call position is when nothing in scope binds it: one lookup instead of four. */
  private readonly globals: ReadonlyMap<string, Global>;
  private readonly macros = new Set<string>();
  private readonly programNames: Scope = new Scope(null);
  private suggestions = 0;
  private hasRequire = false;

  constructor(private readonly o: CheckOptions) {
    this.globals = globalsFor(o.deviceApi ?? DEFAULT_DEVICE_API, o.forbiddenCalls ?? FORBIDDEN_CALLS);
  }

  add(at: Position, severity: Severity, rule: Rule, message: string, hint: string): void {
    this.findings.push({ line: at.line, col: at.col, severity, rule, message, hint });
  }

  program(forms: readonly Datum[]): void {
    this.hasRequire = forms.some((f) => headName(f) === 'require');
    this.collect(forms, this.programNames);
    const top = new Scope(this.programNames);
    for (const f of forms) this.expr(f, top, 0);
  }

  /** Names a body defines, so calls before the definition (and mutual recursion) resolve. */
  private collect(body: readonly Datum[], scope: Scope, from = 0): void {
    let todo: Datum[] | null = null; // forms of nested begins, rarely any
    for (let i = from; ; i++) {
      let f: Datum;
      if (i < body.length) f = body[i];
      else if (todo && todo.length > 0) f = todo.pop() as Datum;
      else break;
      const h = headName(f);
      if (!h || !isList(f)) continue;
      const target = f.items[1];
      if (h === 'begin') { todo ??= []; for (let k = 1; k < f.items.length; k++) todo.push(f.items[k]); }
      else if (h === 'define' || h === 'defn' || h === '#%define') {
        let t: Datum | undefined = target;
        while (isList(t)) t = t.items[0];
        if (isSym(t)) scope.add(t.name);
      } else if (h === 'define-syntax' || h === 'defmacro') {
        if (isSym(target)) { scope.add(target.name); this.macros.add(target.name); }
      } else if (h === 'struct' && isSym(target)) {
        const n = target.name;
        scope.add(n); scope.add(`${n}?`);
        if (isList(f.items[2])) for (const fd of f.items[2].items) if (isSym(fd)) scope.add(`${n}-${fd.name}`);
      } else if (h === 'define-values' && isList(target)) {
        for (const v of target.items) if (isSym(v)) scope.add(v.name);
      }
    }
  }

  /** A body: forms[from..], with its own scope for internal defines. */
  private body(forms: readonly Datum[], from: number, scope: Scope, depth: number): void {
    const inner = new Scope(scope);
    this.collect(forms, inner, from);
    for (let i = from; i < forms.length; i++) this.expr(forms[i], inner, depth);
  }

  private expr(d: Datum, scope: Scope, depth: number): void {
    if (!isList(d) || d.mod !== null || depth > WALK_DEPTH_CAP) return;
    const items = d.items;
    if (items.length === 0) {
      this.add(d.at, 'error', 'call', 'empty application ()', 'write \'() for the empty list');
      return;
    }
    if (d.tail) {
      this.add(d.at, 'error', 'call', 'a call cannot be an improper list', 'remove the \'.\' or quote the pair');
      return;
    }
    const head = items[0];
    if (isList(head)) {
      for (const x of items) this.expr(x, scope, depth + 1);
      return;
    }
    if (!isSym(head)) {
      this.add(head.at, 'error', 'call', `cannot call a ${head.type}`, 'the first element of a call must name a function; quote the list if it is data');
      return;
    }
    const name = head.name;
    if (scope.has(name)) {
      if (!this.macros.has(name)) this.args(items, 1, scope, depth);
      return;
    }
    const kind = this.globals.get(name);
    if (kind === Global.Special) { this.special(name, d, scope, depth); return; }
    if (kind === Global.OpaqueMacro) return;
    if (kind === Global.Forbidden) {
      this.add(head.at, this.o.forbidden ?? 'error', 'forbidden', `'${name}' is not allowed in a device program`,
        'device programs may not evaluate code, start processes or use files and the network; use the device API (mqtt-publish, store, load, ...)');
    } else if (kind === undefined) {
      this.unknown(head.at, name);
    }
    this.args(items, 1, scope, depth);
  }

  private unknown(at: Position, name: string): void {
    let hint = this.hasRequire
      ? 'define it, or check it is provided by a required module (the checker does not follow require)'
      : 'define it in the program, or add it to the device API profile (--api) if the firmware provides it';
    if (this.suggestions < MAX_SUGGESTIONS || this.nearestCache.has(name)) {
      if (!this.nearestCache.has(name)) this.suggestions++;
      const near = this.nearest(name);
      if (near) hint = `did you mean '${near}'? ${hint}`;
    }
    this.add(at, this.o.unknownFunctions ?? (this.hasRequire ? 'warning' : 'error'), 'unknown-function',
      `'${name}' is not defined by the program, bound locally, a Steel builtin or a device function`, hint);
  }

  private readonly nearestCache = new Map<string, string | null>();

  private nearest(name: string): string | null {
    const cached = this.nearestCache.get(name);
    if (cached !== undefined) return cached;
    const found = this.scanNearest(name);
    this.nearestCache.set(name, found);
    return found;
  }

  private scanNearest(name: string): string | null {
    const max = name.length <= 4 ? 1 : 2;
    let best: string | null = null;
    let bestD = max + 1;
    for (const pool of [this.globals.keys()]) {
      for (const c of pool) {
        if (this.globals.get(c) === Global.Special || this.globals.get(c) === Global.Forbidden) continue;
        const dist = levenshtein(name, c, max);
        // On a tie, a name the typo is the start of (led-of → led-off) beats a substitution.
        if (dist < bestD || (dist === bestD && best !== null && c.startsWith(name) && !best.startsWith(name))) { bestD = dist; best = c; }
      }
    }
    return best;
  }

  private args(items: readonly Datum[], from: number, scope: Scope, depth: number): void {
    for (let i = from; i < items.length; i++) this.expr(items[i], scope, depth + 1);
  }

  private shape(at: Position, message: string, hint: string): void {
    this.add(at, 'error', 'special-form', message, hint);
  }

  private params(p: Datum, scope: Scope, outer: Scope, depth: number, form: string): void {
    if (isSym(p)) { scope.add(p.name); return; }
    if (!isList(p)) { this.shape(p.at, `${form}: parameters must be a name or a list of names`, 'write (lambda (a b) ...) or (lambda args ...)'); return; }
    this.paramList(p.items, 0, p.tail, scope, outer, depth, form);
  }

  private paramList(items: readonly Datum[], from: number, tail: Datum | null, scope: Scope, outer: Scope, depth: number, form: string): void {
    for (let i = from; i < items.length; i++) {
      const x = items[i];
      if (isSym(x)) scope.add(x.name);
      else if (x.type === 'keyword') continue;
      else if (isList(x) && isSym(x.items[0]) && x.items.length === 2) { scope.add(x.items[0].name); this.expr(x.items[1], outer, depth + 1); }
      else this.shape(x.at, `${form}: a parameter must be a name`, 'parameters are names, #:keywords or [name default]');
    }
    if (tail) {
      if (isSym(tail)) scope.add(tail.name);
      else this.shape(tail.at, `${form}: the rest parameter after '.' must be a name`, 'write (a b . rest)');
    }
  }

  private special(name: string, d: ListDatum, scope: Scope, depth: number): void {
    const it = d.items;
    const n = it.length - 1;
    switch (name) {
      case 'define': case 'defn': case '#%define': {
        const target = it[1];
        if (!target) { this.shape(d.at, `${name} needs a name`, `write (${name} name value) or (${name} (name args ...) body ...)`); return; }
        if (isSym(target)) {
          scope.add(target.name);
          if (n !== 2) this.shape(d.at, `(${name} ${target.name} ...) takes exactly one value, got ${n - 1}`, `write (${name} ${target.name} value); to define a function write (${name} (${target.name} args ...) body ...)`);
          if (it[2]) this.expr(it[2], scope, depth + 1);
          return;
        }
        if (isList(target) && target.mod === null) {
          const fname = target.items[0];
          if (!isSym(fname)) { this.shape(target.at, `${name}: the function name must be a name`, `write (${name} (name args ...) body ...)`); return; }
          scope.add(fname.name);
          if (n < 2) { this.shape(d.at, `${name} of '${fname.name}' has no body`, 'a function needs at least one body expression'); return; }
          const inner = new Scope(scope);
          this.paramList(target.items, 1, target.tail, inner, scope, depth, name);
          this.loopCheck(fname.name, it, 2, d.at);
          this.body(it, 2, inner, depth + 1);
          return;
        }
        this.shape(target.at, `${name}: expected a name or (name args ...), got a ${target.type}`, `write (${name} name value) or (${name} (name args ...) body ...)`);
        return;
      }
      case 'lambda': case 'fn': case 'λ': case '#%plain-lambda': {
        if (n < 2) { this.shape(d.at, `${name} needs parameters and at least one body expression`, `write (${name} (args ...) body ...)`); return; }
        const inner = new Scope(scope);
        this.params(it[1], inner, scope, depth, name);
        this.body(it, 2, inner, depth + 1);
        return;
      }
      case 'let': case 'let*': case 'letrec': case 'letrec*': {
        let bi = 1;
        let loopName: string | null = null;
        if (name === 'let' && isSym(it[1])) { loopName = it[1].name; bi = 2; }
        const bindings = it[bi];
        if (!isList(bindings) || bindings.tail) { this.shape(bindings?.at ?? d.at, `${name} needs a list of bindings`, `write (${name} ((name value) ...) body ...)`); return; }
        if (it.length - bi - 1 < 1) this.shape(d.at, `${name} has no body`, `write (${name} ((name value) ...) body ...)`);
        const inner = new Scope(scope);
        if (loopName) inner.add(loopName);
        let seqScope = scope;
        if (name === 'letrec' || name === 'letrec*') {
          for (const b of bindings.items) if (isList(b) && isSym(b.items[0])) inner.add(b.items[0].name);
        }
        for (const b of bindings.items) {
          if (!isList(b) || b.items.length !== 2 || !isSym(b.items[0])) {
            this.shape(b.at, `${name}: each binding must be (name value)`, 'write ((x 1) (y 2))');
            if (isList(b) && isSym(b.items[0])) inner.add(b.items[0].name);
            continue;
          }
          const bn = b.items[0].name;
          if (name === 'let*') {
            this.expr(b.items[1], seqScope, depth + 1);
            const next = new Scope(seqScope);
            next.add(bn);
            seqScope = next;
          } else {
            this.expr(b.items[1], name === 'let' ? scope : inner, depth + 1);
          }
          inner.add(bn);
        }
        if (loopName) this.loopCheck(loopName, it, bi + 1, d.at);
        this.body(it, bi + 1, name === 'let*' ? seqScope : inner, depth + 1);
        return;
      }
      case 'if':
        if (n < 2 || n > 3) this.shape(d.at, `if takes a test, a then branch and an optional else branch (2–3 parts), got ${n}`, n < 2 ? 'add the branch to take when the test is true' : 'wrap several expressions in (begin ...), or use cond');
        this.args(it, 1, scope, depth);
        return;
      case 'when': case 'unless':
        if (n < 2) this.shape(d.at, `${name} needs a test and at least one body expression`, `write (${name} test body ...)`);
        this.args(it, 1, scope, depth);
        return;
      case 'cond':
        it.slice(1).forEach((c, i) => {
          if (!isList(c) || c.items.length === 0) { this.shape(c.at, 'cond: each clause must be a non-empty list (test body ...)', 'write (cond [(test) result] [else result])'); return; }
          if (isSym(c.items[0], 'else') && i !== n - 1) this.shape(c.at, 'cond: else must be the last clause', 'move the else clause to the end');
          for (let k = 0; k < c.items.length; k++) {
            const x = c.items[k];
            if ((k === 0 && isSym(x, 'else')) || isSym(x, '=>')) continue;
            this.expr(x, scope, depth + 1);
          }
        });
        return;
      case 'case':
        if (n < 1) { this.shape(d.at, 'case needs a key expression', 'write (case key [(datum ...) result] [else result])'); return; }
        this.expr(it[1], scope, depth + 1);
        it.slice(2).forEach((c, i) => {
          if (!isList(c) || c.items.length < 2) { this.shape(c.at, 'case: each clause must be ((datum ...) body ...)', 'write [(1 2) "small"]'); return; }
          const k = c.items[0];
          if (isSym(k, 'else')) { if (i !== n - 2) this.shape(c.at, 'case: else must be the last clause', 'move the else clause to the end'); }
          else if (!isList(k)) this.shape(k.at, 'case: a clause starts with a list of data', 'write [(1 2) ...] rather than [1 ...]');
          for (const x of c.items.slice(1)) if (!isSym(x, '=>')) this.expr(x, scope, depth + 1);
        });
        return;
      case 'begin': case 'and': case 'or':
        this.args(it, 1, scope, depth);
        return;
      case 'set!': {
        const target = it[1];
        if (n !== 2 || !isSym(target)) { this.shape(d.at, 'set! takes a name and a value', 'write (set! name value)'); this.args(it, 2, scope, depth); return; }
        if (!scope.has(target.name)) this.add(target.at, 'error', 'set', `set! of '${target.name}', which the program does not define or bind`, `define it first: (define ${target.name} ...)`);
        this.expr(it[2], scope, depth + 1);
        return;
      }
      case 'quote':
        if (n !== 1) this.shape(d.at, `quote takes exactly one datum, got ${n}`, 'write (quote x) or \'x');
        return;
      case 'quasiquote':
        if (n !== 1) { this.shape(d.at, `quasiquote takes exactly one datum, got ${n}`, 'write `x'); return; }
        this.unquoted(it[1], scope, depth);
        return;
      case 'unquote': case 'unquote-splicing':
        this.shape(d.at, `${name} outside a quasiquote`, 'use , and ,@ only inside `');
        return;
      case 'require':
        if (n < 1) this.shape(d.at, 'require needs a module', 'write (require "file.scm") or (require steel/lists)');
        for (const x of it.slice(1)) if (!(x.type === 'string' || x.type === 'symbol' || isList(x))) this.shape(x.at, 'require: a module is a string, a name or a (spec ...) list', 'write (require "file.scm")');
        return;
      case 'define-syntax': {
        if (n !== 2 || !isSym(it[1])) { this.shape(d.at, 'define-syntax takes a name and a transformer', 'write (define-syntax name (syntax-rules () [(name x) x]))'); return; }
        scope.add(it[1].name);
        this.macros.add(it[1].name);
        const tr = it[2];
        if (headName(tr) === 'syntax-rules' && isList(tr)) this.syntaxRules(tr);
        return;
      }
      case 'syntax-rules':
        this.syntaxRules(d);
        return;
      case 'do': {
        const specs = it[1];
        const test = it[2];
        if (!isList(specs) || !isList(test)) { this.shape(d.at, 'do needs ((var init step) ...) and (test result ...)', 'write (do ((i 0 (+ i 1))) ((= i 10)) body ...)'); return; }
        const inner = new Scope(scope);
        for (const s of specs.items) {
          if (!isList(s) || !isSym(s.items[0]) || s.items.length < 2 || s.items.length > 3) { this.shape(s.at, 'do: each variable is (var init [step])', 'write (i 0 (+ i 1))'); continue; }
          inner.add(s.items[0].name);
          this.expr(s.items[1], scope, depth + 1);
        }
        for (const s of specs.items) if (isList(s) && s.items[2]) this.expr(s.items[2], inner, depth + 1);
        this.args(test.items, 0, inner, depth);
        this.body(it, 3, inner, depth + 1);
        return;
      }
      case 'while':
        if (n < 1) { this.shape(d.at, 'while needs a test', 'write (while test body ...)'); return; }
        if (it[1].type === 'boolean' && it[1].value && !this.mentions(it.slice(2), EXITS)) {
          this.add(d.at, this.o.unboundedLoops ?? 'error', 'unbounded-loop', '(while #t ...) has no way out', 'loop on a condition that becomes false, or leave with return! or error; a device program that never ends blocks the runtime');
        }
        this.args(it, 1, scope, depth);
        return;
      case 'define-values':
        if (isList(it[1])) for (const v of it[1].items) if (isSym(v)) scope.add(v.name);
        this.args(it, 2, scope, depth);
        return;
      case 'return!':
        this.args(it, 1, scope, depth);
        return;
      default:
        // struct, provide, else: declarations with no expressions to check.
        return;
    }
  }

  private syntaxRules(d: ListDatum): void {
    const lits = d.items[1];
    if (!isList(lits)) { this.shape(d.at, 'syntax-rules needs a list of literals first', 'write (syntax-rules () [(name x) x])'); return; }
    for (const r of d.items.slice(2)) {
      if (!isList(r) || r.items.length !== 2 || !isList(r.items[0])) this.shape(r.at, 'syntax-rules: each rule is [(pattern ...) template]', 'write [(name x) (+ x 1)]');
    }
  }

  /** Walks the unquoted parts of a quasiquoted datum. Iterative: data can nest deeply. */
  private unquoted(d: Datum, scope: Scope, depth: number): void {
    const todo: Datum[] = [d];
    while (todo.length > 0) {
      const x = todo.pop() as Datum;
      if (!isList(x)) continue;
      const h = headName(x);
      if ((h === 'unquote' || h === 'unquote-splicing') && x.items.length === 2) { this.expr(x.items[1], scope, depth + 1); continue; }
      if (h === 'quasiquote') continue;
      todo.push(...x.items);
      if (x.tail) todo.push(x.tail);
    }
  }

  private mentions(forms: readonly Datum[], names: ReadonlySet<string>): boolean {
    const todo = [...forms];
    while (todo.length > 0) {
      const x = todo.pop() as Datum;
      if (isSym(x) && names.has(x.name)) return true;
      if (isList(x)) { todo.push(...x.items); if (x.tail) todo.push(x.tail); }
    }
    return false;
  }

  /** A function or named let whose body ends in calling itself with no conditional anywhere never stops. */
  private loopCheck(self: string, forms: readonly Datum[], from: number, at: Position): void {
    const last = forms[forms.length - 1];
    if (forms.length <= from || headName(last) !== self) return;
    const body = forms.slice(from);
    if (this.mentions(body, CONDITIONALS) || this.mentions(body, EXITS)) return;
    this.add(at, this.o.unboundedLoops ?? 'error', 'unbounded-loop', `'${self}' always calls itself again: it never stops`,
      'add a condition that ends the recursion, or use set-timer/schedule to run it again later');
  }
}

/** The first list nested deeper than `limit`, found without recursion. */
function firstTooDeep(forms: readonly Datum[], limit: number): Position | null {
  const todo: Array<[Datum, number]> = forms.map((f) => [f, 1]);
  while (todo.length > 0) {
    const [d, depth] = todo.pop() as [Datum, number];
    if (!isList(d)) continue;
    if (depth > limit) return d.at;
    for (let i = d.items.length - 1; i >= 0; i--) todo.push([d.items[i], depth + 1]);
    if (d.tail) todo.push([d.tail, depth + 1]);
  }
  return null;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function checkProgram(source: string, options: CheckOptions = {}): CheckResult {
  const findings: Finding[] = [];
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const maxDepth = options.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const maxForms = options.maxForms ?? DEFAULT_LIMITS.maxForms;
  const { forms, error, maxDepth: depthSeen } = read(source);
  if (error) {
    const hint = error.related ? `the opener is at ${error.related.at.line}:${error.related.at.col}` : 'fix the syntax; nothing after this point was checked';
    findings.push({ line: error.at.line, col: error.at.col, severity: 'error', rule: 'syntax', message: error.message.replace(/^\d+:\d+: /, ''), hint });
  }
  if (!options.syntaxOnly) {
    const bytes = utf8Length(source);
    if (bytes > maxBytes) findings.push({ line: 1, col: 1, severity: 'error', rule: 'size', message: `program is ${bytes} bytes, over the limit of ${maxBytes}`, hint: 'the device refuses larger programs; split it or remove unused code' });
    if (forms.length > maxForms) {
      const at = forms[maxForms].at;
      findings.push({ line: at.line, col: at.col, severity: 'error', rule: 'forms', message: `program has ${forms.length} top-level forms, over the limit of ${maxForms}`, hint: 'group definitions, or raise maxForms for this firmware' });
    }
    if (depthSeen > maxDepth) {
      const at = firstTooDeep(forms, maxDepth);
      if (at) findings.push({ line: at.line, col: at.col, severity: 'error', rule: 'depth', message: `nesting deeper than ${maxDepth} levels`, hint: 'move inner parts into named helper functions' });
    }
    if (!error) {
      const c = new Checker(options);
      c.program(forms);
      findings.push(...c.findings);
    }
  }
  findings.sort((a, b) => a.line - b.line || a.col - b.col);
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { ok: errors === 0, findings, errors, warnings: findings.length - errors };
}

/** `LINE:COL: error|warning: RULE: message`, the CLI's line without the file name. */
export function formatFinding(f: Finding): string {
  return `${f.line}:${f.col}: ${f.severity}: ${f.rule}: ${f.message}`;
}
