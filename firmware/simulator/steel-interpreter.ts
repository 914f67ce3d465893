/**
 * A small Scheme interpreter over the Steel reader's data, for the simulated Steel devices: enough
 * of the language to run the guides' programs (define, lambda, let, let*, letrec, if, when, unless,
 * cond, begin, set!, and, or, quote, arithmetic and comparisons, lists, strings, format) and the
 * device API (log, LED, sensors, mqtt-publish, shadow-update, timers, store/load). It is not Steel:
 * the checker decides what a program may call; this only makes a simulated device do it.
 * Bounded: a step limit stops a runaway program with an error, as the device's timeout would.
 */
import { read, type Datum } from '../../lib/steel/reader';

export type Value =
  | number | string | boolean | null
  | { readonly sym: string }
  | Value[]
  | { readonly pair: readonly [Value, Value] }
  | Map<string, Value>
  | Procedure;

export interface Procedure { readonly proc: string; call(args: Value[]): Value }

export class SteelRuntimeError extends Error {}

export interface DeviceHooks {
  log(level: string, message: string): void;
  led(on: boolean): void;
  ledState(): boolean;
  sleep(seconds: number): void;
  readSensors(): Map<string, Value>;
  publish(topic: string, payload: string): void;
  shadowUpdate(key: string, value: Value): void;
  now(): number;
  uptime(): number;
  memory(): Map<string, Value>;
  deviceInfo(): Map<string, Value>;
}

class Env {
  private readonly vars = new Map<string, Value>();
  constructor(private readonly parent: Env | null) {}
  private owner(name: string): Env | null {
    if (this.vars.has(name)) return this;
    return this.parent ? this.parent.owner(name) : null;
  }
  lookup(name: string): Value {
    const e = this.owner(name);
    if (!e) throw new SteelRuntimeError(`free identifier: ${name}`);
    return e.vars.get(name) as Value;
  }
  define(name: string, v: Value): void { this.vars.set(name, v); }
  set(name: string, v: Value): void {
    const e = this.owner(name);
    if (!e) throw new SteelRuntimeError(`set!: ${name} is not bound`);
    e.vars.set(name, v);
  }
}

const isProc = (v: Value): v is Procedure => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && 'proc' in v;
const truthy = (v: Value): boolean => v !== false;
const num = (v: Value, who: string): number => { if (typeof v !== 'number') throw new SteelRuntimeError(`${who}: expected a number, got ${display(v)}`); return v; };
const str = (v: Value, who: string): string => { if (typeof v !== 'string') throw new SteelRuntimeError(`${who}: expected a string, got ${display(v)}`); return v; };

/** As Steel's `display` writes a value. */
export function display(v: Value): string {
  if (v === null) return 'void';
  if (typeof v === 'boolean') return v ? '#true' : '#false';
  if (typeof v === 'number' || typeof v === 'string') return String(v);
  if (Array.isArray(v)) return `(${v.map(display).join(' ')})`;
  if (v instanceof Map) return `#<hashmap {${[...v].map(([k, x]) => `${k}: ${display(x)}`).join(', ')}}>`;
  if ('sym' in v) return v.sym;
  if ('pair' in v) return `(${display(v.pair[0])} . ${display(v.pair[1])})`;
  return `#<procedure ${v.proc}>`;
}

/** json-encode: hashmaps and association lists become objects, lists arrays, symbols strings. */
export function toJson(v: Value): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Map) { const o: Record<string, unknown> = {}; for (const [k, x] of v) o[k] = toJson(x); return o; }
  if (Array.isArray(v)) {
    const pairs = v.length > 0 && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x) && 'pair' in x);
    if (pairs) { const o: Record<string, unknown> = {}; for (const x of v as Array<{ pair: readonly [Value, Value] }>) o[display(x.pair[0])] = toJson(x.pair[1]); return o; }
    return v.map(toJson);
  }
  if ('sym' in v) return v.sym;
  if ('pair' in v) return [toJson(v.pair[0]), toJson(v.pair[1])];
  return display(v);
}

