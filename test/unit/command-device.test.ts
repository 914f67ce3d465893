import assert from 'node:assert/strict';

import { CommandDevices, intervalsFor, type CommandableFleet } from '../../firmware/simulator/command-device';
import { VirtualDevice, type Intervals } from '../../firmware/simulator/device';
import { scaledIntervals } from '../../firmware/simulator/fleet';
import type { DeviceConfig } from '../../firmware/contract/device-config';
import { AckTracker } from '../../lib/command/ack';
import { Decoder } from '../../lib/decode/decoder';

/** A fleet of real virtual devices without a broker; inject/clear record what the firmware asked. */
function fleet(ids: string[]): CommandableFleet & { calls: string[] } {
  const devices = ids.map((id, i) => new VirtualDevice({ id, kind: 'env-sensor', arch: 'full', seed: i + 1 }, scaledIntervals(10)));
  for (const d of devices) d.boot(0);
  const calls: string[] = [];
  return {
    devices, calls,
    get: (id) => devices.find((d) => d.id === id),
    inject: (id, f) => { calls.push(`inject ${id} ${f}`); return true; },
    clear: (id, f) => { calls.push(`clear ${id} ${f}`); return true; },
  };
}

const config = (device: string, interval: number): DeviceConfig => ({
  device_id: device,
  network: { wifi_ssid: 'Lab', mqtt_broker: '127.0.0.1', mqtt_port: 1883 },
  sensor: { measurement_interval_seconds: interval },
  system: { heartbeat_interval_minutes: 2 },
}) as DeviceConfig;

const update = (device: string, interval: number, version = 1) => JSON.stringify({ config_version: version, config_hash: '0123456789abcdef', request_id: `r-${version}`, config: config(device, interval) });

