import assert from 'node:assert/strict';

import { buildLoadMessage } from '../../firmware/contract/steel';
import { Decoder, type DecodeResult, type Decoded } from '../../lib/decode/decoder';
import type { Reject } from '../../lib/decode/reject';

const AT = 1_700_000_000_000;

function ok(r: DecodeResult): Decoded {
  if (!r.ok) assert.fail(`expected a reading, got reject ${JSON.stringify(r.reject)}`);
  return r.value;
}
function rejected(r: DecodeResult): Reject {
  if (r.ok) assert.fail(`expected a reject, got ${JSON.stringify(r.value)}`);
  return r.reject;
}

describe('decoder: standard profile', () => {
  const d = new Decoder();

  it('decodes the guide\'s sensor message, from a Buffer, with identity from the topic', () => {
    const payload = Buffer.from('{"temperature":22.45,"humidity":65.2,"pressure":1013.25,"timestamp":1633024800,"device_id":"esp32-c3-003","reading_count":123}');
    const v = ok(d.decode({ topic: 'esp32c3/full/esp32-c3-003/sensor', payload, receivedAt: AT }));
    assert.equal(v.kind, 'sensor');
    assert.deepEqual(v.device, { id: 'esp32-c3-003', kind: 'env-sensor', arch: 'full', firmware: null, identified: true, source: 'topic' });
    assert.deepEqual(v.payload, { temperature: 22.45, humidity: 65.2, pressure: 1013.25, reading_count: 123, timestamp: 1633024800000, time_source: 'device' });
  });

  it('reads all three firmware variants from the topic', () => {
    for (const arch of ['sync', 'async', 'full'] as const) {
      const v = ok(d.decode({ topic: `esp32c3/${arch}/dev-1/heartbeat`, payload: '{"uptime":10}', receivedAt: AT }));
      assert.equal(v.device.arch, arch);
      assert.equal(v.payload.timestamp, AT);
      assert.equal(v.payload.time_source, 'received');
    }
  });

  it('normalises health and metrics to the names health scoring reads', () => {
    const h = ok(d.decode({ topic: 'esp32/esp32c3_001/health', payload: { uptime: 86400, free_memory: 28672, wifi_rssi: -42, temperature: 41.5, last_sensor_reading: 1694123400 }, receivedAt: AT }));
    assert.deepEqual(h.payload, { uptime: 86400, free_heap: 28672, wifi_rssi: -42, chip_temperature: 41.5, last_sensor_reading: 1694123400000, timestamp: AT, time_source: 'received' });
    const m = ok(d.decode({
      topic: 'esp32/esp32c3_001/metrics',
      payload: JSON.stringify({ device_id: 'esp32c3_001', timestamp: 1694123456, metrics: { cpu_usage_percent: 23, memory_usage_bytes: 28672, network_latency_ms: 45, sensor_read_time_ms: 120, mqtt_publish_time_ms: 200, wifi_signal_strength_dbm: -42, uptime_seconds: 86400, restart_count: 0, error_count: 2 } }),
      receivedAt: AT,
    }));
    assert.equal(m.kind, 'metrics');
    assert.equal(m.payload.wifi_rssi, -42);
    assert.equal(m.payload.uptime, 86400);
    assert.equal(m.payload.error_count, 2);
    assert.equal(m.payload.timestamp, 1694123456000);
    assert.equal('metrics' in m.payload, false);
  });

  it('decodes device alerts with a severity and plain-text logs', () => {
    const a = ok(d.decode({ topic: 'esp32/esp32c3_001/alerts', payload: '{"level":"Critical","message":"Sensor communication failure","device_id":"esp32c3_001","timestamp":1694123456}', receivedAt: AT }));
    assert.equal(a.kind, 'alert');
    assert.equal(a.payload.severity, 'critical');
    const l = ok(d.decode({ topic: 'esp32/esp32c3_001/logs', payload: 'MQTT reconnected', receivedAt: AT }));
    assert.equal(l.kind, 'log');
    assert.equal(l.payload.message, 'MQTT reconnected');
  });

  it('decodes the reset command in its bare-text form and refuses an unknown command', () => {
    const c = ok(d.decode({ topic: 'esp32/dev-1/command', payload: 'reset', receivedAt: AT }));
    assert.equal(c.kind, 'command');
    assert.equal(c.direction, 'down');
    assert.equal(c.payload.command, 'reset');
    assert.equal(rejected(d.decode({ topic: 'esp32/dev-1/command', payload: 'format-flash', receivedAt: AT })).path, '/command');
  });

  it('marks a Steel broadcast load as a broadcast, with no device', () => {
    const v = ok(d.decode({ topic: 'steel-programs/broadcast/load', payload: JSON.stringify(buildLoadMessage({ programId: 'my-program', steelCode: '(led-on)', version: '1.0.0', autoStart: true })), receivedAt: AT }));
    assert.equal(v.target, 'broadcast');
    assert.equal(v.device.id, null);
  });

  it('decodes OTA progress and presence', () => {
    const p = ok(d.decode({ topic: 'ota/progress/dev-1', payload: '{"job_id":"j1","state":"DOWNLOADING","progress":40}', receivedAt: AT }));
    assert.equal(p.kind, 'ota-progress');
    const b = ok(d.decode({ topic: 'esp32c3/sync/dev-1/presence', payload: '{"state":"online","session":3,"firmware_version":"1.2.0"}', receivedAt: AT }));
    assert.equal(b.kind, 'presence');
    assert.equal(b.device.firmware, '1.2.0');
  });

  it('does not decode commands when told not to', () => {
    const noCmd = new Decoder({ includeCommands: false });
    assert.equal(rejected(noCmd.decode({ topic: 'esp32/dev-1/command', payload: 'reset', receivedAt: AT })).code, 'unknown-topic');
  });
});