function quoted(d: Datum): Value {
  switch (d.type) {
    case 'symbol': return { sym: d.name };
    case 'keyword': return { sym: `#:${d.name}` };
    case 'string': case 'char': return d.value;
    case 'boolean': return d.value;
    case 'number': return numberOf(d);
    case 'list': {
      const items = d.items.map(quoted);
      if (d.tail) return items.length === 1 ? { pair: [items[0], quoted(d.tail)] } : [...items.slice(0, -1), { pair: [items[items.length - 1], quoted(d.tail)] }];
      return items;
    }
  }
}

function numberOf(d: Extract<Datum, { type: 'number' }>): number {
  const v = d.value;
  if (v.type === 'float') return v.value;
  if (v.type === 'int') return parseInt(v.text, v.radix);
  if (v.type === 'rational') { const [a, b] = v.text.split('/'); return parseInt(a, v.radix) / parseInt(b, v.radix); }
  throw new SteelRuntimeError('complex numbers are not supported by this device');
}

export interface RunResult {
  readonly value: Value;
  readonly steps: number;
  /** Seconds the program asked to sleep. */
  readonly slept: number;
}

export class Interpreter {
  private steps = 0;
  private slept = 0;
  readonly timers = new Map<string, { seconds: number; callback: Value }>();
  readonly stored = new Map<string, Value>();
  private readonly global = new Env(null);

  constructor(private readonly hooks: DeviceHooks, private readonly maxSteps = 200_000) {
    this.installBuiltins();
  }

  /** Runs a whole program; throws SteelRuntimeError (or the reader's SteelSyntaxError). */
  run(source: string): RunResult {
    const { forms, error } = read(source);
    if (error) throw error;
    let value: Value = null;
    for (const f of forms) value = this.eval(f, this.global);
    return { value, steps: this.steps, slept: this.slept };
  }

  private fn(name: string, f: (args: Value[]) => Value): void {
    this.global.define(name, { proc: name, call: f });
  }

