/**
 * The decoder's per-message shortcuts (issue 16, pipeline) answer exactly what the plain versions
 * did: the topic matcher without topic.split, the bracket count that skips the depth scan, and the
 * clean-payload walk that skips building paths. Each is checked against the plain version, written
 * out here as it was, over random input.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { ESP32C3_ARCHS, PROFILES, TOPIC_ROUTES, type TopicRoute } from '../../firmware/contract/topics';
import { isUtf8 } from 'node:buffer';

import { readRaw } from '../../lib/decode/payload';
import { checkParsed, jsonTooDeepAt, mayNestDeeper, type DataProblem } from '../../lib/decode/plain-data';
import { TopicMatcher, type TopicMatch } from '../../lib/decode/topic-matcher';

/** The matcher as it was: split the topic, try the family's routes, then every {prefix+} route. */
function referenceMatchAll(routes: readonly TopicRoute[], topic: string): TopicMatch[] {
  const parts = topic.split('/');
  const arch = new Set<string>(ESP32C3_ARCHS);
  const match = (route: TopicRoute, segs: string[], start: number, prefixed: boolean): TopicMatch | null => {
    let device: string | null = null;
    let a: string | null = null;
    for (let i = 0; i < segs.length; i++) {
      const p = parts[start + i];
      if (segs[i] === '{device}') device = p;
      else if (segs[i] === '{arch}') { if (!arch.has(p)) return null; a = p; }
      else if (segs[i] !== p) return null;
    }
    return { route, device, arch: a, prefix: prefixed ? parts.slice(0, start).join('/') : null };
  };
  const out: TopicMatch[] = [];
  for (const r of routes) {
    const segs = r.pattern.split('/');
    if (segs[0] === '{prefix+}' || segs[0] !== parts[0] || segs.length !== parts.length) continue;
    const m = match(r, segs, 0, false);
    if (m) out.push(m);
  }
  for (const r of routes) {
    const segs = r.pattern.split('/');
    if (segs[0] !== '{prefix+}') continue;
    const rest = segs.slice(1);
    const start = parts.length - rest.length;
    if (start < 1) continue;
    const m = match(r, rest, start, true);
    if (m) out.push(m);
  }
  return out;
}

/** checkParsed as it was: one walk that keeps the path. */
function referenceCheckParsed(value: unknown): DataProblem | null {
  const keys: (string | number)[] = [];
  const pointer = (): string => keys.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  const walk = (v: unknown): DataProblem | null => {
    if (typeof v === 'number') return Number.isFinite(v) ? null : { code: 'schema', path: pointer(), reason: 'must be a finite number (NaN and Infinity are not readings)' };
    if (v === null || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) { keys.push(i); const p = walk(v[i]); keys.pop(); if (p) return p; }
      return null;
    }
    for (const k of Object.keys(v)) {
      keys.push(k);
      const p = k === '__proto__' ? { code: 'reserved-key' as const, path: pointer(), reason: 'the key "__proto__" is not accepted in a payload (it would become an object\'s prototype)' } : walk((v as Record<string, unknown>)[k]);
      keys.pop();
      if (p) return p;
    }
    return null;
  };
  return walk(value);
}

/** Topics built from the contract's patterns, then bent: segments replaced, added, dropped, emptied. */
const topicArb: fc.Arbitrary<string> = fc.record({
  route: fc.constantFrom(...TOPIC_ROUTES),
  device: fc.constantFrom('dev-1', 'esp32-c3-full-9', 'a:b:c', ''),
  arch: fc.constantFrom(...ESP32C3_ARCHS, 'fullx', ''),
  prefix: fc.constantFrom('home', 'home/lab', 'a/b/c', ''),
  bend: fc.array(fc.record({ op: fc.constantFrom('replace', 'drop', 'add', 'empty'), at: fc.nat(8), word: fc.constantFrom('sensor', 'status', 'x', 'csi_data', 'bme280', '+', '#', 'esp32c3', 'full') }), { maxLength: 2 }),
}).map(({ route, device, arch, prefix, bend }) => {
  let segs = route.pattern.split('/').flatMap((s) => (s === '{device}' ? [device] : s === '{arch}' ? [arch] : s === '{prefix+}' ? prefix.split('/') : [s]));
  for (const b of bend) {
    const at = b.at % (segs.length + 1);
    if (b.op === 'replace' && at < segs.length) segs[at] = b.word;
    else if (b.op === 'drop') segs = segs.filter((_, i) => i !== at);
    else if (b.op === 'add') segs.splice(at, 0, b.word);
    else if (b.op === 'empty' && at < segs.length) segs[at] = '';
  }
  return segs.join('/');
});

