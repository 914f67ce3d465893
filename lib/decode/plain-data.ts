/**
 * Turns what arrives into plain JSON data before anything else looks at it: objects with
 * Object.prototype, arrays with Array.prototype, finite numbers, strings, booleans and null, no
 * deeper than the nesting limit. Everything downstream (schema, normalise, registry, structuredClone,
 * JSON) may then trust the shape. Work is linear in the input: nesting is bounded before any recursion
 * and a value budget stops shared references from multiplying a small object into a huge walk.
 */
import { types } from 'node:util';
import { jsonTooDeepAt } from '../json-depth';

export { jsonTooDeepAt };

/**
 * Whether text could nest deeper than `maxDepth`: only if it holds more opening brackets than that
 * (nesting never exceeds the brackets opened). Counted with indexOf, far cheaper than
 * jsonTooDeepAt's scan that tells strings apart, which need run only when this says it might.
 */
export function mayNestDeeper(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth) return false;
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++n > maxDepth) return true;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++n > maxDepth) return true;
  return false;
}

export type DataProblemCode = 'depth' | 'reserved-key' | 'encoding' | 'payload-size' | 'schema';

export interface DataProblem {
  readonly code: DataProblemCode;
  /** JSON pointer of the offending value ('' for the whole payload). */
  readonly path: string;
  readonly reason: string;
}

export interface DataLimits {
  /** Deepest nesting of objects and arrays; the payload object itself is level 1. */
  readonly maxDepth: number;
  /** Budget for a JS object, counted like its JSON text: one per value plus the length of strings and keys. */
  readonly maxUnits: number;
}

/** `__proto__` as an own key would become a prototype the moment any code copies the object with `=`. */
export const RESERVED_KEY = '__proto__';

const pointer = (keys: readonly (string | number)[]): string =>
  keys.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');


/**
 * Checks a value JSON.parse made (ordinary prototypes, no cycles, nesting already bounded by
 * jsonTooDeepAt): no `__proto__` key, no number JSON.parse turned into Infinity (`1e400`).
 */
export function checkParsed(value: unknown): DataProblem | null {
  // Nearly every payload is fine: one walk without a path, and the one that keeps it only for a problem.
  if (parsedIsClean(value)) return null;
  const keys: (string | number)[] = [];
  const walk = (v: unknown): DataProblem | null => {
    if (typeof v === 'number') {
      return Number.isFinite(v) ? null : { code: 'schema', path: pointer(keys), reason: 'must be a finite number (NaN and Infinity are not readings)' };
    }
    if (v === null || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        keys.push(i);
        const p = walk(v[i]);
        keys.pop();
        if (p) return p;
      }
      return null;
    }
    for (const k of Object.keys(v)) {
      keys.push(k);
      const p = k === RESERVED_KEY ? reserved(keys) : walk((v as Record<string, unknown>)[k]);
      keys.pop();
      if (p) return p;
    }
    return null;
  };
  return walk(value);
}

/** True when checkParsed would find no problem (no path kept, no closure made). */
function parsedIsClean(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!parsedIsClean(v[i])) return false;
    return true;
  }
  for (const k in v) {
    // JSON.parse makes plain objects: every enumerable key is its own.
    if (k === RESERVED_KEY || !parsedIsClean((v as Record<string, unknown>)[k])) return false;
  }
  return true;
}

const reserved = (keys: readonly (string | number)[]): DataProblem =>
  ({ code: 'reserved-key', path: pointer(keys), reason: 'the key "__proto__" is not accepted in a payload (it would become an object\'s prototype)' });

export type CopyResult = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly problem: DataProblem };

