import assert from 'node:assert/strict';

import { SchemaBook, schemaFor, schemaNames, type SchemaName } from '../../firmware/contract/schemas';
import { TOPIC_ROUTES, topicFor } from '../../firmware/contract/topics';
import { TopicMatcher } from '../../lib/decode/topic-matcher';
import { PROFILES } from '../../firmware/contract/topics';

const book = new SchemaBook();

interface SchemaDoc {
  examples?: unknown[];
  required?: string[];
  properties?: Record<string, { type?: string; enum?: unknown[] }>;
}

describe('wire contract: JSON Schemas', () => {
  for (const name of schemaNames()) {
    const doc = schemaFor(name) as SchemaDoc;

    describe(name, () => {
      it('has examples, and each one is valid', () => {
        assert.ok(doc.examples && doc.examples.length > 0, `${name} lists no examples`);
        for (const ex of doc.examples) assert.equal(book.validator(name, 'keep')(ex), null, JSON.stringify(ex));
      });

      for (const field of doc.required ?? []) {
        it(`rejects an example without required field ${field}, naming it`, () => {
          const ex = { ...(doc.examples![0] as Record<string, unknown>) };
          delete ex[field];
          const err = book.validator(name, 'keep')(ex);
          assert.ok(err, 'accepted a payload without a required field');
          assert.equal(err.path, `/${field}`);
        });
      }

      const typed = Object.entries(doc.properties ?? {}).filter(([, p]) => p.type === 'number' || p.type === 'integer');
      for (const [field] of typed) {
        it(`rejects a string, NaN and Infinity in numeric field ${field}`, () => {
          for (const bad of ['12', Number.NaN, Number.POSITIVE_INFINITY]) {
            const ex = { ...(doc.examples![0] as Record<string, unknown>), [field]: bad };
            const err = book.validator(name, 'keep')(ex);
            assert.ok(err, `accepted ${String(bad)} in ${field}`);
            assert.equal(err.path, `/${field}`);
          }
        });
      }
    });
  }

  it('enforces the BME280 ranges on sensor readings', () => {
    const v = book.validator('esp32c3-sensor', 'keep');
    const base = { temperature: 22, humidity: 50, pressure: 1013 };
    assert.equal(v(base), null);
    assert.deepEqual(v({ ...base, temperature: 85.1 }), { path: '/temperature', reason: 'must be <= 85' });
    assert.deepEqual(v({ ...base, temperature: -40.1 }), { path: '/temperature', reason: 'must be >= -40' });
    assert.deepEqual(v({ ...base, humidity: 100.5 }), { path: '/humidity', reason: 'must be <= 100' });
    assert.deepEqual(v({ ...base, pressure: 299 }), { path: '/pressure', reason: 'must be >= 300' });
    assert.deepEqual(v({ ...base, pressure: 1100.1 }), { path: '/pressure', reason: 'must be <= 1100' });
  });

  it('caps an OTA image at one 1,310,720-byte slot', () => {
    const ex = (schemaFor('ota-update') as SchemaDoc).examples![0] as Record<string, unknown>;
    const v = book.validator('ota-update', 'keep');
    assert.equal(v({ ...ex, size: 1_310_720 }), null);
    assert.equal(v({ ...ex, size: 1_310_721 })?.path, '/size');
  });

  it('knows every OTA state of AWS IoT Jobs and ThingsBoard, and no other', () => {
    const v = book.validator('ota-progress', 'keep');
    for (const state of ['QUEUED', 'DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED', 'FAILED', 'ROLLED_BACK', 'REJECTED']) {
      assert.equal(v({ job_id: 'j', state }), null, state);
    }
    assert.equal(v({ job_id: 'j', state: 'IN_PROGRESS' })?.path, '/state');
  });

  it('reject policy names an unknown field; strip policy removes it', () => {
    const ex = { temperature: 22, humidity: 50, pressure: 1013, extra: 1 };
    assert.deepEqual(book.validator('esp32c3-sensor', 'reject')(ex), { path: '/extra', reason: 'is not a field of the contract' });
    const copy = { ...ex };
    assert.equal(book.validator('esp32c3-sensor', 'strip')(copy), null);
    assert.equal('extra' in copy, false);
    assert.equal(book.validator('esp32c3-sensor', 'keep')(ex), null);
  });
});

describe('wire contract: topic map', () => {
  const matcher = new TopicMatcher(PROFILES, true);
  const names = new Set<string>(schemaNames());

  for (const route of TOPIC_ROUTES) {
    it(`${route.id}: a topic built from its pattern matches it and no earlier route`, () => {
      if (route.schema) assert.ok(names.has(route.schema as SchemaName), `schema ${route.schema} missing`);
      const topic = topicFor(route.id, { device: 'dev-1', arch: 'full', prefix: 'site/a' });
      const m = matcher.matchAll(topic);
      assert.ok(m.length > 0, `no route matched ${topic}`);
      // Routes that share a topic are told apart by payload form (a bare word first, then JSON).
      const first = m.findIndex((x) => x.route.id === route.id);
      assert.ok(first >= 0, `${topic} matched ${m.map((x) => x.route.id).join(', ')}`);
      for (const earlier of m.slice(0, first)) assert.equal(earlier.route.encoding, 'word', `${earlier.route.id} shadows ${route.id}`);
    });
  }

  it('route ids are unique', () => {
    const ids = TOPIC_ROUTES.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('a topic outside the contract matches nothing', () => {
    assert.equal(matcher.match('esp32c3/turbo/dev/sensor'), null);
    assert.equal(matcher.match('esp32/dev/weather'), null);
    assert.equal(matcher.match('random'), null);
  });
});