describe('virtual firmware: commands', () => {
  it('applies a valid configuration and answers with its version, request id and hash', () => {
    const f = fleet(['env-a']);
    const c = new CommandDevices(f, 10);
    const out = c.handle('config/update/env-a', Buffer.from(update('env-a', 60, 3)), 1000);
    assert.equal(out.length, 1);
    assert.equal(out[0].topic, 'config/ack/env-a');
    assert.deepEqual(JSON.parse(out[0].payload), { config_version: 3, request_id: 'r-3', config_hash: '0123456789abcdef', result: 'applied' });
    assert.equal(c.configOf('env-a')?.version, 3);
    assert.equal(f.get('env-a')!.restarts, 1, 'it restarts to apply');
  });

  it('rejects an invalid configuration with the field and reason, and keeps the old one', () => {
    const f = fleet(['env-a']);
    const c = new CommandDevices(f, 10);
    c.handle('config/update/env-a', update('env-a', 60, 1), 0);
    const out = c.handle('config/update/env-a', update('env-a', 0, 2), 1);
    const ack = JSON.parse(out[0].payload) as Record<string, unknown>;
    assert.equal(ack.result, 'rejected');
    assert.equal(ack.config_version, 2);
    assert.match(String(ack.reason), /measurement_interval_seconds/);
    assert.equal(c.configOf('env-a')?.version, 1);
    const other = JSON.parse(c.handle('config/update/env-a', update('env-b', 60, 3), 2)[0].payload) as Record<string, unknown>;
    assert.match(String(other.reason), /is not this device/);
    assert.equal(JSON.parse(c.handle('config/update/env-a', 'not json', 3)[0].payload).result, 'rejected');
  });

  it('derives the intervals from the configuration at the fleet\'s speed', () => {
    const i: Intervals = intervalsFor(config('x', 60), 10);
    assert.equal(i.sensor, 6);
    assert.equal(i.heartbeat, 12);
    assert.equal(i.status, scaledIntervals(10).status, 'unset fields keep their defaults');
  });

  it('goes offline on an emergency stop until a resume, ignoring pushes meanwhile; broadcast reaches all', () => {
    const f = fleet(['env-a', 'env-b']);
    const c = new CommandDevices(f, 10);
    c.handle('esp32/broadcast/emergency', '{"action":"shutdown"}', 0);
    assert.deepEqual(f.calls, ['inject env-a offline', 'inject env-b offline']);
    assert.deepEqual(c.handle('config/update/env-a', update('env-a', 60), 1), [], 'a stopped device answers nothing');
    c.handle('esp32/env-a/emergency', '{"action":"shutdown"}', 2);
    assert.equal(f.calls.length, 2, 'a second stop changes nothing');
    c.handle('esp32/env-a/emergency', '{"action":"resume"}', 3);
    assert.deepEqual(f.calls.slice(2), ['clear env-a offline']);
    assert.deepEqual([...c.stopped.keys()], ['env-b']);
  });

  it('restarts on reset', () => {
    const f = fleet(['env-a']);
    const c = new CommandDevices(f, 10);
    c.handle('esp32/env-a/command', '{"command":"reset"}', 5);
    assert.equal(f.get('env-a')!.restarts, 1);
    assert.equal(c.stats.resets, 1);
  });

  // The issue: "the device's reply (or its next status message with the new configuration version) marks the push done".
  it('after applying, its status names the configuration it runs; fleet-decode keeps the fields under every unknown-field policy', () => {
    const f = fleet(['env-a']);
    const c = new CommandDevices(f, 10);
    const d = f.get('env-a')!;
    const statusOf = (now: number) => d.due(now).map((p) => c.annotate(d, p)).find((p) => p.topic.endsWith('/status'));
    const before = statusOf(100_000)!;
    assert.equal(JSON.parse(before.payload).config_version, undefined, 'nothing applied yet: nothing reported');
    c.handle('config/update/env-a', update('env-a', 60, 4), 100_000);
    const after = statusOf(200_000)!;
    assert.deepEqual([JSON.parse(after.payload).config_version, JSON.parse(after.payload).config_hash], [4, '0123456789abcdef']);
    const sensor = d.due(300_000).map((p) => c.annotate(d, p)).find((p) => p.topic.endsWith('/sensor'))!;
    assert.equal(JSON.parse(sensor.payload).config_version, undefined, 'only the status carries it');
    for (const unknownFields of ['keep', 'strip', 'reject'] as const) {
      const r = new Decoder({ unknownFields }).decode({ topic: after.topic, payload: Buffer.from(after.payload), receivedAt: 200_000, retained: false });
      assert.ok(r.ok, unknownFields);
      assert.deepEqual([r.value.kind, r.value.device.id, r.value.payload.config_version, r.value.payload.config_hash], ['status', 'env-a', 4, '0123456789abcdef'], unknownFields);
      // What fleet-decode hands on settles the push in the tracker.
      const t = new AckTracker();
      t.start({ device: 'env-a', version: 4, hash: '0123456789abcdef', requestId: 'r-4' }, 0);
      assert.equal(t.status('env-a', r.value.payload, 1)?.via, 'status');
    }
    const bad = new Decoder({ unknownFields: 'keep' }).decode({ topic: after.topic, payload: Buffer.from(JSON.stringify({ ...JSON.parse(after.payload), config_version: 0 })), receivedAt: 1, retained: false });
    assert.ok(!bad.ok && /config_version/.test(bad.reject.path));
  });

  it('an environmental monitor reports it in its health', () => {
    const devices = [new VirtualDevice({ id: 'esp32c3_001', kind: 'env-monitor', seed: 3 }, scaledIntervals(10))];
    devices[0].boot(0);
    const f: CommandableFleet = { devices, get: (id) => devices.find((d) => d.id === id), inject: () => true, clear: () => true };
    const c = new CommandDevices(f, 10);
    c.handle('config/update/esp32c3_001', update('esp32c3_001', 60, 2), 0);
    const health = devices[0].due(100_000).map((p) => c.annotate(devices[0], p)).find((p) => p.topic === 'esp32/esp32c3_001/health')!;
    assert.equal(JSON.parse(health.payload).config_version, 2);
    const r = new Decoder({ unknownFields: 'reject' }).decode({ topic: health.topic, payload: Buffer.from(health.payload), receivedAt: 1, retained: false });
    assert.ok(r.ok && r.value.payload.config_hash === '0123456789abcdef');
  });

  it('as the guide\'s firmware (ackVia status) answers nothing, restarts and reports at once; a rejection is silent', () => {
    const f = fleet(['env-a']);
    const c = new CommandDevices(f, 10, { ackVia: 'status' });
    const d = f.get('env-a')!;
    assert.deepEqual(c.handle('config/update/env-a', update('env-a', 60, 5), 50_000), []);
    assert.equal(d.nextDue(), 50_000, 'every schedule is due right after the restart');
    const status = d.due(50_000).map((p) => c.annotate(d, p)).find((p) => p.topic.endsWith('/status'))!;
    assert.equal(JSON.parse(status.payload).config_version, 5);
    assert.deepEqual(c.handle('config/update/env-a', update('env-a', 0, 6), 60_000), []);
    assert.deepEqual([c.stats.rejected, c.configOf('env-a')?.version], [1, 5]);
  });
});