/** What kind of thing a non-data value is, for the reason text; never calls into the value. */
function describe(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'bigint') return 'a BigInt';
  if (v === undefined) return 'undefined';
  if (types.isProxy(v)) return 'a Proxy';
  if (Buffer.isBuffer(v)) return 'a Buffer';
  if (types.isDate(v)) return 'a Date';
  if (types.isMap(v) || types.isSet(v)) return 'a Map or Set';
  if (ArrayBuffer.isView(v)) return 'a typed array';
  return 'an object that is not plain data (a class instance)';
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Copies a JS object from a function node into plain JSON data, or names the first path that is not
 * data: functions, symbols, BigInts, class instances (Buffers, Dates, Maps), accessors (getters are
 * never called), proxies, cycles, holes in arrays, `__proto__` keys, NaN and Infinity, nesting over
 * the limit, or more values than the budget. Properties whose value is `undefined` are dropped, as
 * JSON.stringify drops them; symbol keys and non-enumerable properties are not data and are skipped.
 */
export function copyPlain(root: unknown, limits: DataLimits): CopyResult {
  const keys: (string | number)[] = [];
  const ancestors = new Set<object>();
  let units = 0;
  let problem: DataProblem | null = null;
  const fail = (code: DataProblemCode, reason: string): undefined => {
    problem = { code, path: pointer(keys), reason };
    return undefined;
  };

  // Returns the copy, or undefined with `problem` set. `depth` counts the containers above v.
  const copy = (v: unknown, depth: number): unknown => {
    if (++units > limits.maxUnits) return fail('payload-size', `payload holds more than the ${limits.maxUnits}-byte limit allows`);
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      units += v.length;
      return units > limits.maxUnits ? fail('payload-size', `payload holds more than the ${limits.maxUnits}-byte limit allows`) : v;
    }
    // -0 becomes 0, as JSON writes it
    if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : fail('schema', 'must be a finite number (NaN and Infinity are not readings)');
    if (typeof v !== 'object') return fail('encoding', `is ${describe(v)}, not JSON data`);
    if (types.isProxy(v)) return fail('encoding', 'is a Proxy, not JSON data');
    if (depth + 1 > limits.maxDepth) return fail('depth', `nesting is deeper than the limit of ${limits.maxDepth} levels`);
    if (ancestors.has(v)) return fail('encoding', 'refers back to an object that contains it (a cycle), not JSON data');
    const isArray = Array.isArray(v);
    if (!isArray && !isPlainObject(v)) return fail('encoding', `is ${describe(v)}, not JSON data`);
    if (isArray && Object.getPrototypeOf(v) !== Array.prototype) return fail('encoding', 'is an array of a subclass, not JSON data');
    // Brackets, commas and colons count as JSON text would: a container costs more than a leaf.
    units += 1;
    ancestors.add(v);
    try {
      if (isArray) {
        const arr = v as unknown[];
        units += arr.length;
        if (units > limits.maxUnits) return fail('payload-size', `payload holds more than the ${limits.maxUnits}-byte limit allows`);
        const out: unknown[] = [];
        for (let i = 0; i < arr.length; i++) {
          keys.push(i);
          const d = Object.getOwnPropertyDescriptor(arr, i);
          if (!d) return fail('encoding', 'is a hole in an array, not JSON data');
          if (d.get || d.set) return fail('encoding', 'is an accessor (getter or setter), not data; it is not called');
          if (d.value === undefined) return fail('encoding', 'is undefined, not JSON data');
          const c = copy(d.value, depth + 1);
          if (c === undefined) return undefined;
          out.push(c);
          keys.pop();
        }
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        keys.push(k);
        units += k.length + 3;
        if (k === RESERVED_KEY) { problem = reserved(keys); return undefined; }
        const d = Object.getOwnPropertyDescriptor(v, k);
        if (d === undefined) { keys.pop(); continue; }
        if (d.get || d.set) return fail('encoding', 'is an accessor (getter or setter), not data; it is not called');
        if (d.value !== undefined) {
          const c = copy(d.value, depth + 1);
          if (c === undefined) return undefined;
          out[k] = c;
        }
        keys.pop();
      }
      return out;
    } finally {
      ancestors.delete(v);
    }
  };

  const value = copy(root, 0);
  if (problem !== null) return { ok: false, problem };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: { code: 'encoding', path: '', reason: 'payload must be an object' } };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