describe('decoder: firmware as found in the field', () => {
  it('TI0162-IOT apps: no id on the wire, so the message is unidentified unless the prefix is mapped', () => {
    const d = new Decoder();
    const payload = '{"temperature":23.45,"pressure":1013.25,"humidity":45.00,"reading":7,"app":"main-nodeps"}';
    const v = ok(d.decode({ topic: 'esp32/sensor/bme280', payload, receivedAt: AT }));
    assert.equal(v.device.id, null);
    assert.equal(v.device.identified, false);
    assert.equal(v.device.arch, 'sync');
    assert.equal(v.payload.reading_count, 7);
    assert.equal('app' in v.payload, false);

    const mapped = new Decoder({ prefixMap: { esp32: 'lab-bench-1', 'lab/room2': 'room2-sensor' } });
    assert.equal(ok(mapped.decode({ topic: 'esp32/sensor/bme280', payload, receivedAt: AT })).device.id, 'lab-bench-1');
    const multi = ok(mapped.decode({ topic: 'lab/room2/status', payload: '{"status":"online","uptime":15,"free_heap":73728,"wifi_rssi":-42,"app":"main-app"}', receivedAt: AT }));
    assert.deepEqual([multi.device.id, multi.device.source, multi.device.arch], ['room2-sensor', 'prefix-map', 'full']);
  });

  it('TI0162-IOT heartbeat is the bare word ping', () => {
    const d = new Decoder({ prefixMap: { esp32: 'lab-bench-1' } });
    assert.equal(ok(d.decode({ topic: 'esp32/heartbeat', payload: Buffer.from('ping'), receivedAt: AT })).kind, 'heartbeat');
    assert.equal(rejected(d.decode({ topic: 'esp32/heartbeat', payload: 'pong', receivedAt: AT })).code, 'schema');
  });

  it('TI0162-IOT: serde-json-core writes a non-finite float as null, which is rejected at that field', () => {
    const r = rejected(new Decoder().decode({ topic: 'esp32/sensor/bme280', payload: '{"temperature":null,"pressure":1013.2,"humidity":45.6,"reading":3,"app":"main-app"}', receivedAt: AT }));
    assert.deepEqual([r.code, r.path], ['schema', '/temperature']);
  });

  it('TI0162-IOT iot-common layout: id in the payload, milliseconds since boot', () => {
    // from mvcorrea-ufc/TI0162-IOT workspace/core/iot-common/src/standard_messages.rs (StandardTopics, get_topic_suffix)
    const v = ok(new Decoder().decode({ topic: 'esp32c3/sensor/bme280/async', payload: '{"temperature":21.5,"humidity":48.2,"pressure":1009.8,"timestamp":125000,"device_id":"esp32-c3-min","reading_count":25}', receivedAt: AT }));
    assert.deepEqual([v.device.id, v.device.source, v.device.arch], ['esp32-c3-min', 'payload', 'async']);
    assert.equal(v.payload.uptime_ms, 125000);
    assert.equal(v.payload.timestamp, AT);
    const s = ok(new Decoder().decode({ topic: 'esp32c3/status/full', payload: '{"status":"online","uptime_seconds":300,"free_heap_bytes":30000,"wifi_rssi_dbm":-45,"sensor_readings":10,"timestamp":300000,"device_id":"esp32-c3-full","architecture":"async-full"}', receivedAt: AT }));
    assert.deepEqual([s.payload.free_heap, s.payload.wifi_rssi, s.payload.uptime, s.device.arch], [30000, -45, 300, 'full']);
  });

  it('whofi ESPHome: MAC in the topic, microsecond radio clock', () => {
    const v = ok(new Decoder().decode({ topic: 'whofi/csi/246f28aabbcc/data', payload: '{"timestamp":98765432,"mac":"24:6F:28:AA:BB:CC","rssi":-51,"channel":6,"csi_data":[3,-4,12]}', receivedAt: AT }));
    assert.equal(v.device.id, '246f28aabbcc');
    assert.equal(v.kind, 'csi-data');
    assert.equal(v.payload.uptime_ms, 98765);
  });

  it('whofi Arduino: the node\'s own MAC in the payload names it', () => {
    const v = ok(new Decoder().decode({ topic: 'whofi/csi/data', payload: '{"rssi":-60,"channel":1,"rate":11,"mcs":0,"timestamp":45000,"mac":"24:6F:28:11:22:33","csi_data":[10,250]}', receivedAt: AT }));
    assert.deepEqual([v.device.id, v.device.source], ['24:6F:28:11:22:33', 'payload']);
  });

  it('whofi ESP-IDF: pretty-printed JSON, epoch microseconds in exponent form, bare `online` status', () => {
    const d = new Decoder({ prefixMap: { 'csi-device': 'csi-lab-1' } });
    const pretty = '{\n\t"timestamp":\t1.73500000012345e+15,\n\t"mac":\t"AA:BB:CC:DD:EE:FF",\n\t"rssi":\t-57,\n\t"channel":\t11,\n\t"amplitude":\t[14.1, 22.8],\n\t"phase":\t[0.52, -1.9]\n}';
    const v = ok(d.decode({ topic: 'csi-device/csi_data', payload: pretty, receivedAt: AT }));
    assert.equal(v.device.id, 'csi-lab-1');
    assert.equal(v.payload.timestamp, 1735000000123);
    assert.equal(v.payload.time_source, 'device');
    const s = ok(d.decode({ topic: 'devices/CSI-Device-001/status', payload: 'online', receivedAt: AT }));
    assert.deepEqual([s.device.id, s.payload.status], ['CSI-Device-001', 'online']);
    const a = ok(d.decode({ topic: 'devices/CSI-Device-001/alerts', payload: '{"level":"ERROR","component":"SYSTEM","message":"Critical low memory","timestamp":5000000}', receivedAt: AT }));
    assert.equal(a.payload.severity, 'critical');
  });

  it('CSI server layout: MAC with colons as the node id, heartbeat with memoryFree', () => {
    const v = ok(new Decoder().decode({ topic: 'csi/24:6F:28:11:22:33/heartbeat', payload: '{"uptime":3600,"memoryFree":182000}', receivedAt: AT }));
    assert.deepEqual([v.device.id, v.payload.free_heap], ['24:6F:28:11:22:33', 182000]);
  });

  it('a profile that is not enabled does not match', () => {
    const d = new Decoder({ profiles: ['standard'] });
    assert.equal(rejected(d.decode({ topic: 'esp32/sensor/bme280', payload: '{"temperature":1,"pressure":1000,"humidity":1}', receivedAt: AT })).code, 'unknown-topic');
  });
});

