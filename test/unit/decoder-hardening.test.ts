/** Issue 9's reproductions for the decoder: each once took Node-RED down or let bad data through. */
import assert from 'node:assert/strict';

import { Decoder, type DecodeResult, type Decoded } from '../../lib/decode/decoder';
import { parseDecodeConfig } from '../../lib/decode/config';
import type { Reject } from '../../lib/decode/reject';
import { contractProblem } from '../fuzz/targets/decoder';

const AT = 1_764_633_600_000;

function ok(r: DecodeResult): Decoded {
  if (!r.ok) assert.fail(`expected a reading, got reject ${JSON.stringify(r.reject)}`);
  assert.equal(contractProblem(r), null);
  return r.value;
}
function rejected(r: DecodeResult): Reject {
  if (r.ok) assert.fail(`expected a reject, got ${JSON.stringify(r.value)}`);
  assert.equal(contractProblem(r), null);
  return r.reject;
}

describe('decoder hardening: wire values never reach Object.prototype', () => {
  const d = new Decoder();

  it('an architecture named "constructor" is no arch (and the record survives structuredClone)', () => {
    const v = ok(d.decode({ topic: 'esp32/dev-1/health', payload: '{"uptime":1,"free_memory":100000,"wifi_rssi":-50,"architecture":"constructor"}', receivedAt: AT }));
    assert.equal(v.device.arch, null);
    assert.doesNotThrow(() => structuredClone(v));
    for (const name of ['toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const s = ok(d.decode({ topic: 'csi/n1/heartbeat', payload: `{"uptime":1,"architecture":"${name}","app":"${name}"}`, receivedAt: AT }));
      assert.equal(s.device.arch, null, name);
    }
  });

  it('a log level or alert level named "toString" gets no severity', () => {
    const l = rejected(d.decode({ topic: 'esp32/dev-1/logs', payload: '{"level":"toString","message":"m"}', receivedAt: AT }));
    assert.deepEqual([l.code, l.path], ['schema', '/level']);
    const keep = ok(new Decoder().decode({ topic: 'esp32/dev-1/logs', payload: { message: 'm', severity_hint: 'toString' }, receivedAt: AT }));
    assert.equal('severity' in keep.payload, false);
    const a = rejected(d.decode({ topic: 'esp32/dev-1/alerts', payload: '{"level":"toString","message":"m"}', receivedAt: AT }));
    assert.equal(a.path, '/level');
  });

  it('topic constructor/heartbeat with ping: the prefix is not looked up on Object.prototype', () => {
    const v = ok(d.decode({ topic: 'constructor/heartbeat', payload: 'ping', receivedAt: AT }));
    assert.equal(v.device.id, null);
    assert.equal(v.device.identified, false);
    for (const topic of ['__proto__/heartbeat', 'toString/heartbeat', 'hasOwnProperty/sensor/bme280']) {
      const r = d.decode({ topic, payload: topic.endsWith('heartbeat') ? 'ping' : '{"temperature":20,"pressure":1000,"humidity":40}', receivedAt: AT });
      assert.equal(contractProblem(r), null, topic);
      if (r.ok) assert.equal(r.value.device.id, null, topic);
    }
  });

  it('a prefix map with __proto__, constructor and toString keys maps exactly those prefixes', () => {
    const cfg = parseDecodeConfig({ prefixMap: '{"__proto__":"proto-dev","constructor":"ctor-dev"}' });
    assert.ok(cfg.ok);
    const m = new Decoder(cfg.value.decoder);
    assert.equal(ok(m.decode({ topic: '__proto__/heartbeat', payload: 'ping', receivedAt: AT })).device.id, 'proto-dev');
    assert.equal(ok(m.decode({ topic: 'constructor/heartbeat', payload: 'ping', receivedAt: AT })).device.id, 'ctor-dev');
    assert.equal(ok(m.decode({ topic: 'toString/heartbeat', payload: 'ping', receivedAt: AT })).device.id, null);
    assert.equal(ok(m.decode({ topic: 'valueOf/heartbeat', payload: 'ping', receivedAt: AT })).device.id, null);
  });

  it('a prefix map naming an unsafe id is a configuration error, not a throw', () => {
    const cfg = parseDecodeConfig({ prefixMap: { esp32: 'a/b' } });
    assert.ok(!cfg.ok);
    assert.equal(cfg.field, 'prefixMap');
  });
});

describe('decoder hardening: "__proto__" keys are rejected, never a prototype', () => {
  const d = new Decoder();

  it('{"uptime":10,"__proto__":{"wifi_rssi":-200}} is a reserved-key reject, not a scored reading', () => {
    const r = rejected(d.decode({ topic: 'esp32c3/full/dev-1/heartbeat', payload: '{"uptime":10,"__proto__":{"wifi_rssi":-200}}', receivedAt: AT }));
    assert.deepEqual([r.code, r.path, r.device], ['reserved-key', '/__proto__', 'dev-1']);
  });

  it('nested, in a Buffer, and from a function node', () => {
    const nested = rejected(d.decode({ topic: 'esp32/dev-1/metrics', payload: Buffer.from('{"metrics":{"cpu_usage_percent":1,"memory_usage_bytes":1,"uptime_seconds":1,"__proto__":{"x":1}}}'), receivedAt: AT }));
    assert.deepEqual([nested.code, nested.path], ['reserved-key', '/metrics/__proto__']);
    const obj = JSON.parse('{"uptime":10,"free_memory":1,"wifi_rssi":-40,"__proto__":{"wifi_rssi":-200}}') as unknown;
    const fromNode = rejected(d.decode({ topic: 'esp32/dev-1/health', payload: obj, receivedAt: AT }));
    assert.deepEqual([fromNode.code, fromNode.path], ['reserved-key', '/__proto__']);
  });

  it('a "constructor" key is plain data', () => {
    const v = ok(d.decode({ topic: 'esp32/dev-1/health', payload: '{"uptime":1,"free_memory":1,"wifi_rssi":-40,"constructor":{"prototype":{"x":1}}}', receivedAt: AT }));
    assert.deepEqual(v.payload.constructor, { prototype: { x: 1 } });
    assert.equal(Object.getPrototypeOf(v.payload), Object.prototype);
  });
});

describe('decoder hardening: nesting depth', () => {
  const d = new Decoder();
  const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('a 4,000-deep array inside the 16 KiB limit is a depth reject', () => {
    const text = `{"uptime":1,"free_memory":1,"wifi_rssi":-40,"x":${deepArray(4000)}}`;
    assert.ok(Buffer.byteLength(text) < 16 * 1024);
    const r = rejected(d.decode({ topic: 'esp32/dev-1/health', payload: text, receivedAt: AT }));
    assert.equal(r.code, 'depth');
    assert.match(r.reason, /64 levels/);
  });

  it('64 levels pass, 65 do not; brackets inside strings do not count; the limit is configurable', () => {
    const at = (levels: number): string => `{"uptime":1,"free_memory":1,"wifi_rssi":-40,"x":${deepArray(levels - 1)}}`;
    ok(d.decode({ topic: 'esp32/dev-1/health', payload: at(64), receivedAt: AT }));
    assert.equal(rejected(d.decode({ topic: 'esp32/dev-1/health', payload: at(65), receivedAt: AT })).code, 'depth');
    ok(d.decode({ topic: 'esp32/dev-1/logs', payload: JSON.stringify({ message: '['.repeat(500) }), receivedAt: AT }));
    const shallow = new Decoder({ maxDepth: 4 });
    assert.equal(rejected(shallow.decode({ topic: 'esp32/dev-1/health', payload: at(5), receivedAt: AT })).code, 'depth');
    const cfg = parseDecodeConfig({ maxDepth: '2' });
    assert.ok(!cfg.ok);
    assert.equal(cfg.field, 'maxDepth');
  });

  it('a 10,000-deep object from a function node is a depth reject naming the path, in every policy', () => {
    let o: unknown = 1;
    for (let i = 0; i < 10_000; i++) o = { a: o };
    for (const unknownFields of ['keep', 'strip', 'reject'] as const) {
      const r = rejected(new Decoder({ unknownFields }).decode({ topic: 'esp32/dev-1/health', payload: { uptime: 1, free_memory: 1, wifi_rssi: -40, deep: o }, receivedAt: AT }));
      assert.equal(r.code, 'depth', unknownFields);
      assert.ok(r.path.startsWith('/deep/a/a/a'), r.path);
    }
  });
});

describe('decoder hardening: JS objects from function nodes', () => {
  const strip = new Decoder({ unknownFields: 'strip' });
  const topic = 'esp32c3/full/dev-1/sensor';
  const base = { temperature: 22, humidity: 50, pressure: 1013 };
  const hostile: Array<[string, () => unknown, string, string]> = [
    ['a throwing getter', () => Object.defineProperty({ ...base }, 'extra', { enumerable: true, get() { throw new Error('boom'); } }), 'encoding', '/extra'],
    ['a getter on a contract field (never called)', () => Object.defineProperty({ humidity: 50, pressure: 1013 }, 'temperature', { enumerable: true, get: () => 22 }), 'encoding', '/temperature'],
    ['a cycle', () => { const o: Record<string, unknown> = { ...base }; o.self = o; return o; }, 'encoding', '/self'],
    ['a function', () => ({ ...base, f: () => 1 }), 'encoding', '/f'],
    ['a symbol value', () => ({ ...base, s: Symbol('x') }), 'encoding', '/s'],
    ['a BigInt', () => ({ ...base, n: 10n }), 'encoding', '/n'],
    ['a class instance', () => ({ ...base, when: new Date(0) }), 'encoding', '/when'],
    ['a nested Buffer', () => ({ ...base, raw: Buffer.from('x') }), 'encoding', '/raw'],
    ['a Proxy whose traps throw', () => ({ ...base, p: new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } }) }), 'encoding', '/p'],
    ['a Proxy as the payload', () => new Proxy({ ...base }, { getPrototypeOf() { throw new Error('trap'); } }), 'encoding', ''],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point
    ['a hole in an array', () => ({ ...base, list: [1, , 3] }), 'encoding', '/list/1'],
    ['NaN deep inside', () => ({ ...base, a: { b: [1, Number.NaN] } }), 'schema', '/a/b/1'],
    ['a shared reference repeated 2^40 times', () => { let o: unknown = [1]; for (let i = 0; i < 40; i++) o = [o, o]; return { ...base, dag: o }; }, 'payload-size', ''],
  ];
  for (const [name, make, code, path] of hostile) {
    it(`${name}: rejected as ${code} at ${path || 'the payload'}, nothing thrown`, () => {
      const r = rejected(strip.decode({ topic, payload: make(), receivedAt: AT }));
      assert.equal(r.code, code);
      if (path) assert.equal(r.path, path);
      else if (code !== 'payload-size') assert.equal(r.path, '');
    });
  }

  it('undefined properties are dropped as JSON drops them; null-prototype objects come out ordinary; the input is not touched', () => {
    const input = { ...base, note: undefined, extra: true, nested: Object.assign(Object.create(null) as object, { a: 1 }) };
    const v = ok(strip.decode({ topic, payload: input, receivedAt: AT }));
    assert.equal('note' in v.payload, false);
    assert.equal('extra' in v.payload, false);
    assert.equal(input.extra, true);
    const keep = ok(new Decoder().decode({ topic, payload: input, receivedAt: AT }));
    assert.equal(Object.getPrototypeOf(keep.payload.nested), Object.prototype);
  });

  it('a hostile msg.deviceId is a reject, never a throw', () => {
    for (const deviceId of [{ toString: () => 'x' }, Symbol('x'), 10n, new Proxy({}, { get() { throw new Error('trap'); } })]) {
      const r = rejected(new Decoder().decode({ topic: 'esp32/heartbeat', payload: 'ping', deviceId, receivedAt: AT }));
      assert.deepEqual([r.code, r.path], ['device-id', 'msg.deviceId']);
    }
  });
});

