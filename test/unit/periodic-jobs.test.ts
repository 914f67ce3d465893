/**
 * The periodic jobs made cheaper for 100,000 devices (issue 16) give the same answers as the plain
 * versions: the sweep's earliest-due bound never hides a device that is due, the fleet summary's
 * worst list equals a full sort, and a registry flush taken in slices writes every record and
 * lets other work run between slices.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { defaultHealthConfig } from '../../lib/health/config';
import { HealthTracker } from '../../lib/health/tracker';
import { Decoder } from '../../lib/decode/decoder';
import { deviceKey, type KeyValueStore } from '../../lib/registry/persistence';
import { FleetRegistry } from '../../lib/registry/registry';

const T0 = 1_800_000_000_000;
const KINDS = ['env-sensor', 'env-monitor', 'audio-device', 'csi-sensor'] as const;

type Op =
  | { op: 'msg'; dev: number; dt: number; kind: 'heartbeat' | 'status'; interval: number | null; heap: number }
  | { op: 'sweep'; dt: number; max: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('msg' as const), dev: fc.integer({ min: 0, max: 11 }), dt: fc.integer({ min: -5_000, max: 400_000 }),
    kind: fc.constantFrom('heartbeat' as const, 'status' as const), interval: fc.option(fc.integer({ min: 1, max: 900 })), heap: fc.integer({ min: 0, max: 60_000 }),
  }),
  fc.record({ op: fc.constant('sweep' as const), dt: fc.integer({ min: 0, max: 2_000_000 }), max: fc.constantFrom(1, 2, 3, Infinity) }),
);

describe('periodic jobs at fleet scale (issue 16)', () => {
  it('sweep returns exactly the devices a full scan finds due, in the same order, whatever came before', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const t = new HealthTracker(defaultHealthConfig());
      const ids: string[] = [];
      let now = T0;
      for (const o of ops) {
        now += o.dt;
        if (o.op === 'msg') {
          const id = `dev-${o.dev}`;
          if (!ids.includes(id)) ids.push(id);
          const payload: Record<string, unknown> = { uptime: 10, free_heap: o.heap };
          if (o.kind === 'status') { payload.status = 'online'; if (o.interval !== null) payload.reading_interval = o.interval; }
          t.observe({ id, kind: o.kind, deviceKind: KINDS[o.dev % KINDS.length], payload, at: now });
        } else {
          // The reference: every device, in the tracker's own (insertion) order.
          const due = ids.map((id) => t.get(id)!).filter((d) => d.state !== 'offline' && now > d.silentAfter).map((d) => d.id);
          const got = t.sweep(now, o.max).map((u) => u.change!.device);
          assert.deepEqual(got, due.slice(0, o.max === Infinity ? due.length : o.max));
        }
      }
    }), { numRuns: 300 });
  });

  it('a sweep taken in slices (devices due and devices looked at both capped) goes on where it stopped and finds exactly the due devices', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ dev: fc.integer({ min: 0, max: 40 }), dt: fc.integer({ min: 0, max: 200_000 }) }), { minLength: 1, maxLength: 80 }),
      fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 7 }),
      (msgs, late, max, visits) => {
        const t = new HealthTracker(defaultHealthConfig());
        let now = T0;
        for (const m of msgs) { now += m.dt; t.observe({ id: `dev-${m.dev}`, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 40_000 }, at: now }); }
        const at = now + late;
        const due = [...new Set(msgs.map((m) => `dev-${m.dev}`))].filter((id) => at > t.get(id)!.silentAfter);
        const got: string[] = [];
        let calls = 0;
        do {
          const slice = t.sweep(at, max, visits);
          assert.ok(slice.length <= max);
          got.push(...slice.map((u) => u.change!.device));
          calls++;
        } while (t.sweeping && calls < 1000);
        assert.equal(t.sweeping, false);
        // Insertion order of the ids, the order a single full pass takes them in.
        const order = [...new Set(msgs.map((m) => `dev-${m.dev}`))];
        assert.deepEqual(got, order.filter((id) => due.includes(id)));
        assert.deepEqual(t.sweep(at), [], 'the pass is over: nobody left due');
      },
    ), { numRuns: 300 });
  });

  it('a sweep call told its time is up stops after that batch of 8 devices taken, and the next call goes on from there', () => {
    const t = new HealthTracker(defaultHealthConfig());
    for (let i = 0; i < 100; i++) t.observe({ id: `d-${i}`, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 40_000 }, at: T0 });
    const at = T0 + 3_600_000;
    let asked = 0;
    const first = t.sweep(at, Infinity, Infinity, () => ++asked >= 2);
    assert.equal(first.length, 16, 'asked after 8 and after 16 taken; up at the second');
    assert.equal(asked, 2);
    assert.equal(t.sweeping, true);
    const seen = new Set(first.map((u) => u.change!.device));
    while (t.sweeping) for (const u of t.sweep(at, Infinity, Infinity, () => true)) seen.add(u.change!.device);
    assert.equal(seen.size, 100, 'every device once, in slices of 8');
  });

  it('a device seen again while a sweep pass is under way keeps the earliest-due bound low enough to find it later', () => {
    const t = new HealthTracker(defaultHealthConfig());
    const hb = (id: string, at: number) => t.observe({ id, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 40_000 }, at });
    for (let i = 0; i < 10; i++) hb(`d-${i}`, T0);
    const limit = t.get('d-0')!.silentAfter - T0;
    // A pass at a time nobody is due yet (the bound said someone might be): it walks 3 devices a call.
    hb('late', T0 + limit + 5_000);
    const at = T0 + limit + 1;
    assert.equal(t.sweep(at, Infinity, 3).length, 3);
    assert.equal(t.sweeping, true);
    // d-0 was taken offline by the pass; a message brings it back with the earliest silentAfter of all.
    hb('d-0', T0 + limit + 2);
    while (t.sweeping) t.sweep(at, Infinity, 3);
    assert.equal(t.get('d-0')!.state, 'healthy');
    const [u] = t.sweep(T0 + 2 * limit + 3);
    assert.equal(u?.change?.device, 'd-0', 'the pass\'s end did not raise the bound above d-0');
  });

  it('counts by kind and state are kept as devices change kind and state, without a scan', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'a', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 40_000 }, at: T0 });
    t.observe({ id: 'b', kind: 'heartbeat', deviceKind: null, payload: { uptime: 1, free_heap: 40_000 }, at: T0 });
    assert.deepEqual(Object.keys(t.summary(T0).byKind).sort(), ['env-sensor', 'unknown']);
    // b is told its kind: it leaves "unknown", which no longer shows; a's heap falls to critical.
    t.observe({ id: 'b', kind: 'heartbeat', deviceKind: 'env-monitor', payload: { uptime: 2, free_heap: 40_000 }, at: T0 + 1 });
    for (let i = 0; i < 3; i++) t.observe({ id: 'a', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 3 + i, free_heap: 1_000 }, at: T0 + 2 + i });
    const s = t.summary(T0 + 10);
    assert.deepEqual(Object.keys(s.byKind).sort(), ['env-monitor', 'env-sensor']);
    assert.equal(s.byKind['env-monitor'].healthy, 1);
    assert.equal(s.byKind['env-sensor'].critical, 1);
    assert.deepEqual(s.worst.map((w) => w.device), ['a']);
    // The summary is a copy: changing it changes nothing kept.
    s.byKind['env-sensor'].critical = 99;
    assert.equal(t.summary(T0 + 10).byKind['env-sensor'].critical, 1);
  });

  it('a kind named "__proto__" (msg.device.kind is text a flow can send) is counted as a kind of its own', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'p', kind: 'heartbeat', deviceKind: '__proto__' as never, payload: { uptime: 1, free_heap: 40_000 }, at: T0 });
    const s = t.summary(T0);
    assert.ok(Object.prototype.hasOwnProperty.call(s.byKind, '__proto__'));
    assert.equal(Object.getPrototypeOf(s.byKind), Object.prototype);
    const sent = Object.getOwnPropertyDescriptor(JSON.parse(JSON.stringify(s.byKind)), '__proto__')?.value as Record<string, number>;
    assert.equal(Object.values(sent).reduce((a, b) => a + b, 0), 1, 'the device is counted once, in its own kind');
  });

  it('the summary\'s worst devices are the first of a full sort, for any count', () => {
    const t = new HealthTracker(defaultHealthConfig());
    // Heap sizes spread over healthy, degraded and critical; a third falls silent below.
    for (let i = 0; i < 300; i++) {
      t.observe({ id: `d-${(i * 7919) % 300}`, kind: 'heartbeat', deviceKind: KINDS[i % 4], payload: { uptime: 5, free_heap: (i * 131) % 9000 }, at: T0 + (i % 3) * 3_600_000 });
    }
    t.sweep(T0 + 2 * 3_600_000 + 1000);
    const all = t.summary(T0, 5000).worst;
    assert.ok(all.length > 50, `enough unhealthy devices to compare (${all.length})`);
    for (const k of [0, 1, 2, 9, 10, 11, 40, all.length, all.length + 5]) {
      assert.deepEqual(t.summary(T0, k).worst, all.slice(0, k), `worstCount ${k}`);
    }
  });

  it('a registry flush of 20,000 changed devices writes every one, in slices with other work between them', async () => {
    const data = new Map<string, unknown>();
    let calls = 0;
    const store: KeyValueStore = {
      keys: async () => [...data.keys()],
      get: async (keys) => keys.map((k) => data.get(k)),
      set: async (keys, values) => { calls++; keys.forEach((k, i) => data.set(k, values[i])); },
    };
    const reg = new FleetRegistry(store, { flushMs: 60_000, maxDevices: 20_000 });
    await reg.ready;
    const decoder = new Decoder();
    for (let i = 0; i < 20_000; i++) {
      const r = decoder.decode({ topic: `esp32/mon-${i}/health`, payload: `{"uptime":${i},"free_memory":28000,"wifi_rssi":-60}`, receivedAt: T0 + i });
      if (!r.ok) throw new Error(JSON.stringify(r.reject));
      reg.record(r.value);
    }
    let ranDuring = false;
    let done = false;
    setImmediate(() => { ranDuring = !done; });
    await reg.persistence!.flush();
    done = true;
    assert.equal(data.size, 20_000);
    assert.deepEqual((data.get(deviceKey('mon-19999')) as { lastSeen: number }).lastSeen, T0 + 19_999);
    assert.equal(reg.table.dirtyCount, 0);
    assert.ok(calls > 1, 'written in more than one slice');
    assert.ok(ranDuring, 'a callback queued at the start ran before the flush ended');
    await reg.close();
  });

  it('a store that is down during a long flush: one error, every record kept for the next flush', async () => {
    const data = new Map<string, unknown>();
    let down = true;
    const store: KeyValueStore = {
      keys: async () => [...data.keys()],
      get: async (keys) => keys.map((k) => data.get(k)),
      set: async (keys, values) => { if (down) throw new Error('disk full'); keys.forEach((k, i) => data.set(k, values[i])); },
    };
    const reg = new FleetRegistry(store, { flushMs: 60_000, maxDevices: 5_000 });
    const errors: Error[] = [];
    reg.on('error', (e) => errors.push(e));
    await reg.ready;
    const decoder = new Decoder();
    for (let i = 0; i < 5_000; i++) {
      const r = decoder.decode({ topic: `esp32/mon-${i}/health`, payload: `{"uptime":${i},"free_memory":28000,"wifi_rssi":-60}`, receivedAt: T0 + i });
      if (r.ok) reg.record(r.value);
    }
    await reg.persistence!.flush();
    assert.equal(errors.length, 1);
    assert.equal(reg.table.dirtyCount, 5_000);
    down = false;
    await reg.persistence!.flush();
    assert.equal(data.size, 5_000);
    await reg.close();
  });
});