describe('decoder: hostile and broken input', () => {
  const d = new Decoder({ maxPayloadBytes: 256 });
  const topic = 'esp32c3/full/dev-1/sensor';
  const good = '{"temperature":22,"humidity":50,"pressure":1013}';

  const cases: Array<[string, unknown, unknown, string, string]> = [
    ['invalid UTF-8', topic, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'encoding', ''],
    ['malformed JSON', topic, '{"temperature":22,', 'json', ''],
    ['a JSON array', topic, '[1,2]', 'json', ''],
    ['JSON null', topic, 'null', 'json', ''],
    ['a number payload', topic, 42, 'encoding', ''],
    ['NaN from a function node', topic, { temperature: Number.NaN, humidity: 50, pressure: 1013 }, 'schema', '/temperature'],
    ['Infinity from a function node', topic, { temperature: 22, humidity: Number.POSITIVE_INFINITY, pressure: 1013 }, 'schema', '/humidity'],
    ['a string where a number belongs', topic, '{"temperature":"22","humidity":50,"pressure":1013}', 'schema', '/temperature'],
    ['an oversize payload', topic, `{"temperature":22,"humidity":50,"pressure":1013,"pad":"${'x'.repeat(400)}"}`, 'payload-size', ''],
    ['an oversize Buffer', topic, Buffer.alloc(1000, 0x20), 'payload-size', ''],
    ['a wildcard in the device id', 'esp32c3/full/dev+1/sensor', good, 'device-id', 'topic'],
    ['a # in the device id', 'esp32c3/full/dev#/sensor', good, 'device-id', 'topic'],
    ['.. as the device id', 'esp32c3/full/../sensor', good, 'device-id', 'topic'],
    ['a control character in the topic', 'esp32c3/full/dev\u0000/sensor', good, 'topic', 'topic'],
    ['an over-long topic', `esp32c3/full/${'a'.repeat(300)}/sensor`, good, 'topic', 'topic'],
    ['a wildcard topic', 'esp32c3/+/#', good, 'topic', 'topic'],
    ['a topic outside the contract', 'esp32c3/full/dev-1/firmware', good, 'unknown-topic', 'topic'],
    ['a non-string topic', { evil: true }, good, 'topic', 'topic'],
    ['a payload naming another device', topic, '{"temperature":22,"humidity":50,"pressure":1013,"device_id":"dev-2"}', 'identity-mismatch', '/device_id'],
    ['a bad id in the payload', 'esp32c3/sensor/bme280/sync', '{"temperature":22,"humidity":50,"pressure":1013,"device_id":"a/b"}', 'device-id', '/device_id'],
    ['a future contract version', topic, '{"temperature":22,"humidity":50,"pressure":1013,"v":9}', 'unsupported-version', '/v'],
  ];
  for (const [name, t, payload, code, path] of cases) {
    it(`rejects ${name} with code ${code}`, () => {
      const r = rejected(d.decode({ topic: t, payload, receivedAt: AT }));
      assert.equal(r.code, code);
      assert.equal(r.path, path);
      assert.ok(r.reason.length > 5, 'reason must say what is wrong');
    });
  }

  it('keeps decoding after every kind of reject', () => {
    for (const [, t, payload] of cases) d.decode({ topic: t, payload, receivedAt: AT });
    assert.equal(ok(d.decode({ topic, payload: good, receivedAt: AT })).payload.temperature, 22);
  });

  it('does not mutate an object payload when stripping unknown fields', () => {
    const strip = new Decoder({ unknownFields: 'strip' });
    const input = { temperature: 22, humidity: 50, pressure: 1013, extra: true };
    const v = ok(strip.decode({ topic, payload: input, receivedAt: AT }));
    assert.equal('extra' in v.payload, false);
    assert.equal(input.extra, true);
  });

  it('rejects an unknown field under the reject policy, naming it', () => {
    const r = rejected(new Decoder({ unknownFields: 'reject' }).decode({ topic, payload: '{"temperature":22,"humidity":50,"pressure":1013,"extra":1}', receivedAt: AT }));
    assert.deepEqual([r.code, r.path], ['schema', '/extra']);
  });

  it('filters device kinds it is not configured to accept', () => {
    const r = rejected(new Decoder({ deviceKinds: ['csi-sensor'] }).decode({ topic, payload: good, receivedAt: AT }));
    assert.equal(r.code, 'filtered');
  });

  it('refuses a prefix map that would invent an unsafe id', () => {
    assert.throws(() => new Decoder({ prefixMap: { esp32: 'a/b' } }), /topic separator/);
  });

  it('takes the id from msg.deviceId only when topic and payload name none, and checks it', () => {
    const dd = new Decoder();
    assert.equal(ok(dd.decode({ topic: 'esp32/heartbeat', payload: 'ping', deviceId: 'bench-7', receivedAt: AT })).device.source, 'msg');
    assert.equal(ok(dd.decode({ topic: 'esp32c3/full/dev-1/heartbeat', payload: '{"uptime":1}', deviceId: 'other', receivedAt: AT })).device.id, 'dev-1');
    assert.equal(rejected(dd.decode({ topic: 'esp32/heartbeat', payload: 'ping', deviceId: 'x#', receivedAt: AT })).path, 'msg.deviceId');
  });
});

