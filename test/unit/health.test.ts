import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import fc from 'fast-check';

import { Decoder } from '../../lib/decode/decoder';
import { defaultHealthConfig, parseHealthConfig, type HealthConfig } from '../../lib/health/config';
import { DurableHealth } from '../../lib/health/durable';
import { EVENT_FACTORS, type FactorScore } from '../../lib/health/factors';
import { HealthTracker, classify, isHealthSnapshot, type HealthUpdate, type HealthState } from '../../lib/health/tracker';
import { VirtualDevice, type Fault } from '../../firmware/simulator/device';
import type { DeviceKind } from '../../firmware/contract/topics';
import type { FleetAlert } from '../../lib/alert-shape';

const T0 = 1_800_000_000_000;
const MIN = 60_000;

/** A device, the decoder and a tracker on a simulated clock: the pipeline without Node-RED. */
class Rig {
  readonly decoder = new Decoder();
  readonly tracker: HealthTracker;
  readonly dev: VirtualDevice;
  readonly updates: HealthUpdate[] = [];
  now = T0;

  constructor(kind: DeviceKind, config: HealthConfig = defaultHealthConfig(), seed = 4) {
    this.tracker = new HealthTracker(config);
    this.dev = new VirtualDevice({ id: `${kind}-1`, kind, arch: 'full', seed });
    this.dev.boot(this.now);
    this.feed(this.dev.birth(this.now).topic, this.dev.birth(this.now).payload);
  }

  feed(topic: string, payload: string): void {
    const r = this.decoder.decode({ topic, payload, receivedAt: this.now });
    const u = r.ok
      ? this.tracker.observe({ id: r.value.device.id!, kind: r.value.kind, deviceKind: r.value.device.kind, arch: r.value.device.arch, payload: r.value.payload, at: this.now })
      : this.tracker.observeReject(r.reject.device!, this.now);
    this.updates.push(u);
  }

