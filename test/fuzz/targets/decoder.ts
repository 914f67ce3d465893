/**
 * Fuzz targets for the decoder (issue 9): wire bytes on contract topics, and JS objects from
 * function nodes. Inputs are recipes (plain data) so fast-check and the report can print them; the
 * hostile values (getters that throw, proxies, cycles) are built from the recipe inside check().
 */
import fc from 'fast-check';

import { deviceIdProblem } from '../../../firmware/contract/identity';
import { schemaFor, schemaNames } from '../../../firmware/contract/schemas';
import { DEVICE_KINDS, ESP32C3_ARCHS, MESSAGE_KINDS, PROFILES, TOPIC_ROUTES } from '../../../firmware/contract/topics';
import { Decoder, type DecodeResult } from '../../../lib/decode/decoder';
import { REJECT_CODES } from '../../../lib/decode/reject';
import type { FuzzTarget } from '../harness';

const KINDS: ReadonlySet<string> = new Set(MESSAGE_KINDS);
const DEVICE_KIND_SET: ReadonlySet<string> = new Set(DEVICE_KINDS);
const ARCHS: ReadonlySet<string> = new Set(ESP32C3_ARCHS);
const CODES: ReadonlySet<string> = new Set(REJECT_CODES.filter((c) => c !== 'internal'));
const SOURCES: ReadonlySet<string> = new Set(['topic', 'payload', 'prefix-map', 'msg']);
const PROFILE_SET: ReadonlySet<string> = new Set([...PROFILES, 'console']);

/** Names that live on Object.prototype or Function.prototype: the class of bug issue 9 found. */
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', '__defineGetter__', 'isPrototypeOf', 'call', 'apply', 'length', 'name'];