describe('decoder: serial console lines', () => {
  const d = new Decoder();
  const line = (text: string, topic: unknown = 'console/esp32-c3-003'): Decoded => ok(d.decode({ topic, payload: text, receivedAt: AT }));

  it('reads the guide\'s boot lines', () => {
    assert.equal(line('[SYSTEM] ESP32-C3 IoT System Starting').payload.event, 'boot');
    assert.equal(line('[WIFI] Connected to network: IP=10.10.10.42').payload.ip, '10.10.10.42');
    assert.equal(line('[MQTT] Connected to broker: 10.10.10.210:1883').payload.broker, '10.10.10.210:1883');
    assert.equal(line('[SENSOR] BME280 initialized successfully').payload.event, 'sensor-init');
  });

  it('reads the performance report in the guide\'s and the firmware\'s units', () => {
    assert.deepEqual(
      [line('[PERF] Analysis #1: Uptime: 120s, Status: Normal').payload.uptime, line('[PERF] Analysis #1: Uptime: 120s, Status: Normal').payload.status],
      [120, 'Normal'],
    );
    assert.equal(line('[PERF] Memory: Heap=46KB, Stack=8KB, Flash=280KB').payload.heap_bytes, 46 * 1024);
    assert.equal(line('[PERF] Memory: Heap=47104B, Stack=8192B, Flash=286720B').payload.heap_bytes, 47104);
    assert.equal(line('[PERF] Sensor average: 420μs (target: <500μs)').payload.sensor_avg_us, 420);
  });

  it('reads the firmware\'s own reading lines', () => {
    const r = line('[SENSOR] #12: T=23.45°C H=45.6% P=1013.2hPa (431μs)');
    assert.deepEqual([r.payload.event, r.payload.temperature, r.payload.humidity, r.payload.pressure, r.payload.read_time_us], ['reading', 23.45, 45.6, 1013.2, 431]);
    assert.equal(line('[SENSOR] Reading #7: T=23.45°C P=1013.25hPa H=45.00%RH').payload.reading_count, 7);
  });

  it('reads the audio device\'s health line, emoji and all, without a topic', () => {
    const r = ok(d.decode({ topic: undefined, payload: '📊 Health: Heap=234567, WiFi=-45dBm, Sessions=12, Healthy=Yes', deviceId: 'audio-001', receivedAt: AT }));
    assert.deepEqual([r.payload.heap, r.payload.wifi_rssi, r.payload.sessions, r.payload.healthy, r.device.kind, r.device.id], [234567, -45, 12, true, 'audio-device', 'audio-001']);
  });

  it('keeps any other line as a log event', () => {
    assert.deepEqual([line('[MAIN-APP] System Monitor - Uptime: 5s').payload.event, line('hello').payload.tag], ['log', null]);
  });

  it('rejects a line with control characters or an unsafe device', () => {
    assert.equal(rejected(d.decode({ topic: 'console/dev-1', payload: 'bad\u0007bell', receivedAt: AT })).code, 'console');
    assert.equal(rejected(d.decode({ topic: 'console/dev#1', payload: 'hello', receivedAt: AT })).code, 'device-id');
  });
});