  /** Runs simulated time forward, delivering what the device publishes and sweeping every 5 s. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 1000;
      for (const p of this.dev.due(this.now)) this.feed(p.topic, p.payload);
      if (this.now % 5000 === 0) this.updates.push(...this.tracker.sweep(this.now));
    }
  }

  get state(): HealthState {
    return this.tracker.get(this.dev.id)!.state;
  }

  alerts(): FleetAlert[] {
    return this.updates.flatMap((u) => u.alerts);
  }

  inject(fault: Fault): void { this.dev.faults.add(fault); }
  clear(fault: Fault): void { this.dev.faults.delete(fault); }
}

describe('health: the virtual fleet\'s faults, each to its state and alert, and back', () => {
  const cases: Array<{ fault: Fault; kind: DeviceKind; state: HealthState; alert: string; factor?: string; run: number }> = [
    { fault: 'low-heap', kind: 'env-monitor', state: 'degraded', alert: 'DeviceDegraded', factor: 'heap', run: 15 * MIN },
    { fault: 'low-heap', kind: 'audio-device', state: 'degraded', alert: 'DeviceDegraded', factor: 'heap', run: 5 * MIN },
    { fault: 'rssi-drop', kind: 'env-sensor', state: 'critical', alert: 'DeviceCritical', factor: 'rssi', run: 5 * MIN },
    { fault: 'stuck-sensor', kind: 'env-sensor', state: 'degraded', alert: 'DeviceDegraded', factor: 'stuck-sensor', run: 8 * MIN },
    { fault: 'out-of-range', kind: 'env-sensor', state: 'critical', alert: 'DeviceCritical', factor: 'invalid-readings', run: 4 * MIN },
    { fault: 'stuck-sensor', kind: 'env-monitor', state: 'critical', alert: 'DeviceCritical', factor: 'sensor-age', run: 20 * MIN },
    { fault: 'malformed', kind: 'env-sensor', state: 'critical', alert: 'DeviceCritical', factor: 'invalid-readings', run: 5 * MIN },
    { fault: 'reboot-loop', kind: 'env-sensor', state: 'critical', alert: 'DeviceCritical', factor: 'restarts', run: 10 * MIN },
    { fault: 'offline', kind: 'env-sensor', state: 'offline', alert: 'DeviceOffline', run: 3 * MIN },
  ];

  for (const c of cases) {
    it(`${c.fault} on a ${c.kind}: ${c.state} with ${c.alert}, then resolved`, () => {
      const rig = new Rig(c.kind);
      rig.run(10 * MIN);
      assert.equal(rig.state, 'healthy', rig.tracker.describe(rig.tracker.get(rig.dev.id)!, rig.now));
      assert.equal(rig.alerts().length, 0);

      rig.inject(c.fault);
      rig.run(c.run);
      assert.equal(rig.state, c.state, rig.tracker.describe(rig.tracker.get(rig.dev.id)!, rig.now));
      const firing = rig.alerts().filter((a) => a.status === 'firing' && a.name === c.alert);
      assert.equal(firing.length, 1, JSON.stringify(rig.alerts().map((a) => `${a.name}:${a.status}`)));
      const alert = firing[0];
      assert.equal(alert.device, rig.dev.id);
      assert.equal(alert.labels.kind, c.kind);
      if (c.factor) {
        const f = rig.tracker.get(rig.dev.id)!.factors.find((x) => x.factor === c.factor)!;
        assert.ok(f.status === 'warning' || f.status === 'critical', `${c.factor} is ${f.status}`);
        assert.ok(f.cost > 0);
        assert.match(alert.summary, /score \d+/);
      }

      rig.clear(c.fault);
      if (c.fault === 'offline') rig.feed(rig.dev.birth(rig.now).topic, rig.dev.birth(rig.now).payload);
      // Counted factors (restarts, rejects) age out of their windows.
      rig.run(c.fault === 'reboot-loop' ? 62 * MIN : c.fault === 'out-of-range' || c.fault === 'malformed' ? 12 * MIN : 6 * MIN);
      assert.equal(rig.state, 'healthy', rig.tracker.describe(rig.tracker.get(rig.dev.id)!, rig.now));
      const resolved = rig.alerts().filter((a) => a.status === 'resolved' && a.fingerprint === alert.fingerprint);
      assert.equal(resolved.length, 1, 'the firing alert is resolved, with the same fingerprint');
      assert.ok(resolved[0].endsAt !== null && resolved[0].startsAt === alert.startsAt);
    });
  }
});

describe('health: scoring rules', () => {
  const tracker = (c: HealthConfig = defaultHealthConfig()) => new HealthTracker(c);
  const heartbeat = (t: HealthTracker, id: string, at: number, p: Record<string, unknown>) =>
    t.observe({ id, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 100, ...p }, at });

  it('explains the score: every factor with status, cost and reason', () => {
    const t = tracker();
    heartbeat(t, 'd', T0, { free_heap: 4000, wifi_rssi: -75 });
    const d = t.get('d')!;
    const explained = t.explained(d);
    const heap = explained.find((f) => f.factor === 'heap')!;
    const rssi = explained.find((f) => f.factor === 'rssi')!;
    assert.deepEqual([heap.status, heap.cost, heap.value], ['warning', 20, 4000]);
    assert.match(heap.reason, /free heap 4,000 B under the warning 5,000 B/);
    assert.deepEqual([rssi.status, rssi.cost], ['warning', 10]);
    assert.equal(d.score, 70);
    assert.equal(d.factors.find((f) => f.factor === 'cpu')!.status, 'unknown');
  });

  it('a device with only unknown factors is unknown, not healthy', () => {
    const t = tracker();
    t.observe({ id: 'd', kind: 'presence', deviceKind: 'env-sensor', payload: { state: 'online', session: 1 }, at: T0 });
    assert.equal(t.get('d')!.state, 'unknown');
    heartbeat(t, 'd', T0 + 1000, { free_heap: 40000 });
    assert.equal(t.get('d')!.state, 'healthy');
  });

  it('nonsense and missing numbers leave factors unknown instead of failing', () => {
    const t = tracker();
    t.observe({ id: 'd', kind: 'metrics', deviceKind: 'env-monitor', payload: { cpu_usage_percent: 'lots', memory_usage_bytes: null }, at: T0 });
    t.observe({ id: 'd', kind: 'health', deviceKind: 'env-monitor', payload: {}, at: T0 + 1 });
    const d = t.get('d')!;
    assert.equal(d.factors.find((f) => f.factor === 'cpu')!.status, 'unknown');
    assert.equal(d.state, 'unknown');
  });

  it('hysteresis: one bad reading does not flip the state; two in a row do; two good ones clear it', () => {
    const t = tracker();
    heartbeat(t, 'd', T0, { free_heap: 40000 });
    heartbeat(t, 'd', T0 + 1000, { free_heap: 40000 });
    const flaps = [4000, 40000, 4000, 40000, 4000];
    flaps.forEach((h, i) => heartbeat(t, 'd', T0 + 2000 + i * 1000, { free_heap: h }));
    assert.equal(t.get('d')!.state, 'healthy');
    heartbeat(t, 'd', T0 + 9000, { free_heap: 4000 });
    assert.equal(t.get('d')!.state, 'degraded');
    heartbeat(t, 'd', T0 + 10000, { free_heap: 40000 });
    assert.equal(t.get('d')!.state, 'degraded');
    heartbeat(t, 'd', T0 + 11000, { free_heap: 40000 });
    assert.equal(t.get('d')!.state, 'healthy');
  });

  it('several warnings together fall into the critical score band', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    c.criticalBelow = 55;
    const t = tracker(c);
    t.observe({ id: 'd', kind: 'metrics', deviceKind: 'env-monitor', payload: { cpu_usage_percent: 80, wifi_rssi: -75, memory_usage_bytes: 16000, free_heap: 4000, error_count: 0, uptime: 10, restart_count: 0 }, at: T0 });
    const d = t.get('d')!;
    assert.ok(d.factors.every((f) => f.status !== 'critical'), JSON.stringify(d.factors.filter((f) => f.status === 'critical')));
    assert.ok(d.score < 55, `score ${d.score}: ${JSON.stringify(t.explained(d).filter((f) => f.cost > 0).map((f) => f.reason))}`);
    assert.equal(d.state, 'critical');
  });

  it('per-kind overrides: 40 KB of free heap is fine on a monitor, degraded on an audio device', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    const t = tracker(c);
    t.observe({ id: 'm', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 40000 }, at: T0 });
    t.observe({ id: 'a', kind: 'health', deviceKind: 'audio-device', payload: { free_heap: 40000, wifi_rssi: -50, healthy: true }, at: T0 });
    assert.equal(t.get('m')!.state, 'healthy');
    assert.equal(t.get('a')!.state, 'degraded');
  });

  it('device-reported health: Healthy=No, status degraded and error', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    const t = tracker(c);
    t.observe({ id: 'a', kind: 'console', deviceKind: 'audio-device', payload: { event: 'audio-health', heap: 234567, wifi_rssi: -45, sessions: 1, healthy: false }, at: T0 });
    assert.equal(t.get('a')!.state, 'degraded');
    t.observe({ id: 's', kind: 'status', deviceKind: 'env-sensor', payload: { status: 'error', uptime: 5 }, at: T0 });
    assert.equal(t.get('s')!.state, 'critical');
  });

  it('OTA and Steel failures reported by other nodes cost points for an hour', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    c.hysteresis.clearAfter = 1;
    const t = tracker(c);
    heartbeat(t, 'd', T0, { free_heap: 40000 });
    t.observe({ id: 'd', kind: 'ota-progress', deviceKind: null, payload: { job_id: 'j', state: 'FAILED' }, at: T0 + 1000 });
    assert.equal(t.get('d')!.state, 'degraded');
    assert.equal(t.get('d')!.factors.find((f) => f.factor === 'ota')!.status, 'warning');
    heartbeat(t, 'd', T0 + 61 * MIN, { free_heap: 40000 });
    assert.equal(t.get('d')!.state, 'healthy');
    t.observe({ id: 'd', kind: 'steel-result', deviceKind: null, payload: { program_id: 'p', status: 'failed' }, at: T0 + 62 * MIN });
    assert.equal(t.get('d')!.factors.find((f) => f.factor === 'steel')!.status, 'warning');
  });

  it('error rate from error_count deltas', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    const t = tracker(c);
    const metrics = (i: number, errors: number) => t.observe({ id: 'd', kind: 'metrics', deviceKind: 'env-monitor', payload: { cpu_usage_percent: 10, memory_usage_bytes: 1000, uptime: 100 + i * 60, restart_count: 0, error_count: errors }, at: T0 + i * MIN });
    metrics(0, 100);
    metrics(1, 101);
    const one = t.get('d')!.factors.find((x) => x.factor === 'errors')!;
    assert.equal(one.status, 'ok', `one error is no trend: ${one.value}/h`);
    for (let i = 2; i < 12; i++) metrics(i, 101 + (i - 1) * 8);
    const f = t.get('d')!.factors.find((x) => x.factor === 'errors')!;
    assert.ok(f.value! >= 60 && f.status === 'critical', JSON.stringify(f));
    for (let i = 12; i < 240; i += 10) metrics(i, 181);
    assert.equal(t.get('d')!.factors.find((x) => x.factor === 'errors')!.status, 'ok', 'the rate decays once errors stop');
  });
});

describe('health: presence and silence', () => {
  it('goes offline on silence, without any message, after the multiple of the expected interval', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'd', kind: 'sensor', deviceKind: 'env-sensor', payload: { temperature: 20, humidity: 40, pressure: 1000 }, at: T0 });
    assert.equal(t.sweep(T0 + 59_000).length, 0);
    const [u] = t.sweep(T0 + 61_000);
    assert.equal(u.change!.state, 'offline');
    assert.equal(u.change!.cause, 'silence');
    assert.equal(u.alerts[0].name, 'DeviceOffline');
    assert.match(u.alerts[0].summary, /no message for 61 s \(limit 60 s\)/);
    assert.equal(t.sweep(T0 + 120_000).length, 0, 'offline once, not again at every sweep');
  });

  it('uses the interval the device announced in its status', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'd', kind: 'status', deviceKind: 'env-sensor', payload: { status: 'online', reading_interval: 5 }, at: T0 });
    assert.equal(t.sweep(T0 + 9_000).length, 0);
    assert.equal(t.sweep(T0 + 11_000).length, 1);
  });

  it('takes a last will at once, and the next message ends offline at once', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'd', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 5, free_heap: 40000 }, at: T0 });
    const u = t.observe({ id: 'd', kind: 'presence', deviceKind: 'env-sensor', payload: { state: 'offline', session: 1 }, online: false, at: T0 + 1000 });
    assert.equal(u.change!.state, 'offline');
    assert.match(u.alerts[0].summary, /last will/);
    const back = t.observe({ id: 'd', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 6, free_heap: 40000 }, at: T0 + 2000 });
    assert.equal(back.change!.state, 'healthy');
    assert.deepEqual(back.alerts.map((a) => `${a.name}:${a.status}`), ['DeviceOffline:resolved']);
  });

  it('a late last will that the registry judged stale (online) does not take the device offline', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'd', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 5, free_heap: 40000 }, at: T0 });
    t.observe({ id: 'd', kind: 'presence', deviceKind: 'env-sensor', payload: { state: 'offline', session: 1 }, online: true, at: T0 + 1000 });
    assert.notEqual(t.get('d')!.state, 'offline');
  });

  it('a replayed retained message is no sign of life', () => {
    const t = new HealthTracker(defaultHealthConfig());
    t.observe({ id: 'd', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 5 }, at: T0 });
    t.sweep(T0 + 70_000);
    t.observe({ id: 'd', kind: 'status', deviceKind: 'env-sensor', payload: { status: 'online' }, at: T0 + 80_000, retained: true });
    assert.equal(t.get('d')!.state, 'offline');
  });

  it('takes a fleet-wide silence in slices when asked', () => {
    const t = new HealthTracker(defaultHealthConfig());
    for (let i = 0; i < 250; i++) t.observe({ id: `d${i}`, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1 }, at: T0 });
    const slices: number[] = [];
    for (let n = -1; n !== 0;) { n = t.sweep(T0 + 70_000, 100).length; slices.push(n); }
    assert.deepEqual(slices, [100, 100, 50, 0]);
    assert.equal(t.stateCounts().offline, 250);
  });

  it('sweeps 10,000 devices touching only the silent ones', () => {
    const t = new HealthTracker(defaultHealthConfig());
    for (let i = 0; i < 10_000; i++) t.observe({ id: `d${i}`, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1 }, at: i < 100 ? T0 : T0 + 50_000 });
    assert.equal(t.sweep(T0 + 70_000).length, 100);
    assert.equal(t.stateCounts().offline, 100);
  });
});

describe('health: restart', () => {
  it('a snapshot restores state, score, factors and the silence clock from last seen', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    const a = new HealthTracker(c);
    a.observe({ id: 'd', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 5, free_heap: 2000, wifi_rssi: -50 }, at: T0 });
    const snap = JSON.parse(JSON.stringify(a.snapshot('d'))) as unknown;
    assert.ok(isHealthSnapshot(snap));

    const b = new HealthTracker(c);
    b.restore('d', snap, T0, 'full', { site: 'north' });
    assert.equal(b.get('d')!.state, 'critical');
    assert.equal(b.stateCounts().critical, 1);
    assert.equal(b.sweep(T0 + 59_000).length, 0);
    const [u] = b.sweep(T0 + 61_000);
    assert.equal(u.change!.previous, 'critical');
    assert.deepEqual(u.alerts.map((x) => `${x.name}:${x.status}`), ['DeviceCritical:resolved', 'DeviceOffline:firing']);
    assert.equal(u.alerts[1].labels.site, 'north');
  });
});

describe('health: configuration', () => {
  it('fills a partial configuration from the defaults', () => {
    const r = parseHealthConfig({ factors: { rssi: { warn: -75, crit: -85 } } });
    assert.ok(r.ok);
    assert.equal(r.value.factors.rssi.warn, -75);
    assert.equal(r.value.factors.heap.warn, 5000);
  });

  const bad: Array<[unknown, string]> = [
    ['{nope', 'config'],
    [{ version: 2 }, 'version'],
    [{ factors: { wifi: {} } }, 'factors.wifi'],
    [{ factors: { heap: { warn: 'low' } } }, 'factors.heap'],
    [{ factors: { heap: { warn: 1000, crit: 2000 } } }, 'factors.heap'],
    [{ factors: { cpu: { warnCost: 50, critCost: 10 } } }, 'factors.cpu'],
    [{ kinds: { toaster: {} } }, 'kinds.toaster'],
    [{ kinds: { 'audio-device': { heap: { bogus: 1 } } } }, 'kinds.audio-device.heap'],
    [{ silence: { multiple: 0 } }, 'silence.multiple'],
    [{ silence: { intervals: { 'env-sensor': -1 } } }, 'silence.intervals.env-sensor'],
    [{ hysteresis: { raiseAfter: 1.5 } }, 'hysteresis.raiseAfter'],
    [{ degradedBelow: 30, criticalBelow: 50 }, 'criticalBelow'],
  ];
  for (const [input, field] of bad) {
    it(`refuses ${JSON.stringify(input)} naming ${field}`, () => {
      const r = parseHealthConfig(input);
      assert.ok(!r.ok);
      assert.equal(r.field, field);
      assert.ok(r.reason.length > 5);
    });
  }

  it('stamps outputs with the configuration version and a hash that changes with any threshold', () => {
    const a = new HealthTracker(defaultHealthConfig()).configStamp;
    const c = defaultHealthConfig();
    c.factors.cpu.warn = 71;
    const b = new HealthTracker(c).configStamp;
    assert.equal(a.version, 1);
    assert.notEqual(a.hash, b.hash);
  });
});

describe('health: fleet summary', () => {
  it('counts by state and kind, worst devices first with reasons', () => {
    const c = defaultHealthConfig();
    c.hysteresis.raiseAfter = 1;
    const t = new HealthTracker(c);
    t.observe({ id: 'ok', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 40000 }, at: T0 });
    t.observe({ id: 'bad', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 1, free_heap: 2000 }, at: T0 });
    t.observe({ id: 'meh', kind: 'health', deviceKind: 'audio-device', payload: { free_heap: 40000, wifi_rssi: -50 }, at: T0 });
    const s = t.summary(T0);
    assert.deepEqual(s.byState, { healthy: 1, degraded: 1, critical: 1, offline: 0, unknown: 0 });
    assert.deepEqual(s.byKind['env-sensor'], { healthy: 1, degraded: 0, critical: 1, offline: 0, unknown: 0 });
    assert.deepEqual(s.worst.map((w) => w.device), ['bad', 'meh']);
    assert.match(s.worst[0].reasons[0], /free heap/);
  });

  // The worst list comes from an index kept as states and scores move (issue 16); this is the scan it
  // replaced, over every device, as the reference.
  it('the worst list equals a full scan and sort, over random traffic, sweeps, restarts and list lengths', function () {
    this.timeout(60_000);
    const ids = ['d-1', 'd-10', 'd-2', 'd-11', 'e', 'd-1x', 'x-0', 'd-100'];
    const step = fc.oneof(
      fc.record({ t: fc.constant('heartbeat' as const), heap: fc.integer({ min: 500, max: 60_000 }), rssi: fc.integer({ min: -95, max: -40 }) }),
      fc.record({ t: fc.constant('presence' as const), online: fc.boolean() }),
      fc.record({ t: fc.constant('sweep' as const) }),
      fc.record({ t: fc.constant('restart' as const) }),
    );
    const run = fc.record({
      raise: fc.integer({ min: 1, max: 2 }), clear: fc.integer({ min: 1, max: 2 }),
      steps: fc.array(fc.record({ step, dt: fc.integer({ min: 0, max: 200_000 }), device: fc.constantFrom(...ids), k: fc.constantFrom(0, 1, 3, 10, 2000, -2, 2.5) }), { minLength: 1, maxLength: 50 }),
    });
    const rank: Record<HealthState, number> = { unknown: 0, healthy: 0, degraded: 1, critical: 2, offline: 3 };
    fc.assert(fc.property(run, ({ raise, clear, steps }) => {
      const c = defaultHealthConfig();
      c.hysteresis = { raiseAfter: raise, clearAfter: clear };
      let t = new HealthTracker(c);
      let now = T0;
      for (const { step: s, dt, device, k } of steps) {
        now += dt;
        if (s.t === 'heartbeat') t.observe({ id: device, kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 100, free_heap: s.heap, wifi_rssi: s.rssi }, at: now });
        else if (s.t === 'presence') t.observe({ id: device, kind: 'presence', deviceKind: 'env-sensor', payload: { state: s.online ? 'online' : 'offline', session: 1 }, at: now, online: s.online });
        else if (s.t === 'sweep') t.sweep(now);
        else {
          const next = new HealthTracker(c);
          for (const id of ids) {
            const snap = t.snapshot(id);
            if (snap) next.restore(id, JSON.parse(JSON.stringify(snap)) as Parameters<HealthTracker['restore']>[1], snap.obs.lastSeen, null, {});
          }
          t = next;
        }
        const all = ids.map((id) => t.get(id)).filter((d) => d !== undefined && d.state !== 'healthy' && d.state !== 'unknown');
        all.sort((a, b) => rank[b!.state] - rank[a!.state] || a!.score - b!.score || (a!.id < b!.id ? -1 : 1));
        const expected = all.slice(0, k).map((d) => `${d!.id} ${d!.state} ${d!.score}`);
        assert.deepEqual(t.summary(now, k).worst.map((w) => `${w.device} ${w.state} ${w.score}`), expected);
      }
    }), { numRuns: 1000, seed: 20261203 });
  });
});

/** "state, score and reasons never disagree": the check every output must pass (issue 18 item 3). */
function disagreement(what: string, state: HealthState, score: number, factors: readonly Pick<FactorScore, 'factor' | 'status' | 'cost'>[], config: HealthConfig): string | null {
  const cost = factors.reduce((a, f) => a + f.cost, 0);
  if (score !== Math.max(0, 100 - cost)) return `${what}: score ${score} but its factors cost ${cost}`;
  if (state === 'offline') return null;
  const worst = factors.some((f) => f.status === 'critical') ? 2 : factors.some((f) => f.status === 'warning') ? 1 : 0;
  const measured = factors.filter((f) => f.status !== 'unknown' && !EVENT_FACTORS.has(f.factor)).length;
  const expected = classify(worst, score, measured, config);
  if (expected !== state) return `${what}: ${state} with score ${score} and factors ${JSON.stringify(factors.filter((f) => f.status !== 'ok' && f.status !== 'unknown'))} (they say ${expected})`;
  if ((state === 'degraded' || state === 'critical') && !factors.some((f) => f.status === 'warning' || f.status === 'critical') && score >= config.degradedBelow) {
    return `${what}: ${state} without a reason`;
  }
  return null;
}

function checkUpdate(u: HealthUpdate, config: HealthConfig): string | null {
  if (u.change) {
    const bad = disagreement(`change of ${u.change.device}`, u.change.state, u.change.score, u.change.factors, config);
    if (bad) return bad;
    if (u.change.state !== 'offline' && u.change.factors.some((f) => (f.status === 'warning' || f.status === 'critical') && !f.reason)) return 'a factor in trouble without a reason';
  }
  for (const a of u.alerts) {
    if (a.status !== 'firing') continue;
    const listed = (a.details?.factors ?? []) as Array<{ status: string }>;
    if ((a.name === 'DeviceDegraded' || a.name === 'DeviceCritical') && listed.length === 0 && Number(a.details?.score) >= config.degradedBelow) {
      return `${a.name} firing with score ${String(a.details?.score)} and no factor`;
    }
  }
  return null;
}

describe('health: state, score and reasons never disagree (issue 18)', () => {
  it('a state held by hysteresis keeps the score and reasons that justify it (the "degraded, score 100, no reason" row)', () => {
    const t = new HealthTracker(defaultHealthConfig());
    const hb = (at: number, heap: number) => t.observe({ id: 'audio-004', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: at, free_heap: heap }, at: T0 + at });
    hb(1, 40000);
    hb(2, 4000);
    hb(3, 4000);
    assert.equal(t.get('audio-004')!.state, 'degraded');
    hb(4, 40000); // recovered once: hysteresis holds degraded for one more evaluation
    const d = t.get('audio-004')!;
    assert.equal(d.state, 'degraded');
    assert.equal(d.score, 80, 'the score of the evaluation that made it degraded');
    assert.equal(d.pending, 'healthy');
    const [row] = t.summary(T0 + 5).worst;
    assert.deepEqual([row.state, row.score], ['degraded', 80]);
    assert.equal(row.reasons.length, 1);
    assert.match(row.reasons[0], /free heap 4,000 B under the warning/);
    const u = hb(5, 40000);
    assert.deepEqual([u.change!.state, u.change!.score], ['healthy', 100]);
  });

  it('holds on every output over random observation sequences, configurations and sweeps', function () {
    this.timeout(60_000);
    const kinds = ['env-sensor', 'env-monitor', 'audio-device', 'csi-sensor'] as const;
    const step = fc.oneof(
      fc.record({ t: fc.constant('heartbeat' as const), heap: fc.integer({ min: 500, max: 80_000 }), rssi: fc.integer({ min: -95, max: -30 }) }),
      fc.record({ t: fc.constant('metrics' as const), cpu: fc.integer({ min: 0, max: 100 }), used: fc.integer({ min: 0, max: 100_000 }), heap: fc.integer({ min: 500, max: 80_000 }), errors: fc.integer({ min: 0, max: 500 }), restarts: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ t: fc.constant('sensor' as const), temp: fc.constantFrom(20, 21) }),
      fc.record({ t: fc.constant('status' as const), status: fc.constantFrom('online', 'degraded', 'error') }),
      fc.record({ t: fc.constant('presence' as const), online: fc.boolean() }),
      fc.record({ t: fc.constant('reject' as const) }),
      fc.record({ t: fc.constant('sweep' as const) }),
    );
    const config = fc.record({
      raise: fc.integer({ min: 1, max: 3 }), clear: fc.integer({ min: 1, max: 3 }),
      heapWarnCost: fc.integer({ min: 0, max: 40 }), rssiWarnCost: fc.integer({ min: 0, max: 20 }),
      degraded: fc.integer({ min: 40, max: 95 }), criticalGap: fc.integer({ min: 0, max: 40 }),
    });
    const run = fc.record({
      config, kind: fc.constantFrom(...kinds),
      steps: fc.array(fc.record({ step, dt: fc.integer({ min: 0, max: 120_000 }), device: fc.constantFrom('a', 'b') }), { minLength: 1, maxLength: 60 }),
    });
    fc.assert(fc.property(run, ({ config: k, kind, steps }) => {
      const c = defaultHealthConfig();
      c.hysteresis = { raiseAfter: k.raise, clearAfter: k.clear };
      c.factors.heap.warnCost = k.heapWarnCost;
      c.factors.rssi.warnCost = k.rssiWarnCost;
      c.degradedBelow = k.degraded;
      c.criticalBelow = Math.max(0, k.degraded - k.criticalGap);
      const t = new HealthTracker(c);
      let now = T0;
      let uptime = 1000;
      for (const { step: s, dt, device } of steps) {
        now += dt;
        uptime += Math.round(dt / 1000);
        const obs = (kindOf: Parameters<HealthTracker['observe']>[0]['kind'], payload: Record<string, unknown>, online?: boolean) =>
          [t.observe({ id: device, kind: kindOf, deviceKind: kind, payload, at: now, online })];
        const updates: HealthUpdate[] =
          s.t === 'heartbeat' ? obs('heartbeat', { uptime, free_heap: s.heap, wifi_rssi: s.rssi })
          : s.t === 'metrics' ? obs('metrics', { uptime, cpu_usage_percent: s.cpu, memory_usage_bytes: s.used, free_heap: s.heap, error_count: s.errors, restart_count: s.restarts })
          : s.t === 'sensor' ? obs('sensor', { temperature: s.temp, humidity: 40, pressure: 1000 })
          : s.t === 'status' ? obs('status', { status: s.status, uptime })
          : s.t === 'presence' ? obs('presence', { state: s.online ? 'online' : 'offline', session: 1 }, s.online)
          : s.t === 'reject' ? [t.observeReject(device, now)]
          : t.sweep(now);
        for (const u of updates) {
          const bad = checkUpdate(u, c);
          if (bad) throw new Error(bad);
        }
        for (const id of ['a', 'b']) {
          const d = t.get(id);
          if (!d) continue;
          const bad = disagreement(`device ${id}`, d.state, d.score, d.factors, c);
          if (bad) throw new Error(bad);
        }
        for (const w of t.summary(now).worst) {
          if (w.reasons.length === 0) throw new Error(`summary: ${w.device} ${w.state} score ${w.score} with no reason`);
        }
      }
    }), { numRuns: 1500, seed: 20261202 });
  });
});

