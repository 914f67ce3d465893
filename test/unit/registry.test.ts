import assert from 'node:assert/strict';

import type { FleetAlert } from '../../lib/alert-shape';
import { Decoder } from '../../lib/decode/decoder';
import { DeviceTable } from '../../lib/registry/device-table';
import { deviceKey, type KeyValueStore } from '../../lib/registry/persistence';
import { plainCopy } from '../../lib/registry/plain-copy';
import { FleetRegistry, maxDevicesFromEnv, type PresenceEvent } from '../../lib/registry/registry';

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

/** A store that refuses every write that includes one key, as a store refusing one value would. */
class FailKeyStore extends MapStore {
  readonly calls: string[][] = [];
  constructor(public badKey: string | null) { super(); }
  override async set(keys: string[], values: unknown[]): Promise<void> {
    this.calls.push([...keys]);
    if (this.badKey !== null && keys.includes(this.badKey)) throw new Error('value refused');
    return super.set(keys, values);
  }
}

const health = (id: string, at: number) => decoded(`esp32/${id}/health`, { uptime: 1, free_memory: 9000, wifi_rssi: -50 }, at);

/** A payload a function node could hand the registry: none of it is JSON data. */
function oddPayload(): Record<string, unknown> {
  let deep: unknown = 'bottom';
  for (let i = 0; i < 4000; i++) deep = [deep];
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  let diamond: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 60; i++) diamond = { a: diamond, b: diamond };
  const p: Record<string, unknown> = {
    fn: () => 1, big: 12n, sym: Symbol('s'), nan: NaN, inf: -Infinity, deep, cyclic, diamond, date: new Date(0), map: new Map([[1, 2]]),
  };
  Object.defineProperty(p, 'boom', { enumerable: true, get() { throw new Error('getter throws'); } });
  Object.defineProperty(p, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
  return p;
}