  private installBuiltins(): void {
    const h = this.hooks;
    const fold = (name: string, op: (a: number, b: number) => number, unit: number): void => this.fn(name, (a) => {
      if (a.length === 0) return unit;
      if (a.length === 1) return name === '-' ? -num(a[0], name) : name === '/' ? 1 / num(a[0], name) : num(a[0], name);
      return a.slice(1).reduce<number>((acc, x) => op(acc, num(x, name)), num(a[0], name));
    });
    fold('+', (a, b) => a + b, 0); fold('-', (a, b) => a - b, 0); fold('*', (a, b) => a * b, 1);
    fold('/', (a, b) => { if (b === 0) throw new SteelRuntimeError('/: division by zero'); return a / b; }, 1);
    const cmp = (name: string, op: (a: number, b: number) => boolean): void => this.fn(name, (a) => a.every((x, i) => i === 0 || op(num(a[i - 1], name), num(x, name))));
    cmp('<', (a, b) => a < b); cmp('>', (a, b) => a > b); cmp('<=', (a, b) => a <= b); cmp('>=', (a, b) => a >= b); cmp('=', (a, b) => a === b);
    this.fn('not', (a) => a[0] === false);
    this.fn('equal?', (a) => JSON.stringify(toJson(a[0])) === JSON.stringify(toJson(a[1])));
    this.fn('list', (a) => a);
    this.fn('cons', (a) => (Array.isArray(a[1]) ? [a[0], ...a[1]] : { pair: [a[0], a[1]] }));
    this.fn('car', (a) => { const l = a[0]; if (Array.isArray(l) && l.length) return l[0]; if (l && typeof l === 'object' && 'pair' in l) return l.pair[0]; throw new SteelRuntimeError('car: expected a pair'); });
    this.fn('cdr', (a) => { const l = a[0]; if (Array.isArray(l) && l.length) return l.slice(1); if (l && typeof l === 'object' && 'pair' in l) return l.pair[1]; throw new SteelRuntimeError('cdr: expected a pair'); });
    this.fn('null?', (a) => Array.isArray(a[0]) && a[0].length === 0);
    this.fn('length', (a) => { if (!Array.isArray(a[0])) throw new SteelRuntimeError('length: expected a list'); return a[0].length; });
    this.fn('string-append', (a) => a.map((x) => str(x, 'string-append')).join(''));
    this.fn('number->string', (a) => String(num(a[0], 'number->string')));
    this.fn('to-string', (a) => a.map(display).join(' '));
    this.fn('error', (a) => { throw new SteelRuntimeError(a.map(display).join(' ')); });
    this.fn('display', () => null); this.fn('displayln', () => null); this.fn('newline', () => null);
    this.fn('format', (a) => { let i = 1; return str(a[0], 'format').replace(/~[as]/g, () => display(a[i++] ?? null)); });
    this.fn('hash', (a) => { const m = new Map<string, Value>(); for (let i = 0; i + 1 < a.length; i += 2) m.set(display(a[i]), a[i + 1]); return m; });
    const get = (a: Value[]): Value => {
      const [c, k] = a;
      const key = display(k);
      if (c instanceof Map) { if (!c.has(key)) throw new SteelRuntimeError(`get: key not found: ${key}`); return c.get(key) as Value; }
      if (Array.isArray(c)) for (const x of c) if (x && typeof x === 'object' && 'pair' in x && display(x.pair[0]) === key) return x.pair[1];
      throw new SteelRuntimeError(`get: key not found: ${key}`);
    };
    this.fn('get', get); this.fn('hash-ref', get);
    // The device API (the guide's documented functions).
    this.fn('log', (a) => { h.log(a.length > 1 ? display(a[0]) : 'info', display(a[a.length - 1] ?? '')); return null; });
    for (const lvl of ['error', 'warn', 'info', 'debug']) this.fn(`log-${lvl}`, (a) => { h.log(lvl, a.map(display).join(' ')); return null; });
    this.fn('led-on', () => { h.led(true); return true; });
    this.fn('led-off', () => { h.led(false); return true; });
    this.fn('led-state', () => h.ledState());
    this.fn('sleep', (a) => { const s = num(a[0], 'sleep'); if (s < 0) throw new SteelRuntimeError('sleep: negative duration'); this.slept += s; h.sleep(s); return null; });
    this.fn('read-sensors', () => h.readSensors());
    this.fn('device-info', () => h.deviceInfo());
    this.fn('memory-info', () => h.memory());
    this.fn('uptime', () => h.uptime());
    this.fn('current-time', () => Math.floor(h.now() / 1000));
    this.fn('mqtt-publish', (a) => { h.publish(str(a[0], 'mqtt-publish'), typeof a[1] === 'string' ? a[1] : JSON.stringify(toJson(a[1]))); return true; });
    this.fn('shadow-update', (a) => { h.shadowUpdate(display(a[0]), a[1] ?? null); return true; });
    this.fn('json-encode', (a) => JSON.stringify(toJson(a[0])));
    this.fn('json-decode', (a) => { try { return fromJson(JSON.parse(str(a[0], 'json-decode'))); } catch (e) { if (e instanceof SteelRuntimeError) throw e; throw new SteelRuntimeError('json-decode: not JSON'); } });
    this.fn('set-timer', (a) => { this.timers.set(display(a[0]), { seconds: num(a[1], 'set-timer'), callback: a[2] ?? null }); return true; });
    this.fn('cancel-timer', (a) => this.timers.delete(display(a[0])));
    this.fn('schedule', () => true); this.fn('register-event-handler', () => true); this.fn('emit-event', () => true);
    this.fn('store', (a) => { this.stored.set(display(a[0]), a[1] ?? null); return true; });
    this.fn('load', (a) => this.stored.get(display(a[0])) ?? false);
    this.fn('delete', (a) => this.stored.delete(display(a[0])));
    this.fn('repeat', (a) => { const n = num(a[0], 'repeat'); const f = a[1]; if (!isProc(f)) throw new SteelRuntimeError('repeat: expected a procedure'); for (let i = 0; i < n; i++) f.call([]); return null; });
    this.fn('blink-led', (a) => { const n = a.length ? num(a[0], 'blink-led') : 1; for (let i = 0; i < n; i++) { h.led(true); h.led(false); } return null; });
  }

  private tick(): void {
    if (++this.steps > this.maxSteps) throw new SteelRuntimeError(`execution limit of ${this.maxSteps} steps reached`);
  }

  private body(forms: readonly Datum[], env: Env): Value {
    let v: Value = null;
    for (const f of forms) v = this.eval(f, env);
    return v;
  }

