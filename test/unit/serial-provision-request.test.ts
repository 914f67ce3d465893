/**
 * fleet-serial's provisioning messages: one device or a batch, the node's defaults filling absent
 * fields, and refusals that name the field (a secret in a message is taken out before it is refused).
 */
import assert from 'node:assert/strict';

import { readProvisionRequest } from '../../lib/serial/provision-request';

const DEFAULTS = { broker: 'mqtt://127.0.0.1:1883', wifi_ssid: 'lab' };

describe('fleet-serial provisioning messages', () => {
  it('fills one device\'s configuration from the defaults and takes the node\'s port', () => {
    const r = readProvisionRequest({ device_id: 'env-7' }, undefined, DEFAULTS, '/dev/ttyUSB0');
    assert.ok(r.ok && r.kind === 'one');
    assert.equal(r.port, '/dev/ttyUSB0');
    assert.equal(r.config.device_id, 'env-7');
    assert.equal(r.config.wifi_ssid, 'lab');
    assert.equal(r.config.broker, '127.0.0.1');
  });

  it('takes msg.port and the message\'s own fields over the defaults', () => {
    const r = readProvisionRequest({ device_id: 'env-7', wifi_ssid: 'plant' }, '/dev/ttyACM1', DEFAULTS, '/dev/ttyUSB0');
    assert.ok(r.ok && r.kind === 'one');
    assert.equal(r.port, '/dev/ttyACM1');
    assert.equal(r.config.wifi_ssid, 'plant');
  });

  it('reads a batch, each device on its own serial_port', () => {
    const r = readProvisionRequest([{ device_id: 'a', serial_port: '/dev/ttyUSB1' }, { device_id: 'b' }], undefined, DEFAULTS, '/dev/ttyUSB0');
    assert.ok(r.ok && r.kind === 'batch');
    assert.deepEqual(r.items.map((i) => i.port), ['/dev/ttyUSB1', '/dev/ttyUSB0']);
    assert.deepEqual(r.items.map((i) => (i.config as Record<string, unknown>).serial_port), [undefined, undefined]);
  });

  it('refuses a secret in the message and removes it from the message', () => {
    const payload: Record<string, unknown> = { device_id: 'a', wifi_password: 'hunter2' };
    const r = readProvisionRequest(payload, undefined, DEFAULTS, '/dev/ttyUSB0');
    assert.deepEqual(r, { ok: false, field: 'payload.wifi_password', code: 'secretInMessage' });
    assert.equal(Object.hasOwn(payload, 'wifi_password'), false);
  });

  it('names the field at fault', () => {
    const field = (payload: unknown, port?: unknown): string | null => {
      const r = readProvisionRequest(payload, port, DEFAULTS, '/dev/ttyUSB0');
      return r.ok ? null : r.field;
    };
    assert.equal(field('text'), 'payload');
    assert.equal(field([{ device_id: 'a' }, 7]), 'payload[]');
    assert.equal(field({ device_id: 'a' }, 42), 'msg.port');
    assert.equal(field([{ device_id: 'a', serial_port: 42 }]), 'payload[].serial_port');
    assert.equal(field({ device_id: '' }), 'payload.device_id');
  });
});
