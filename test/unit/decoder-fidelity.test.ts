/** Issue 11, decoding: what the public firmware really sends, case by case from its source. */
import assert from 'node:assert/strict';

import { Decoder, type DecodeResult, type Decoded } from '../../lib/decode/decoder';
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
  return r.reject;
}

describe('decoder fidelity: TI0162-IOT iot-common layout', () => {
  const d = new Decoder();
  // from mvcorrea-ufc/TI0162-IOT workspace/core/iot-common/src/standard_messages.rs:
  // StandardTopics::for_architecture uses get_topic_suffix() = sync | async | full,
  // StandardDeviceStatus.architecture is get_architecture_string() = sync | async-min | async-full,
  // get_device_id() = esp32-c3-nodeps | esp32-c3-min | esp32-c3-full.
  const variants = [
    { suffix: 'sync', architecture: 'sync', id: 'esp32-c3-nodeps' },
    { suffix: 'async', architecture: 'async-min', id: 'esp32-c3-min' },
    { suffix: 'full', architecture: 'async-full', id: 'esp32-c3-full' },
  ] as const;

  for (const { suffix, architecture, id } of variants) {
    it(`${suffix}: sensor, heartbeat and status on esp32c3/*/${suffix} decode, the arch from the topic`, () => {
      const s = ok(d.decode({ topic: `esp32c3/sensor/bme280/${suffix}`, payload: `{"temperature":22.45,"humidity":65.2,"pressure":1013.25,"timestamp":1234567890,"device_id":"${id}","reading_count":123}`, receivedAt: AT }));
      assert.deepEqual([s.kind, s.route, s.device.id, s.device.arch], ['sensor', 'ti0162lib.sensor', id, suffix]);
      assert.deepEqual([s.payload.uptime_ms, s.payload.timestamp, s.payload.time_source], [1234567890, AT, 'received']);
      const h = ok(d.decode({ topic: `esp32c3/heartbeat/${suffix}`, payload: `{"status":"ping","timestamp":1234567890,"device_id":"${id}","sequence":42}`, receivedAt: AT }));
      assert.deepEqual([h.kind, h.device.id, h.payload.sequence, 'status' in h.payload], ['heartbeat', id, 42, false]);
      const st = ok(d.decode({ topic: `esp32c3/status/${suffix}`, payload: `{"status":"online","uptime_seconds":1234,"free_heap_bytes":32768,"wifi_rssi_dbm":-45,"sensor_readings":42,"timestamp":1234567890,"device_id":"${id}","architecture":"${architecture}"}`, receivedAt: AT }));
      assert.deepEqual([st.device.arch, st.payload.uptime, st.payload.free_heap, st.payload.wifi_rssi, st.payload.reading_count], [suffix, 1234, 32768, -45, 42]);
    });
  }

  it('the architecture strings are no topic suffix: esp32c3/sensor/bme280/async-min matches nothing', () => {
    assert.equal(rejected(d.decode({ topic: 'esp32c3/sensor/bme280/async-min', payload: '{"temperature":1,"humidity":1,"pressure":1000}', receivedAt: AT })).code, 'unknown-topic');
  });

  it('the legacy heartbeat, StandardHeartbeat::to_legacy_simple, is the bare word ping', () => {
    const h = ok(d.decode({ topic: 'esp32c3/heartbeat/async', payload: Buffer.from('ping'), receivedAt: AT }));
    assert.deepEqual([h.kind, h.device.arch, h.device.id], ['heartbeat', 'async', null]);
  });
});