/** Why a value is not plain JSON data with ordinary prototypes, or null. */
export function notPlainData(v: unknown, path = '', depth = 0): string | null {
  if (depth > 200) return `${path}: deeper than 200`;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path}: ${v} is not finite`;
  if (typeof v !== 'object') return `${path}: ${typeof v}`;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return `${path}: array with another prototype`;
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return `${path}/${i}: hole`;
      const p = notPlainData(v[i], `${path}/${i}`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return `${path}: prototype is not Object.prototype`;
  for (const k of Reflect.ownKeys(v)) {
    if (typeof k === 'symbol') return `${path}: symbol key`;
    if (k === '__proto__') return `${path}: own __proto__ key`;
    const d = Object.getOwnPropertyDescriptor(v, k)!;
    if (d.get || d.set) return `${path}/${k}: accessor`;
    if (!d.enumerable) return `${path}/${k}: not enumerable`;
    const p = notPlainData(d.value, `${path}/${k}`, depth + 1);
    if (p) return p;
  }
  return null;
}

/** Deep equality as JSON sees it: -0 (which JSON.parse itself yields from `-0`) equals 0. */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The decoder's output contract (decoder.ts header), checked on one result. */
export function contractProblem(r: DecodeResult): string | null {
  if (r === null || typeof r !== 'object') return 'result is not an object';
  if (!r.ok) {
    const j = r.reject;
    if (!CODES.has(j.code)) return `reject code ${String(j.code)} (${j.reason})`;
    if (typeof j.topic !== 'string' || typeof j.path !== 'string' || typeof j.reason !== 'string' || j.reason.length === 0) return 'reject fields are not strings';
    if (j.device !== undefined && deviceIdProblem(j.device) !== null) return `reject names a bad device ${String(j.device)}`;
    if (j.code === 'empty' && j.device !== undefined) return 'an empty payload names a device';
    return null;
  }
  const v = r.value;
  if (!KINDS.has(v.kind)) return `kind ${String(v.kind)}`;
  if (v.direction !== 'up' && v.direction !== 'down') return 'direction';
  if (typeof v.route !== 'string' || !PROFILE_SET.has(v.profile)) return 'route/profile';
  const d = v.device;
  if (d.id !== null && (typeof d.id !== 'string' || deviceIdProblem(d.id) !== null)) return `device id ${String(d.id)}`;
  if (d.kind !== null && !DEVICE_KIND_SET.has(d.kind)) return `device kind ${String(d.kind)}`;
  if (d.arch !== null && !ARCHS.has(d.arch)) return `arch ${String(d.arch)}`;
  if (d.firmware !== null && typeof d.firmware !== 'string') return 'firmware';
  if (d.identified !== (d.id !== null)) return 'identified';
  if (d.source !== null && !SOURCES.has(d.source)) return 'source';
  const plain = notPlainData(v.payload);
  if (plain) return `payload not plain data at ${plain}`;
  if (typeof v.payload.timestamp !== 'number' || Number.isNaN(new Date(v.payload.timestamp).getTime())) return `timestamp ${String(v.payload.timestamp)} is no date`;
  if (!sameJson(JSON.parse(JSON.stringify(v.payload)), v.payload)) return 'payload changes through JSON';
  structuredClone(v);
  return null;
}

// ---- decoders under test: the defaults and hostile configurations

const DECODERS = [
  new Decoder(),
  new Decoder({ unknownFields: 'strip', prefixMap: JSON.parse('{"__proto__":"proto-dev","constructor":"ctor-dev","toString":"ts-dev","esp32":"lab-1","home/sensor":"kitchen"}') as Record<string, string> }),
  new Decoder({ unknownFields: 'reject', maxDepth: 8, maxPayloadBytes: 2048 }),
  new Decoder({ profiles: ['whofi', 'ti0162'], includeCommands: false, deviceKinds: ['csi-sensor'] }),
];

const AT = 1_764_633_600_000;

// ---- topics built from the contract's routes with random and hostile segments

const hostileSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('dev-1', 'esp32-c3-003', '24:6F:28:11:22:33', 'csi-device', 'esp32', 'broadcast') },
  { weight: 3, arbitrary: fc.constantFrom(...PROTO_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom('', '+', '#', '..', 'a/b', 'x\u0000', 'é', 'a'.repeat(70), 'sync', 'async-min') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
);

const topicArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ route: fc.nat(TOPIC_ROUTES.length - 1), device: hostileSegment, arch: fc.oneof(fc.constantFrom(...ESP32C3_ARCHS, 'async-min', 'async-full'), hostileSegment), prefix: fc.oneof(hostileSegment, fc.constantFrom('home/sensor', 'site/a/b', '__proto__/x')) })
    .map(({ route, device, arch, prefix }) => TOPIC_ROUTES[route].pattern.replace('{device}', device).replace('{arch}', arch).replace('{prefix+}', prefix)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, '', 'console', 'console/dev-1', 'console/__proto__', 'constructor/heartbeat', '__proto__/status', 'toString/sensor/bme280', 42) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

const EXAMPLES: readonly Record<string, unknown>[] = schemaNames().flatMap((n) => ((schemaFor(n) as { examples?: Record<string, unknown>[] }).examples ?? []));

const hostileJsonValue = fc.oneof(
  fc.constantFrom<unknown>(...PROTO_NAMES, null, true, -1, 0, 1e308, -1e308, 9e12, 9e15, 1e21, 'Critical', 'ERROR', 'WARN', 'ping', 'online', 'async-full', 'main-app'),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Raw fragments JSON.stringify cannot write: numbers that parse to Infinity, and keys it would never emit twice. */
const RAW_FRAGMENTS = ['1e400', '-1e400', `1${'0'.repeat(400)}`, '{"__proto__":{"wifi_rssi":-200}}', '{"constructor":{"prototype":1}}', '[[[[[[[[[[]]]]]]]]]]'];

const mutatedExample = fc.record({
  ex: fc.nat(EXAMPLES.length - 1),
  edits: fc.array(fc.record({ key: fc.oneof(fc.constantFrom(...PROTO_NAMES, 'timestamp', 'level', 'architecture', 'app', 'device_id', 'mac', 'status', 'v', 'metrics', 'uptime'), fc.string({ maxLength: 8 })), value: hostileJsonValue }), { maxLength: 3 }),
  raw: fc.option(fc.record({ key: fc.constantFrom('timestamp', 'temperature', 'x', '__proto__', 'uptime'), frag: fc.constantFrom(...RAW_FRAGMENTS) }), { nil: undefined }),
  cut: fc.option(fc.nat(200), { nil: undefined }),
}).map(({ ex, edits, raw, cut }) => {
  const o: Record<string, unknown> = { ...EXAMPLES[ex] };
  for (const e of edits) Object.defineProperty(o, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
  let text = JSON.stringify(o);
  if (raw) text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(raw.key)}:${raw.frag}}`;
  return cut === undefined ? text : text.slice(0, cut);
});

