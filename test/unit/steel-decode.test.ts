/**
 * fleet-decode reads every Steel device message (aws-iot-steel program_delivery.rs and
 * shadow_manager.rs), on both shadow spellings, and our own downlinks when asked to.
 */
import * as assert from 'node:assert/strict';

import { buildLoadMessage, buildRequest, steelTopic } from '../../firmware/contract/steel';
import { TOPIC_ROUTES } from '../../firmware/contract/topics';
import { SteelDevice } from '../../firmware/simulator/steel-device';
import { Decoder } from '../../lib/decode/decoder';
import { readSteelUplink } from '../../lib/steel/uplink';
import { GUIDE_SENSOR_MONITORING } from './steel-fixtures';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = new Date(T0).toISOString();
const SHADOW = {
  state: {
    reported: {
      runtime_status: { ExecutingProgram: { program_id: 'sensor-monitor', started_at: iso } },
      hardware_state: { led_status: true, sleep_status: 'Awake', memory_usage: { total_bytes: 327680, free_bytes: 180000, used_bytes: 147680, largest_free_block: 110000 } },
      system_info: { firmware_version: '1.0.0', platform: 'esp32-c3', uptime_seconds: 42, steel_runtime_version: '0.5.0' },
      timestamp: iso,
    },
  },
};

describe('fleet-decode and the Steel device messages', () => {
  const decoder = new Decoder();
  const decode = (topic: string, payload: unknown) => decoder.decode({ topic, payload: Buffer.from(JSON.stringify(payload)), receivedAt: T0 + 1000, retained: false });

  it('the topic map holds every Steel route once', () => {
    const ids = TOPIC_ROUTES.filter((r) => r.id.startsWith('steel.') && !r.id.startsWith('steel.ota')).map((r) => r.id).sort();
    assert.deepEqual(ids, ['steel.execute', 'steel.load', 'steel.remove', 'steel.result', 'steel.shadow-update', 'steel.shadow-update.things', 'steel.status', 'steel.status-full-report', 'steel.status-report', 'steel.stop']);
  });

  it('reads what a simulated device answers: status report, result, full report', () => {
    const d = new SteelDevice({ id: 'steel-007' });
    const load = d.handle(steelTopic('load', 'steel-007'), JSON.stringify(buildLoadMessage({ programId: 'sensor-monitor', steelCode: GUIDE_SENSOR_MONITORING, version: '1.0.0', autoStart: false })), T0);
    const exec = d.handle(steelTopic('execute', 'steel-007'), JSON.stringify(buildRequest('execute', 'sensor-monitor')), T0);
    const full = d.handle(steelTopic('status', 'steel-007'), '{}', T0);
    const expected: Array<[string, string]> = [['steel.status-report', 'steel-status'], ['steel.result', 'steel-result'], ['steel.status-full-report', 'steel-report']];
    [load[0], exec[0], full[0]].forEach((p, i) => {
      const r = decoder.decode({ topic: p.topic, payload: Buffer.from(p.payload), receivedAt: T0, retained: false });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.reject));
      assert.deepEqual([r.value.route, r.value.kind, r.value.device.id, r.value.device.kind], [...expected[i], 'steel-007', 'steel-device']);
      // What fleet-decode sends on is still readable by fleet-steel.
      const u = readSteelUplink(p.topic, r.value.payload);
      assert.ok(u && u.kind !== 'invalid', JSON.stringify(u));
    });
  });

  it('reads the shadow on $aws/thing/… (the device code) and $aws/things/… (the guide)', () => {
    for (const topic of ['$aws/thing/steel-007/shadow/update', '$aws/things/steel-007/shadow/update']) {
      const r = decode(topic, SHADOW);
      assert.ok(r.ok, `${topic}: ${JSON.stringify(!r.ok && r.reject)}`);
      assert.deepEqual([r.value.kind, r.value.device.id], ['steel-shadow', 'steel-007']);
    }
  });

  it('rejects a result the device would not send, naming the field', () => {
    const r = decode('steel-programs/steel-007/result', { program_id: 'p', success: 'yes', execution_time_ms: 3, timestamp: iso });
    assert.ok(!r.ok);
    assert.match(JSON.stringify(r.reject), /success/);
  });

  it('reads our own load and requests only when asked to decode commands', () => {
    const load = buildLoadMessage({ programId: 'p', steelCode: '(led-on)', version: '1' });
    assert.ok(!decode('steel-programs/broadcast/load', load).ok || new Decoder().decode({ topic: 'x', payload: '{}', receivedAt: T0, retained: false }).ok === false);
    const withCommands = new Decoder({ includeCommands: true });
    for (const [topic, body] of [['steel-programs/broadcast/load', load], ['steel-programs/steel-007/stop', buildRequest('stop', 'p')], ['steel-programs/broadcast/execute', buildRequest('execute', 'p')]] as const) {
      const r = withCommands.decode({ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: T0, retained: false });
      assert.ok(r.ok, `${topic}: ${JSON.stringify(!r.ok && r.reject)}`);
      assert.equal(r.value.direction, 'down');
    }
  });
});