describe('decoder fidelity: the guide layout carries the iot-common messages', () => {
  const d = new Decoder();

  it('StandardHeartbeat on esp32c3/{arch}/{device}/heartbeat, without uptime', () => {
    // from TI0162-IOT standard_messages.rs (StandardHeartbeat doc) and docs/implementation/DEPLOYMENT_GUIDE.md (topic layout)
    const h = ok(d.decode({ topic: 'esp32c3/async/esp32-c3-min/heartbeat', payload: '{"status":"ping","timestamp":1234567890,"device_id":"esp32-c3-min","sequence":42}', receivedAt: AT }));
    assert.deepEqual([h.device.id, h.device.arch, h.payload.sequence, h.payload.uptime_ms, h.payload.uptime, h.payload.timestamp], ['esp32-c3-min', 'async', 42, 1234567890, 1234567, AT]);
  });

  it('the bare ping, and the JSON string "ping" its validation script accepts, on a guide topic', () => {
    // from TI0162-IOT supporting/scripts/validation/validate_messages.sh (legacy heartbeat: ping or "ping")
    for (const payload of ['ping', '"ping"', Buffer.from('ping\n')]) {
      const h = ok(d.decode({ topic: 'esp32c3/sync/device_001/heartbeat', payload, receivedAt: AT }));
      assert.deepEqual([h.kind, h.device.id, h.device.arch], ['heartbeat', 'device_001', 'sync']);
    }
    assert.equal(rejected(d.decode({ topic: 'esp32c3/sync/device_001/heartbeat', payload: 'pong', receivedAt: AT })).code, 'schema');
  });

  it('StandardDeviceStatus with architecture async-full, normalised like our status; the topic\'s arch is kept', () => {
    const s = ok(d.decode({ topic: 'esp32c3/full/esp32-c3-full/status', payload: '{"status":"online","uptime_seconds":1234,"free_heap_bytes":32768,"wifi_rssi_dbm":-45,"sensor_readings":42,"timestamp":1234567890,"device_id":"esp32-c3-full","architecture":"async-full"}', receivedAt: AT }));
    assert.deepEqual([s.device.arch, s.payload.status, s.payload.uptime, s.payload.free_heap, s.payload.wifi_rssi, s.payload.reading_count, s.payload.uptime_ms, s.payload.time_source],
      ['full', 'online', 1234, 32768, -45, 42, 1234567890, 'received']);
    assert.equal('uptime_seconds' in s.payload || 'architecture' in s.payload, false);
    const mixed = ok(d.decode({ topic: 'esp32c3/sync/esp32-c3-nodeps/status', payload: '{"status":"degraded","architecture":"async-min","uptime_seconds":5}', receivedAt: AT }));
    assert.equal(mixed.device.arch, 'sync');
  });

  it('StandardSensorReading: a timestamp below 1.5e9 is ms since boot, the guide\'s 1633024800 is epoch seconds', () => {
    const iot = ok(d.decode({ topic: 'esp32c3/sync/esp32-c3-nodeps/sensor', payload: '{"temperature":22.45,"humidity":65.2,"pressure":1013.25,"timestamp":1234567890,"device_id":"esp32-c3-nodeps","reading_count":123}', receivedAt: AT }));
    assert.deepEqual([iot.payload.timestamp, iot.payload.uptime_ms, iot.payload.time_source], [AT, 1234567890, 'received']);
    // from TI0162-IOT docs/implementation/DEPLOYMENT_GUIDE.md (Message Format Standardization)
    const guide = ok(d.decode({ topic: 'esp32c3/full/esp32-c3-003/sensor', payload: '{"temperature":22.45,"humidity":65.2,"pressure":1013.25,"timestamp":1633024800,"device_id":"esp32-c3-003","reading_count":123}', receivedAt: AT }));
    assert.deepEqual([guide.payload.timestamp, guide.payload.time_source], [1633024800000, 'device']);
  });

  it('a heartbeat with neither uptime nor status ping is still refused, naming why', () => {
    const r = rejected(d.decode({ topic: 'esp32c3/full/dev-1/heartbeat', payload: '{"sequence":1}', receivedAt: AT }));
    assert.equal(r.code, 'schema');
  });
});

describe('decoder fidelity: log levels as Rust\'s log crate prints them', () => {
  const d = new Decoder();
  for (const level of ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', 'error', 'warn']) {
    it(`${level} is valid and comes out in lower case`, () => {
      const v = ok(d.decode({ topic: 'esp32/dev-1/logs', payload: JSON.stringify({ level, message: 'm' }), receivedAt: AT }));
      assert.equal(v.payload.level, level.toLowerCase());
    });
  }
  it('Warn and warning are not log levels', () => {
    for (const level of ['Warn', 'warning']) assert.equal(rejected(d.decode({ topic: 'esp32/dev-1/logs', payload: JSON.stringify({ level, message: 'm' }), receivedAt: AT })).path, '/level');
  });
});

