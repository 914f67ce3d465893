import assert from 'node:assert/strict';

import { Decoder } from '../../lib/decode/decoder';
import { DeviceTable } from '../../lib/registry/device-table';
import { deviceKey, type KeyValueStore } from '../../lib/registry/persistence';
import { FleetRegistry, type PresenceEvent } from '../../lib/registry/registry';

/** A key-value store in memory that can be told to fail, standing in for a context store. */
class MapStore implements KeyValueStore {
  readonly data = new Map<string, unknown>();
  failNext = false;
  async keys(): Promise<string[]> { return [...this.data.keys()]; }
  async get(keys: string[]): Promise<unknown[]> { return keys.map((k) => this.data.get(k)); }
  async set(keys: string[], values: unknown[]): Promise<void> {
    if (this.failNext) { this.failNext = false; throw new Error('disk full'); }
    keys.forEach((k, i) => (values[i] === undefined ? this.data.delete(k) : this.data.set(k, values[i])));
  }
}

const decoder = new Decoder();
const decoded = (topic: string, payload: unknown, at: number) => {
  const r = decoder.decode({ topic, payload, receivedAt: at });
  if (!r.ok) throw new Error(JSON.stringify(r.reject));
  return r.value;
};

describe('registry: device table and presence', () => {
  it('creates a device on first sight and keeps first/last seen, kind, arch, firmware and last readings', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    reg.record(decoded('esp32c3/async/dev-1/status', { status: 'online', firmware_version: '1.2.0', uptime: 5 }, 1000));
    reg.record(decoded('esp32c3/async/dev-1/sensor', { temperature: 21, humidity: 40, pressure: 1000 }, 2000));
    const rec = reg.get('dev-1')!;
    assert.deepEqual([rec.kind, rec.arch, rec.firmware, rec.firstSeen, rec.lastSeen, rec.online], ['env-sensor', 'async', '1.2.0', 1000, 2000, true]);
    assert.equal(rec.last.sensor?.temperature, 21);
    assert.equal(rec.last.status?.uptime, 5);
  });

  it('ignores a late last will from an older session, and takes one from the current session', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    const events: PresenceEvent[] = [];
    reg.on('presence', (e) => events.push(e));
    const t = 'esp32/dev-1/presence';
    reg.record(decoded(t, { state: 'online', session: 1 }, 1000));
    reg.record(decoded(t, { state: 'online', session: 2 }, 2000));       // reconnected
    reg.record(decoded(t, { state: 'offline', session: 1 }, 3000));      // the old connection's will, late
    assert.equal(reg.get('dev-1')!.online, true);
    reg.record(decoded(t, { state: 'offline', session: 2 }, 4000));
    assert.equal(reg.get('dev-1')!.online, false);
    reg.record(decoded(t, { state: 'offline', session: 2 }, 4100));      // duplicate
    assert.deepEqual(events.map((e) => `${e.state}@${e.at}`), ['online@1000', 'offline@4000']);
  });

  it('does not count a command we sent as a sign of life', () => {
    const t = new DeviceTable();
    const d = decoded('esp32/dev-9/command', 'reset', 1);
    assert.equal(t.seen({ id: 'dev-9', kind: null, arch: null, firmware: null, messageKind: d.kind, payload: d.payload, at: 1 }), null);
    assert.equal(t.size, 0);
  });

  it('marks a silent device offline once', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    reg.record(decoded('esp32/dev-1/health', { uptime: 1, free_memory: 9000, wifi_rssi: -50 }, 1000));
    assert.equal(reg.markSilent('dev-1', 90_000), true);
    assert.equal(reg.markSilent('dev-1', 91_000), false);
    assert.equal(reg.get('dev-1')!.online, false);
  });

  it('lists summaries sorted and filtered', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    for (const id of ['c-3', 'a-1', 'b-2']) reg.record(decoded(`esp32/${id}/health`, { uptime: 1, free_memory: 9000, wifi_rssi: -50 }, 1));
    assert.deepEqual(reg.summaries().map((s) => s.id), ['a-1', 'b-2', 'c-3']);
    assert.deepEqual(reg.summaries({ query: 'B' }).map((s) => s.id), ['b-2']);
    assert.deepEqual(reg.summaries({ limit: 2 }).map((s) => s.id), ['a-1', 'b-2']);
  });
});