  private lambda(name: string, params: Datum, body: readonly Datum[], env: Env): Procedure {
    const names: string[] = [];
    let rest: string | null = null;
    if (params.type === 'symbol') rest = params.name;
    else if (params.type === 'list') {
      for (const p of params.items) if (p.type === 'symbol') names.push(p.name);
      if (params.tail?.type === 'symbol') rest = params.tail.name;
    }
    return {
      proc: name,
      call: (args) => {
        const e = new Env(env);
        names.forEach((n, i) => e.define(n, args[i] ?? null));
        if (rest) e.define(rest, args.slice(names.length));
        return this.body(body, e);
      },
    };
  }

  eval(d: Datum, env: Env): Value {
    this.tick();
    switch (d.type) {
      case 'symbol': return env.lookup(d.name);
      case 'number': return numberOf(d);
      case 'string': case 'char': return d.value;
      case 'boolean': return d.value;
      case 'keyword': return { sym: `#:${d.name}` };
      case 'list': break;
    }
    if (d.type !== 'list') return null;
    if (d.mod !== null) return d.items.map(quoted);
    const [head, ...rest] = d.items;
    if (!head) throw new SteelRuntimeError('empty application');
    if (head.type === 'symbol') {
      const s = head.name;
      switch (s) {
        case 'quote': return quoted(rest[0]);
        case 'define': case 'defn': {
          const target = rest[0];
          if (target?.type === 'list' && target.items[0]?.type === 'symbol') {
            const name = target.items[0].name;
            const params = { ...target, items: target.items.slice(1) } as Datum;
            env.define(name, this.lambda(name, params, rest.slice(1), env));
          } else if (target?.type === 'symbol') env.define(target.name, rest[1] ? this.eval(rest[1], env) : null);
          return null;
        }
        case 'lambda': case 'fn': case 'λ': return this.lambda('lambda', rest[0], rest.slice(1), env);
        case 'if': return truthy(this.eval(rest[0], env)) ? this.eval(rest[1], env) : rest[2] ? this.eval(rest[2], env) : null;
        case 'when': return truthy(this.eval(rest[0], env)) ? this.body(rest.slice(1), env) : null;
        case 'unless': return truthy(this.eval(rest[0], env)) ? null : this.body(rest.slice(1), env);
        case 'begin': return this.body(rest, env);
        case 'and': { let v: Value = true; for (const x of rest) { v = this.eval(x, env); if (!truthy(v)) return v; } return v; }
        case 'or': { for (const x of rest) { const v = this.eval(x, env); if (truthy(v)) return v; } return false; }
        case 'set!': { if (rest[0]?.type !== 'symbol') throw new SteelRuntimeError('set!: expected a name'); env.set(rest[0].name, this.eval(rest[1], env)); return null; }
        case 'cond': {
          for (const clause of rest) {
            if (clause.type !== 'list' || clause.items.length === 0) continue;
            const [test, ...body] = clause.items;
            if ((test.type === 'symbol' && test.name === 'else') || truthy(this.eval(test, env))) return this.body(body, env);
          }
          return null;
        }
        case 'let': case 'let*': case 'letrec': case 'letrec*': {
          if (rest[0]?.type === 'symbol') throw new SteelRuntimeError('named let is not supported by this simulated device');
          const bindings = rest[0]?.type === 'list' ? rest[0].items : [];
          const e = new Env(env);
          for (const b of bindings) {
            if (b.type !== 'list' || b.items[0]?.type !== 'symbol') continue;
            const name = b.items[0].name;
            e.define(name, b.items[1] ? this.eval(b.items[1], s === 'let' ? env : e) : null);
          }
          return this.body(rest.slice(1), e);
        }
        default: break;
      }
    }
    const f = this.eval(head, env);
    if (!isProc(f)) throw new SteelRuntimeError(`application not a procedure: ${display(f)}`);
    return f.call(rest.map((x) => this.eval(x, env)));
  }
}

function fromJson(x: unknown): Value {
  if (x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string') return x;
  if (Array.isArray(x)) return x.map(fromJson);
  const m = new Map<string, Value>();
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) m.set(k, fromJson(v));
  return m;
}
