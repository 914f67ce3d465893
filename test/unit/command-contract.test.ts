import assert from 'node:assert/strict';

import { parseDeviceConfigAck } from '../../firmware/contract/device-config';
import { SchemaBook, schemaNames } from '../../firmware/contract/schemas';
import { subscriptionsFor } from '../../firmware/contract/subscriptions';
import { TOPIC_ROUTES, topicFor } from '../../firmware/contract/topics';
import { Decoder } from '../../lib/decode/decoder';

describe('contract: fleet-command configuration schemas and the config ack route', () => {
  it('the schema book holds the device configuration, its push and its ack', () => {
    for (const n of ['device-config', 'device-config-update', 'device-config-ack']) assert.ok((schemaNames() as string[]).includes(n), n);
    const book = new SchemaBook();
    assert.equal(book.validator('device-config-ack', 'keep')({ config_version: 2, result: 'applied' }), null);
    assert.equal(book.validator('device-config-ack', 'keep')({ config_version: 2, result: 'done' })?.path, '/result');
  });

  it('config/ack/{device} is an uplink route the decoder reads, and subscriptions carry it', () => {
    const route = TOPIC_ROUTES.find((r) => r.id === 'config.ack');
    assert.ok(route);
    assert.deepEqual([route.pattern, route.kind, route.direction, route.schema], ['config/ack/{device}', 'config-ack', 'up', 'device-config-ack']);
    assert.equal(topicFor('config.ack', { device: 'env_001' }), 'config/ack/env_001');
    assert.ok(subscriptionsFor({ profiles: ['standard'], kinds: ['env-sensor'], downlink: false }).includes('config/ack/+'));
  });

  it('decodes a device\'s answer with its device id, and rejects a malformed one naming the field', () => {
    const decoder = new Decoder();
    const ok = decoder.decode({ topic: 'config/ack/env_001', payload: Buffer.from('{"config_version":3,"config_hash":"0123456789abcdef","result":"applied"}'), receivedAt: 1000, retained: false });
    assert.ok(ok.ok);
    assert.equal(ok.value.kind, 'config-ack');
    assert.equal(ok.value.device.id, 'env_001');
    assert.equal(ok.value.payload.config_version, 3);
    // What the decoder hands on is what fleet-command's ack parser accepts.
    assert.ok(parseDeviceConfigAck({ config_version: ok.value.payload.config_version, result: ok.value.payload.result }).ok);
    const rejected = decoder.decode({ topic: 'config/ack/env_001', payload: Buffer.from('{"config_version":3,"result":"maybe"}'), receivedAt: 1000, retained: false });
    assert.ok(!rejected.ok);
    assert.match(`${rejected.reject.path} ${rejected.reject.reason}`, /result/);
    const text = decoder.decode({ topic: 'config/ack/env_001', payload: Buffer.from('applied'), receivedAt: 1000, retained: false });
    assert.ok(!text.ok, 'a bare word is not an answer');
  });
});