describe('health: durable state in the journal (issue 9)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-journal-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const hb = (t: HealthTracker, at: number, heap: number) => t.observe({ id: 'd', kind: 'heartbeat', deviceKind: 'env-sensor', arch: 'full', labels: { site: 'north' }, payload: { uptime: at, free_heap: heap }, at: T0 + at * 1000 });

  it('a crash after the commit: the restarted tracker has the state, counter and firing alert, and resolves it once with the same identity', () => {
    const file = path.join(dir, 'fleet-health-x.jsonl');
    const a = new HealthTracker(defaultHealthConfig());
    const ja = DurableHealth.open(file, a, defaultHealthConfig());
    const fired: FleetAlert[] = [];
    for (const [at, heap] of [[1, 40000], [2, 4000], [3, 4000]] as const) {
      const u = hb(a, at, heap);
      if (u.change || u.alerts.length) ja.commit(['d']); else ja.touch('d');
      fired.push(...u.alerts);
    }
    assert.deepEqual(fired.map((x) => `${x.name}:${x.status}`), ['DeviceDegraded:firing']);
    hb(a, 4, 40000); // pending healthy 1 of 2, made durable by the group commit
    ja.touch('d');
    ja.commit();
    // No close(): the process died here. The journal is opened again as a restart would.
    const b = new HealthTracker(defaultHealthConfig());
    const jb = DurableHealth.open(file, b, defaultHealthConfig());
    assert.deepEqual(jb.restore(), { restored: 1, skipped: 0 });
    const d = b.get('d')!;
    assert.deepEqual([d.state, d.score, d.pending, d.pendingCount, d.obs.lastSeen, d.arch, d.labels.site], ['degraded', 80, 'healthy', 1, T0 + 4000, 'full', 'north']);
    const u = hb(b, 5, 40000);
    assert.equal(u.change!.previous, 'degraded');
    assert.deepEqual(u.alerts.map((x) => `${x.name}:${x.status}`), ['DeviceDegraded:resolved']);
    assert.equal(u.alerts[0].fingerprint, fired[0].fingerprint);
    assert.equal(u.alerts[0].startsAt, fired[0].startsAt, 'the same alert resolves, not a new one');
    jb.close();
  });

  it('a device whose health did not move is group-committed as last-seen alone, and restored with it', () => {
    const file = path.join(dir, 'fleet-health-s.jsonl');
    const a = new HealthTracker(defaultHealthConfig());
    const j = DurableHealth.open(file, a, defaultHealthConfig());
    hb(a, 1, 40000);
    j.commit(['d'], T0 + 1000);
    hb(a, 2, 40000);
    hb(a, 3, 40000);
    j.touch('d');
    j.commit([], T0 + 3000);
    assert.deepEqual([j.stats.records, j.stats.seen], [1, 1]);
    hb(a, 4, 4000); // heap warning: pending degraded, the health moved
    j.touch('d');
    j.commit([], T0 + 4000);
    assert.deepEqual([j.stats.records, j.stats.seen], [2, 1]);
    hb(a, 5, 4000);
    j.touch('d');
    assert.ok(j.commit(['d'], T0 + 5000));
    const b = new HealthTracker(defaultHealthConfig());
    hb(a, 6, 4000);
    j.touch('d');
    j.commit([], T0 + 6000);
    assert.deepEqual([j.stats.records, j.stats.seen], [3, 2], 'the forced commit is full, the next one light');
    hb(a, 40, 4000);
    j.touch('d');
    j.commit([], T0 + 40_000);
    assert.equal(j.stats.records, 4, 'written in full again after 30 s');
    hb(a, 41, 4000);
    j.touch('d');
    j.commit([], T0 + 41_000);
    DurableHealth.open(file, b, defaultHealthConfig()).restore();
    assert.equal(b.get('d')!.obs.lastSeen, T0 + 41_000, 'last-seen from the light record');
    assert.equal(b.get('d')!.state, 'degraded');
    assert.equal(b.get('d')!.factors.find((f) => f.factor === 'heap')!.warn, 5000, 'thresholds come back from the configuration');
  });

  it('a torn last write and unreadable records are skipped; the rest is restored', () => {
    const file = path.join(dir, 'fleet-health-y.jsonl');
    const a = new HealthTracker(defaultHealthConfig());
    const ja = DurableHealth.open(file, a, defaultHealthConfig());
    hb(a, 1, 2000);
    ja.commit(['d']);
    ja.close();
    fs.appendFileSync(file, '{"k":"d:e","v":{"v":1,"state":"nonsense"}}\n{"k":"d:d","v":{"v":1,"sta');
    const b = new HealthTracker(defaultHealthConfig());
    assert.deepEqual(DurableHealth.open(file, b, defaultHealthConfig()).restore(), { restored: 1, skipped: 1 });
    assert.equal(b.get('d')!.state, 'critical');
  });

  it('a disk that refuses keeps the records waiting for the next commit', () => {
    const file = path.join(dir, 'sub', 'fleet-health-z.jsonl');
    const a = new HealthTracker(defaultHealthConfig());
    const j = DurableHealth.open(file, a, defaultHealthConfig());
    hb(a, 1, 40000);
    j.touch('d');
    // A value JSON cannot hold makes the journal refuse the commit, as a full disk would.
    (a.get('d')!.labels as Record<string, unknown>).bad = 1n;
    assert.equal(j.commit(), false);
    assert.equal(j.waiting, 1);
    assert.equal(j.stats.failures, 1);
    delete (a.get('d')!.labels as Record<string, unknown>).bad;
    assert.equal(j.commit(), true);
    assert.equal(j.waiting, 0);
  });
});