describe('registry: persistence', () => {
  it('writes changed devices, one key each, and a new registry loads them back', async () => {
    const store = new MapStore();
    const a = new FleetRegistry(store, { flushMs: 5 });
    await a.ready;
    a.record(decoded('esp32c3/full/dev.1/status', { status: 'online', firmware_version: '2.0.0' }, 1000));
    a.setLabels('dev.1', { site: 'north' });
    await a.close();
    assert.ok(store.data.has(deviceKey('dev.1')), 'one key per device');
    assert.ok(!deviceKey('dev.1').includes('.'), 'keys must not contain property separators');

    const b = new FleetRegistry(store, { flushMs: 5 });
    assert.equal(await b.ready, 1);
    const rec = b.get('dev.1')!;
    assert.deepEqual([rec.firmware, rec.labels.site, rec.lastSeen, rec.online], ['2.0.0', 'north', 1000, true]);
    await b.close();
  });

  it('keeps a reading that arrived while loading, and merges the stored record under it', async () => {
    const store = new MapStore();
    store.data.set(deviceKey('dev-1'), { id: 'dev-1', kind: 'env-monitor', arch: null, firmware: '1.0.0', firstSeen: 10, lastSeen: 20, online: true, session: 4, last: {}, labels: { site: 'west' } });
    const reg = new FleetRegistry(store, { flushMs: 5 });
    reg.record(decoded('esp32/dev-1/health', { uptime: 1, free_memory: 9000, wifi_rssi: -50 }, 5000));
    await reg.ready;
    const rec = reg.get('dev-1')!;
    assert.deepEqual([rec.firstSeen, rec.lastSeen, rec.labels.site], [10, 5000, 'west']);
    await reg.close();
  });

  it('skips stored values that are not device records', async () => {
    const store = new MapStore();
    store.data.set(deviceKey('x'), { id: 'x' });
    store.data.set('unrelated', 5);
    const reg = new FleetRegistry(store, { flushMs: 5 });
    assert.equal(await reg.ready, 0);
    assert.equal(reg.persistence!.stats.skipped, 1);
    await reg.close();
  });

  it('retries a failed write at the next flush instead of losing it', async () => {
    const store = new MapStore();
    const reg = new FleetRegistry(store, { flushMs: 5 });
    const errors: Error[] = [];
    reg.on('error', (e) => errors.push(e));
    await reg.ready;
    store.failNext = true;
    reg.record(decoded('esp32/dev-1/health', { uptime: 1, free_memory: 9000, wifi_rssi: -50 }, 1));
    await reg.persistence!.flush();
    assert.equal(errors.length, 1);
    assert.equal(store.data.size, 0);
    await reg.persistence!.flush();
    assert.equal(store.data.size, 1);
    await reg.close();
  });
});

describe('registry: retained messages replayed by the broker', () => {
  const replay = (topic: string, payload: unknown, at: number) => {
    const r = decoder.decode({ topic, payload, receivedAt: at, retained: true });
    if (!r.ok) throw new Error(JSON.stringify(r.reject));
    return r.value;
  };

  it('a replayed birth sets presence but not last seen', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    reg.record(decoded('esp32/dev-1/health', { uptime: 1, free_memory: 9000, wifi_rssi: -50 }, 1000));
    reg.record(replay('esp32/dev-1/presence', { state: 'online', session: 3 }, 50_000));
    assert.equal(reg.get('dev-1')!.lastSeen, 1000);
    assert.equal(reg.get('dev-1')!.session, 3);
  });

  it('a replayed reading of an offline device does not bring it online', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    reg.record(decoded('esp32/dev-1/presence', { state: 'offline', session: 2 }, 1000));
    reg.record(replay('esp32c3/full/dev-1/status', { status: 'online', timestamp: 900 }, 60_000));
    assert.equal(reg.get('dev-1')!.online, false);
    assert.equal(reg.get('dev-1')!.lastSeen, 1000);
  });

  it('a device first met through a replayed message is dated by its own clock', () => {
    const reg = new FleetRegistry(null, { flushMs: 10 });
    reg.record(replay('esp32c3/full/dev-2/status', { status: 'online', timestamp: 1_000 }, 5_000_000));
    assert.equal(reg.get('dev-2')!.lastSeen, 1_000_000);
    assert.equal(reg.get('dev-2')!.online, false);
  });
});
