import assert from 'node:assert/strict';

import { DECODE_CONFIG_VERSION, parseDecodeConfig } from '../../lib/decode/config';
import { PROFILES } from '../../firmware/contract/topics';
import { DEVICE_KINDS } from '../../firmware/contract/topics';

describe('fleet-decode configuration', () => {
  it('an empty (old or hand-written) configuration gets every default', () => {
    const r = parseDecodeConfig({});
    assert.ok(r.ok);
    assert.deepEqual(r.value.decoder.profiles, [...PROFILES]);
    assert.deepEqual(r.value.decoder.deviceKinds, [...DEVICE_KINDS]);
    assert.equal(r.value.decoder.unknownFields, 'keep');
    assert.equal(r.value.decoder.maxPayloadBytes, 16384);
    assert.equal(r.value.decoder.includeCommands, true);
    assert.equal(r.value.decoder.maxDepth, 64);
    assert.equal(r.value.rejects, 'output');
  });

  it('reads a nesting limit saved by hand, and keeps a "__proto__" prefix as a key', () => {
    const r = parseDecodeConfig({ maxDepth: '16', prefixMap: '{"__proto__":"proto-dev"}' });
    assert.ok(r.ok);
    assert.equal(r.value.decoder.maxDepth, 16);
    assert.equal(Object.getPrototypeOf(r.value.decoder.prefixMap), Object.prototype);
    assert.deepEqual(Object.entries(r.value.decoder.prefixMap), [['__proto__', 'proto-dev']]);
  });

  it('reads lists saved as comma-separated text, numbers saved as text, and a prefix map as JSON text', () => {
    const r = parseDecodeConfig({ profiles: 'standard, whofi', kinds: 'csi-sensor', maxBytes: '2048', prefixMap: '{"lab/1": "bench-1"}', includeCommands: 'false', configVersion: DECODE_CONFIG_VERSION });
    assert.ok(r.ok);
    assert.deepEqual(r.value.decoder.profiles, ['standard', 'whofi']);
    assert.deepEqual(r.value.decoder.deviceKinds, ['csi-sensor']);
    assert.equal(r.value.decoder.maxPayloadBytes, 2048);
    assert.deepEqual(r.value.decoder.prefixMap, { 'lab/1': 'bench-1' });
    assert.equal(r.value.decoder.includeCommands, false);
  });

  const bad: Array<[Record<string, unknown>, string]> = [
    [{ configVersion: 99 }, 'configVersion'],
    [{ profiles: ['standard', 'lora'] }, 'profiles'],
    [{ profiles: [] }, 'profiles'],
    [{ kinds: ['toaster'] }, 'kinds'],
    [{ unknownFields: 'ignore' }, 'unknownFields'],
    [{ maxBytes: 10 }, 'maxBytes'],
    [{ maxBytes: 'lots' }, 'maxBytes'],
    [{ prefixMap: '{"a":' }, 'prefixMap'],
    [{ prefixMap: '["a"]' }, 'prefixMap'],
    [{ prefixMap: { esp32: 7 } }, 'prefixMap'],
    [{ prefixMap: { esp32: 'a/b' } }, 'prefixMap'],
    [{ prefixMap: '{"esp32":"constructor/x"}' }, 'prefixMap'],
    [{ maxDepth: 3 }, 'maxDepth'],
    [{ maxDepth: 5000 }, 'maxDepth'],
    [{ maxDepth: 'deep' }, 'maxDepth'],
    [{ rejects: 'drop' }, 'rejects'],
  ];
  for (const [saved, field] of bad) {
    it(`refuses ${JSON.stringify(saved)}, naming ${field}`, () => {
      const r = parseDecodeConfig(saved);
      assert.ok(!r.ok);
      assert.equal(r.field, field);
      assert.ok(r.reason.length > 5);
    });
  }
});
