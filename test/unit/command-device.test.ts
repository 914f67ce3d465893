import assert from 'node:assert/strict';

import { CommandDevices, intervalsFor, type CommandableFleet } from '../../firmware/simulator/command-device';
import { VirtualDevice, type Intervals } from '../../firmware/simulator/device';
import { scaledIntervals } from '../../firmware/simulator/fleet';
import type { DeviceConfig } from '../../firmware/contract/device-config';

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
});