describe('decoder hardening: device times that are no date', () => {
  const d = new Decoder();

  it('an alert with timestamp 9e12 seconds is a field reject, never accepted', () => {
    const r = rejected(d.decode({ topic: 'esp32/dev-1/alerts', payload: '{"level":"Critical","message":"m","timestamp":9000000000000}', receivedAt: AT }));
    assert.deepEqual([r.code, r.path, r.device], ['schema', '/timestamp', 'dev-1']);
  });

  it('the same for last_sensor_reading and for epoch microseconds', () => {
    const h = rejected(d.decode({ topic: 'esp32/dev-1/health', payload: '{"uptime":1,"free_memory":1,"wifi_rssi":-40,"last_sensor_reading":9e12}', receivedAt: AT }));
    assert.equal(h.path, '/last_sensor_reading');
    const us = rejected(d.decode({ topic: 'devices/n1/alerts', payload: '{"level":"ERROR","message":"m","timestamp":1e25}', receivedAt: AT }));
    assert.equal(us.path, '/timestamp');
  });

  it('the largest date still decodes', () => {
    const v = ok(d.decode({ topic: 'esp32/dev-1/alerts', payload: '{"level":"Info","message":"m","timestamp":8640000000000}', receivedAt: AT }));
    assert.equal(new Date(v.payload.timestamp as number).getTime(), 8.64e15);
  });
});

describe('decoder hardening: empty payloads', () => {
  const d = new Decoder();
  for (const [topic, payload] of [['esp32c3/full/dev-1/status', ''], ['esp32c3/full/dev-1/presence', Buffer.alloc(0)], ['esp32/heartbeat', ''], ['devices/n1/status', new Uint8Array(0)], ['csi-device/status', ''], ['console/dev-1', '']] as const) {
    it(`a zero-length ${typeof payload === 'string' ? 'string' : 'Buffer'} on ${topic} is an empty reject that names no device`, () => {
      const r = rejected(d.decode({ topic, payload, receivedAt: AT, retained: true }));
      assert.equal(r.code, 'empty');
      assert.equal(r.device, undefined);
    });
  }
});