describe('decode: the per-message shortcuts equal the plain versions (issue 16)', () => {
  it('the topic matcher finds the same routes, in the same order, with the same device, arch and prefix', () => {
    const matchers = [new TopicMatcher(PROFILES, true), new TopicMatcher(PROFILES, false), new TopicMatcher([PROFILES[0]], true)];
    const routesOf = (m: TopicMatcher) => m.routes();
    fc.assert(fc.property(topicArb, fc.nat(2), (topic, which) => {
      const m = matchers[which];
      assert.deepStrictEqual(m.matchAll(topic), referenceMatchAll(routesOf(m), topic), topic);
    }), { numRuns: 20_000, seed: 16 });
    for (const t of ['', '/', '//', 'esp32c3', 'esp32c3/', '/esp32c3/full/d/sensor', 'a'.repeat(200).split('').join('/')]) {
      assert.deepStrictEqual(matchers[0].matchAll(t), referenceMatchAll(routesOf(matchers[0]), t), JSON.stringify(t));
    }
  });

  it('the bracket count never skips a text the depth scan would refuse', () => {
    const brackety = fc.array(fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ':', ','), { maxLength: 200 }).map((cs) => cs.join(''));
    const jsonText = fc.jsonValue({ maxDepth: 12 }).map((v) => JSON.stringify(v));
    fc.assert(fc.property(fc.oneof(brackety, jsonText), fc.integer({ min: 0, max: 20 }), (text, depth) => {
      if (!mayNestDeeper(text, depth)) assert.equal(jsonTooDeepAt(text, depth), -1, `${text} at ${depth}`);
    }), { numRuns: 20_000, seed: 17 });
    assert.equal(mayNestDeeper('['.repeat(65), 64), true);
    assert.equal(jsonTooDeepAt('['.repeat(65), 64), 64);
  });

  it('a Buffer is refused as not UTF-8 exactly when isUtf8 says so, and read as its UTF-8 text otherwise', () => {
    // Bytes around the edges of UTF-8: continuation bytes, surrogates (ED A0..BF), overlongs (C0, E0 80), past U+10FFFF (F4 90), U+FFFD itself.
    const tricky = fc.constantFrom([0xed, 0xa0, 0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xef, 0xbf, 0xbd], [0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98, 0x80], [0x7b, 0x7d]);
    const bytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }).map((b) => [b]), tricky), { minLength: 1, maxLength: 24 }).map((parts) => Buffer.from(parts.flat()));
    fc.assert(fc.property(bytes, (buf) => {
      const r = readRaw(buf, 1024);
      if (isUtf8(buf)) assert.deepStrictEqual(r, { ok: true, text: buf.toString('utf8') });
      else assert.deepStrictEqual(r, { ok: false, code: 'encoding', reason: 'payload is not valid UTF-8' });
    }), { numRuns: 50_000, seed: 19 });
  });

  it('checkParsed finds the same first problem, at the same path, as the walk that kept a path throughout', () => {
    // JSON text, some with "__proto__" keys and numbers JSON.parse turns into Infinity.
    const text = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)).chain((v) => fc.constantFrom(
      v,
      `{"a":${v},"__proto__":{"x":1}}`,
      `[${v},1e400]`,
      `{"k":${v},"z":-1e999}`,
      `[{"__proto__":${v}},1e400]`,
    ));
    fc.assert(fc.property(text, (t) => {
      const parsed: unknown = JSON.parse(t);
      assert.deepStrictEqual(checkParsed(parsed), referenceCheckParsed(parsed), t);
    }), { numRuns: 10_000, seed: 18 });
  });
});