describe('registry: a flush never loses other devices\' writes (issue 9)', () => {
  it('a store refusing one record: the others are written, the failure is logged once and retried alone', async () => {
    const store = new FailKeyStore(deviceKey('dev-bad'));
    const reg = new FleetRegistry(store, { flushMs: 5 });
    const errors: Error[] = [];
    reg.on('error', (e) => errors.push(e));
    await reg.ready;
    for (const id of ['dev-1', 'dev-bad', 'dev-3']) reg.record(health(id, 1000));
    await reg.persistence!.flush();
    assert.ok(store.data.has(deviceKey('dev-1')) && store.data.has(deviceKey('dev-3')), 'the good records are written');
    assert.ok(!store.data.has(deviceKey('dev-bad')));
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /dev-bad.*value refused/);

    // Next flush: the suspect goes alone, the others in their batch, and the log is not repeated.
    reg.record(health('dev-1', 2000));
    store.calls.length = 0;
    await reg.persistence!.flush();
    assert.deepEqual(store.calls, [[deviceKey('dev-1')], [deviceKey('dev-bad')]]);
    assert.equal(errors.length, 1, 'a record that keeps failing is logged once');
    assert.equal(reg.persistence!.stats.isolated, 1);

    store.badKey = null;
    await reg.persistence!.flush();
    assert.ok(store.data.has(deviceKey('dev-bad')), 'retried until the store takes it');
    assert.equal(reg.persistence!.stats.isolated, 0);
    await reg.close();
  });

  it('a store that is down: every record is kept for the next flush, with one error', async () => {
    const store = new MapStore();
    const reg = new FleetRegistry(store, { flushMs: 5 });
    const errors: Error[] = [];
    reg.on('error', (e) => errors.push(e));
    await reg.ready;
    for (const id of ['a', 'b', 'c']) reg.record(health(id, 1000));
    let down = true;
    const set = store.set.bind(store);
    store.set = async (k, v) => { if (down) throw new Error('disk full'); return set(k, v); };
    await reg.persistence!.flush();
    assert.equal(errors.length, 1);
    assert.equal(reg.table.dirtyCount, 3);
    down = false;
    await reg.persistence!.flush();
    assert.equal(store.data.size, 3);
    await reg.close();
  });

  it('records holding odd values (functions, throwing getters, BigInt, cycles, 4,000-deep arrays, __proto__) are copied into plain data', async () => {
    const store = new MapStore();
    const reg = new FleetRegistry(store, { flushMs: 5 });
    const errors: Error[] = [];
    reg.on('error', (e) => errors.push(e));
    await reg.ready;
    reg.record(health('dev-1', 1000));
    reg.table.seen({ id: 'dev-odd', kind: null, arch: null, firmware: null, messageKind: 'sensor', payload: oddPayload(), at: 1000 });
    reg.record(health('dev-3', 1000));
    await reg.persistence!.flush();
    assert.deepEqual(errors, []);
    assert.equal(store.data.size, 3);
    const stored = store.data.get(deviceKey('dev-odd')) as { last: { sensor: Record<string, unknown> } };
    const text = JSON.stringify(stored);
    assert.ok(text.length < 100_000, 'the diamond is copied once per object, not 2^60 times');
    const sensor = stored.last.sensor;
    assert.equal(Object.getPrototypeOf(sensor), Object.prototype, 'a "__proto__" key is data, not a prototype');
    assert.ok(Object.prototype.hasOwnProperty.call(sensor, '__proto__'));
    assert.equal((sensor as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual([sensor.big, sensor.nan, sensor.inf, 'fn' in sensor, 'boom' in sensor, 'sym' in sensor], ['12', null, null, false, false, false]);
    assert.equal((sensor.cyclic as Record<string, unknown>).self, null);
    assert.ok(reg.persistence!.stats.dropped > 0);
    const b = new FleetRegistry(store, { flushMs: 5 });
    assert.equal(await b.ready, 3, 'what was written loads back');
    await b.close();
    await reg.close();
  });

  it('an id that is not a string creates no record', () => {
    const t = new DeviceTable();
    const fn = (() => 1) as unknown as string;
    assert.equal(t.seen({ id: fn, kind: null, arch: null, firmware: null, messageKind: 'sensor', payload: {}, at: 1 }), null);
    assert.equal(t.size, 0);
  });

  it('a store that throws synchronously leaves no unhandled rejection behind the flush timer', async () => {
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => { rejections.push(r); };
    process.on('unhandledRejection', onRejection);
    try {
      const store = new MapStore();
      store.set = () => { throw new Error('sync throw'); };
      const reg = new FleetRegistry(store, { flushMs: 1 });
      const errors: Error[] = [];
      reg.on('error', (e) => errors.push(e));
      await reg.ready;
      reg.record(health('dev-1', 1));
      await new Promise((r) => setTimeout(r, 30));
      assert.ok(errors.length >= 1);
      store.set = MapStore.prototype.set.bind(store);
      await reg.close();
      assert.ok(store.data.has(deviceKey('dev-1')));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    assert.deepEqual(rejections, []);
  });

  it('plainCopy keeps plain JSON data as it is', () => {
    const v = { a: [1, 'x', true, null, { b: -0.5 }], c: { d: { e: 'f' } } };
    assert.deepEqual(plainCopy(v), v);
    assert.equal(plainCopy(undefined), undefined);
  });
});

describe('registry: a cap on the devices any publisher can create (issue 9)', () => {
  it('drops readings of new ids beyond the cap, counts them, fires RegistryFull once and resolves it when room returns', () => {
    const reg = new FleetRegistry(null, { flushMs: 5, maxDevices: 3, name: 'north' });
    const alerts: FleetAlert[] = [];
    reg.on('alert', (a) => alerts.push(a));
    for (let i = 0; i < 6; i++) reg.record(health(`dev-${i}`, 1000 + i));
    assert.equal(reg.table.size, 3);
    assert.equal(reg.refused, 3);
    assert.ok(reg.full);
    assert.deepEqual(alerts.map((a) => `${a.name}:${a.status}`), ['RegistryFull:firing']);
    assert.equal(alerts[0].labels.registry, 'north');
    assert.equal(alerts[0].device, null);

    reg.record(health('dev-0', 5000));
    assert.equal(reg.get('dev-0')!.lastSeen, 5000, 'known devices are still updated when full');

    assert.ok(reg.remove('dev-1', 6000));
    assert.deepEqual(alerts.map((a) => `${a.name}:${a.status}`), ['RegistryFull:firing', 'RegistryFull:resolved']);
    assert.equal(alerts[1].fingerprint, alerts[0].fingerprint);
    assert.equal(alerts[1].startsAt, alerts[0].startsAt);
    reg.record(health('dev-9', 7000));
    assert.ok(reg.get('dev-9'), 'a new device fits again');
  });

  it('a RegistryFull that fired is not sent again after a restart, and resolves if the cap was raised', async () => {
    const store = new MapStore();
    const a = new FleetRegistry(store, { flushMs: 5, maxDevices: 2 });
    await a.ready;
    const first: FleetAlert[] = [];
    a.on('alert', (x) => first.push(x));
    for (let i = 0; i < 3; i++) a.record(health(`dev-${i}`, 1000));
    assert.equal(first.length, 1);
    await a.close();

    const b = new FleetRegistry(store, { flushMs: 5, maxDevices: 2 });
    const again: FleetAlert[] = [];
    b.on('alert', (x) => again.push(x));
    await b.ready;
    b.record(health('dev-7', 2000));
    assert.deepEqual(again, [], 'still full: still firing, not fired again');
    await b.close();

    const c = new FleetRegistry(store, { flushMs: 5, maxDevices: 10 });
    const resolved: FleetAlert[] = [];
    c.on('alert', (x) => resolved.push(x));
    await c.ready;
    assert.deepEqual(resolved.map((x) => x.status), ['resolved']);
    assert.equal(resolved[0].fingerprint, first[0].fingerprint);
    await c.close();
  });

  it('takes the default cap from FLEET_MAX_DEVICES when it is a positive whole number', () => {
    assert.equal(maxDevicesFromEnv({}), 10_000);
    assert.equal(maxDevicesFromEnv({ FLEET_MAX_DEVICES: '250' }), 250);
    assert.equal(maxDevicesFromEnv({ FLEET_MAX_DEVICES: '-4' }), 10_000);
    assert.equal(maxDevicesFromEnv({ FLEET_MAX_DEVICES: '1e3x' }), 10_000);
    assert.equal(new FleetRegistry(null, { flushMs: 5 }).maxDevices, 10_000);
  });
});