describe('decoder fidelity: whofi (jedarden/whofi)', () => {
  const d = new Decoder();

  it('ESP-IDF {prefix}/csi_data: the prefix names the node; a prefix map still wins', () => {
    // from jedarden/whofi csi-firmware/components/mqtt_client/src/mqtt_client_wrapper.c (csi_data_to_json, "%s/csi_data")
    // and csi-firmware/main/app_config.c (topic_prefix defaults to csi-device)
    const payload = '{\n\t"timestamp":\t42000000,\n\t"mac":\t"AA:BB:CC:DD:EE:FF",\n\t"rssi":\t-57,\n\t"channel":\t11,\n\t"secondary_channel":\t0,\n\t"subcarrier_count":\t2,\n\t"amplitude":\t[14.1, 22.8],\n\t"phase":\t[0.52, -1.9]\n}';
    const v = ok(d.decode({ topic: 'csi-device/csi_data', payload, receivedAt: AT }));
    assert.deepEqual([v.device.id, v.device.source, v.payload.uptime_ms], ['csi-device', 'topic', 42000]);
    assert.equal(ok(d.decode({ topic: 'lab-node-7/csi_data', payload, receivedAt: AT })).device.id, 'lab-node-7');
    assert.equal(ok(new Decoder({ prefixMap: { 'csi-device': 'CSI-Device-001' } }).decode({ topic: 'csi-device/csi_data', payload, receivedAt: AT })).device.id, 'CSI-Device-001');
    const multi = ok(d.decode({ topic: 'site/a/csi_data', payload, receivedAt: AT }));
    assert.deepEqual([multi.device.id, multi.device.identified], [null, false]);
  });

  it('ESP-IDF {prefix}/status `online` (retained birth) is presence of the prefix, a csi-sensor', () => {
    // from jedarden/whofi mqtt_client_wrapper.c MQTT_EVENT_CONNECTED: publish "%s/status" "online", retain
    const v = ok(d.decode({ topic: 'csi-device/status', payload: Buffer.from('online'), receivedAt: AT, retained: true }));
    assert.deepEqual([v.kind, v.route, v.device.id, v.device.kind, v.payload.state, v.retained], ['presence', 'whofi.presence', 'csi-device', 'csi-sensor', 'online', true]);
    // ESPHome's default birth and will on {node name}/status (esphome_csi_config.yaml names the node whofi-csi-node)
    assert.equal(ok(d.decode({ topic: 'whofi-csi-node/status', payload: 'offline', receivedAt: AT })).payload.state, 'offline');
  });

  it('TI0162-IOT\'s JSON status on {prefix}/status is still a ti0162 status, unidentified', () => {
    const s = ok(d.decode({ topic: 'esp32/status', payload: '{"status":"online","uptime":15,"free_heap":73728,"wifi_rssi":-42,"app":"main-nodeps"}', receivedAt: AT }));
    assert.deepEqual([s.kind, s.route, s.device.id, s.device.arch], ['status', 'ti0162.status', null, 'sync']);
  });

  it('ESP-IDF devices/{id}/status, last will and metrics', () => {
    // from jedarden/whofi csi-firmware/components/mqtt_client/src/mqtt_publisher.c
    const s = ok(d.decode({ topic: 'devices/CSI-Device-001/status', payload: '{\n\t"device_id":\t"CSI-Device-001",\n\t"version":\t"1.0.0",\n\t"uptime":\t42,\n\t"wifi_rssi":\t-50,\n\t"free_heap":\t180000,\n\t"timestamp":\t1.735000000123e+15\n}', receivedAt: AT }));
    assert.deepEqual([s.payload.firmware_version, s.payload.timestamp, s.payload.time_source], ['1.0.0', 1735000000123, 'device']);
    const will = ok(d.decode({ topic: 'devices/CSI-Device-001/status', payload: '{"status":"offline","reason":"unexpected_disconnect","timestamp":5000000}', receivedAt: AT }));
    assert.equal(will.payload.status, 'offline');
  });

  it('ESP-IDF downlinks: devices/{id}/command and devices/{id}/config, {prefix}/config', () => {
    // from jedarden/whofi mqtt_subscriber.c (handle_command: restart, factory_reset, get_status, get_stats, custom + params)
    const c = ok(d.decode({ topic: 'devices/CSI-Device-001/command', payload: '{"command":"factory_reset"}', receivedAt: AT }));
    assert.deepEqual([c.kind, c.direction, c.device.id], ['command', 'down', 'CSI-Device-001']);
    const cfg = ok(d.decode({ topic: 'csi-device/config', payload: '{"csi":{"enabled":true}}', receivedAt: AT }));
    assert.deepEqual([cfg.kind, cfg.direction, cfg.device.id], ['config-update', 'down', 'csi-device']);
  });

  it('the CSI server\'s downlink csi/{node}/config is a config push to that node', () => {
    // from jedarden/whofi csi-server/backend/server.js publishNodeConfig: `csi/${nodeId}/config`, JSON.stringify(config)
    const v = ok(d.decode({ topic: 'csi/24:6F:28:11:22:33/config', payload: '{"position":{"x":1.5,"y":2,"z":0.8}}', receivedAt: AT }));
    assert.deepEqual([v.kind, v.direction, v.device.id, v.device.kind], ['config-update', 'down', '24:6F:28:11:22:33', 'csi-sensor']);
    assert.equal(rejected(new Decoder({ includeCommands: false }).decode({ topic: 'csi/n1/config', payload: '{}', receivedAt: AT })).code, 'unknown-topic');
  });

  it('the practical Arduino example\'s home/sensor/data names no device; the prefix map can', () => {
    // from jedarden/whofi practical_csi_wifi_example.ino loop(): mqtt.publish("home/sensor/data", ...) and reconnectMQTT(): "home/sensor/status" "online"
    const payload = '{"temperature":22.7,"humidity":44.1,"rssi":-52,"presence":false,"csi_packets":1834}';
    const v = ok(d.decode({ topic: 'home/sensor/data', payload, receivedAt: AT }));
    assert.deepEqual([v.kind, v.device.id, v.device.kind, v.payload.presence, v.payload.csi_packets], ['sensor', null, 'csi-sensor', false, 1834]);
    const mapped = new Decoder({ prefixMap: { 'home/sensor': 'kitchen-node' } });
    assert.equal(ok(mapped.decode({ topic: 'home/sensor/data', payload, receivedAt: AT })).device.id, 'kitchen-node');
    const birth = ok(mapped.decode({ topic: 'home/sensor/status', payload: 'online', receivedAt: AT }));
    assert.deepEqual([birth.kind, birth.device.id], ['presence', 'kitchen-node']);
    assert.equal(ok(d.decode({ topic: 'home/sensor/status', payload: 'online', receivedAt: AT })).device.id, null);
  });

  it('ESPHome CSI packets carry nr, nc, ant, sig_len and rx_state, which the reject policy now knows', () => {
    // from jedarden/whofi esphome_csi_component.h csi_rx_callback
    const strict = new Decoder({ unknownFields: 'reject' });
    const v = ok(strict.decode({ topic: 'whofi/csi/246f28aabbcc/data', payload: '{"timestamp":98765432,"mac":"24:6F:28:AA:BB:CC","rssi":-51,"rate":11,"sig_mode":1,"mcs":7,"cwb":0,"channel":6,"secondary_channel":0,"nr":0,"nc":0,"noise_floor":-92,"ant":0,"sig_len":86,"rx_state":0,"csi_data":[3,-4],"csi_len":2,"first_word_invalid":false}', receivedAt: AT }));
    assert.equal(v.payload.sig_len, 86);
  });
});

describe('decoder fidelity: empty payloads are never a reading or a status', () => {
  it('a cleared retained status names no device, so it neither marks it online nor counts as a bad reading', () => {
    const d = new Decoder();
    for (const topic of ['esp32c3/full/dev-1/status', 'devices/CSI-Device-001/status', 'csi-device/status', 'esp32c3/status/full']) {
      const r = rejected(d.decode({ topic, payload: Buffer.alloc(0), receivedAt: AT, retained: true }));
      assert.deepEqual([r.code, r.device], ['empty', undefined], topic);
    }
  });
});