const deepText = fc.record({ n: fc.integer({ min: 1, max: 8000 }), open: fc.constantFrom('[', '{"a":'), wrap: fc.boolean() }).map(({ n, open, wrap }) => {
  const close = open === '[' ? ']' : '}';
  const inner = `${open.repeat(n)}1${close.repeat(n)}`.slice(0, 16000);
  return wrap ? `{"uptime":1,"free_memory":1,"wifi_rssi":-50,"deep":${inner}}` : inner;
});

const payloadText = fc.oneof(
  { weight: 6, arbitrary: mutatedExample },
  { weight: 2, arbitrary: deepText },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'ping', '"ping"', 'online', 'offline', 'reset', 'null', '[]', '{}', '{"uptime":10,"__proto__":{"wifi_rssi":-200}}', '{"uptime":1,"free_memory":100000,"wifi_rssi":-50,"architecture":"constructor"}', '{"level":"toString","message":"m"}') },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
);

interface BytesInput { readonly decoder: number; readonly topic: unknown; readonly payload: string | Uint8Array; readonly asBuffer: boolean; readonly deviceId: unknown; readonly retained: boolean }

const bytesArb: fc.Arbitrary<BytesInput> = fc.record({
  decoder: fc.nat(DECODERS.length - 1),
  topic: topicArb,
  payload: fc.oneof({ weight: 9, arbitrary: payloadText }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) }),
  asBuffer: fc.boolean(),
  deviceId: fc.oneof(fc.constant(undefined), hostileSegment, fc.constantFrom<unknown>(null, 7, {}, ['a'])),
  retained: fc.boolean(),
});

// ---- JS objects from function nodes, built from a recipe

type Hostile =
  | 'throwing-getter' | 'getter' | 'cycle' | 'proto-key' | 'constructor-key' | 'function' | 'symbol' | 'bigint'
  | 'undefined' | 'nan' | 'infinity' | 'buffer' | 'date' | 'map' | 'class' | 'proxy' | 'null-proto' | 'sparse'
  | 'deep-object' | 'deep-array' | 'shared' | 'huge-array' | 'huge-string' | 'typed-array' | 'boxed';

const HOSTILE: readonly Hostile[] = ['throwing-getter', 'getter', 'cycle', 'proto-key', 'constructor-key', 'function', 'symbol', 'bigint', 'undefined', 'nan', 'infinity', 'buffer', 'date', 'map', 'class', 'proxy', 'null-proto', 'sparse', 'deep-object', 'deep-array', 'shared', 'huge-array', 'huge-string', 'typed-array', 'boxed'];

class Reading { temperature = 22; humidity = 50; pressure = 1013; }

const trap = (): never => { throw new Error('trap'); };
const throwingProxy = (): object => new Proxy({}, { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });

function hostileValue(h: Hostile, n: number): unknown {
  switch (h) {
    case 'throwing-getter': return Object.defineProperty({}, 'x', { enumerable: true, get: trap });
    case 'getter': return Object.defineProperty({}, 'x', { enumerable: true, get: () => 1 });
    case 'cycle': { const o: Record<string, unknown> = { a: 1 }; o.self = o; return o; }
    case 'proto-key': return JSON.parse('{"__proto__":{"wifi_rssi":-200}}') as unknown;
    case 'constructor-key': return { constructor: { prototype: { polluted: true } }, toString: 1 };
    case 'function': return () => 1;
    case 'symbol': return Symbol('s');
    case 'bigint': return BigInt(n);
    case 'undefined': return undefined;
    case 'nan': return Number.NaN;
    case 'infinity': return -Infinity;
    case 'buffer': return Buffer.from('abc');
    case 'date': return new Date(0);
    case 'map': return new Map([[1, 2]]);
    case 'class': return new Reading();
    case 'proxy': return throwingProxy();
    case 'null-proto': return Object.assign(Object.create(null) as object, { a: 1 });
    case 'sparse': return new Array(n + 2);
    case 'deep-object': { let o: unknown = 1; for (let i = 0; i < 60 + n; i++) o = { a: o }; return o; }
    case 'deep-array': { let o: unknown = 1; for (let i = 0; i < 60 + n; i++) o = [o]; return o; }
    case 'shared': { let o: unknown = [1]; for (let i = 0; i < 40; i++) o = [o, o]; return o; }
    case 'huge-array': return new Array(17_000).fill(n);
    case 'huge-string': return 'x'.repeat(17_000);
    case 'typed-array': return new Float64Array(4);
    case 'boxed': return Object('str') as unknown;
  }
}

interface ObjectRecipe {
  readonly decoder: number; readonly topic: unknown; readonly ex: number; readonly n: number;
  readonly inserts: readonly { readonly key: string; readonly hostile: Hostile }[];
  readonly topLevel: Hostile | 'example' | 'anything'; readonly anything: unknown; readonly deviceId: unknown;
}

const objectArb: fc.Arbitrary<ObjectRecipe> = fc.record({
  decoder: fc.nat(DECODERS.length - 1),
  topic: topicArb,
  ex: fc.nat(EXAMPLES.length - 1),
  n: fc.nat(1000),
  inserts: fc.array(fc.record({ key: fc.oneof(fc.constantFrom(...PROTO_NAMES, 'timestamp', 'metrics', 'level', 'device_id'), fc.string({ maxLength: 6 })), hostile: fc.constantFrom(...HOSTILE) }), { maxLength: 3 }),
  topLevel: fc.oneof({ weight: 6, arbitrary: fc.constant<'example'>('example') }, { weight: 2, arbitrary: fc.constant<'anything'>('anything') }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) }),
  anything: fc.anything({ maxDepth: 3, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withTypedArray: true, withSparseArray: true }),
  deviceId: fc.oneof(fc.constant(undefined), hostileSegment),
});

function buildObject(r: ObjectRecipe): unknown {
  if (r.topLevel !== 'example' && r.topLevel !== 'anything') return hostileValue(r.topLevel, r.n);
  const base: Record<string, unknown> = r.topLevel === 'anything' && r.anything !== null && typeof r.anything === 'object' && !Array.isArray(r.anything)
    ? { ...(r.anything as Record<string, unknown>) }
    : { ...EXAMPLES[r.ex] };
  for (const { key, hostile } of r.inserts) {
    Object.defineProperty(base, key, { value: hostileValue(hostile, r.n), enumerable: true, writable: true, configurable: true });
  }
  return base;
}

export const targets: FuzzTarget[] = [
  {
    name: 'decoder-bytes',
    arbitrary: bytesArb,
    check(input: BytesInput): string | null {
      const bytes = typeof input.payload === 'string' && input.asBuffer ? Buffer.from(input.payload) : input.payload;
      return contractProblem(DECODERS[input.decoder].decode({ topic: input.topic, payload: bytes, deviceId: input.deviceId, receivedAt: AT, retained: input.retained }));
    },
  } as FuzzTarget<BytesInput> as FuzzTarget,
  {
    name: 'decoder-objects',
    arbitrary: objectArb,
    check(recipe: ObjectRecipe): string | null {
      const payload = buildObject(recipe);
      return contractProblem(DECODERS[recipe.decoder].decode({ topic: recipe.topic, payload, deviceId: recipe.deviceId, receivedAt: AT }));
    },
  } as FuzzTarget<ObjectRecipe> as FuzzTarget,
];
