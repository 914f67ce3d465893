import assert from 'node:assert/strict';

import fs from 'node:fs';
import path from 'node:path';

import { Decoder } from '../../lib/decode/decoder';
import { defaultHealthConfig, factorFor, parseHealthConfig, type HealthConfig } from '../../lib/health/config';
import { HealthTracker, type HealthState } from '../../lib/health/tracker';
import type { FleetAlert } from '../../lib/alert-shape';
import { VirtualDevice, type Fault, type Publication } from '../../firmware/simulator/device';
import { fleetSpecs, scaledIntervals } from '../../firmware/simulator/fleet';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { scoringForSpeed } = require('../../../scripts/sim-scoring.js') as { scoringForSpeed(d: HealthConfig, speed: number): unknown };
const root = path.resolve(__dirname, '..', '..', '..');

const HOUR = 3_600_000;

function run(dev: VirtualDevice, from: number, to: number, step = 1000): Publication[] {
  const out: Publication[] = [];
  for (let t = from; t <= to; t += step) out.push(...dev.due(t));
  return out;
}

describe('virtual firmware', () => {
  const decoder = new Decoder();

  it('is deterministic under a seed', () => {
    const a = fleetSpecs(30, 42).map((s) => new VirtualDevice(s));
    const b = fleetSpecs(30, 42).map((s) => new VirtualDevice(s));
    const c = fleetSpecs(30, 43).map((s) => new VirtualDevice(s));
    const trace = (devs: VirtualDevice[]) => devs.flatMap((d) => { d.boot(0); return run(d, 0, HOUR, 5000).map((p) => `${p.topic} ${p.payload}`); });
    const ta = trace(a);
    assert.deepEqual(ta, trace(b));
    assert.notDeepEqual(ta, trace(c));
    assert.ok(ta.length > 1000);
  });

  it('mixes the fleet\'s kinds and the three ESP32-C3 architectures', () => {
    const specs = fleetSpecs(50);
    const kinds = new Set(specs.map((s) => s.kind));
    for (const k of ['env-sensor', 'env-monitor', 'csi-sensor', 'audio-device']) assert.ok(kinds.has(k as never), k);
    const archs = new Set(specs.filter((s) => s.kind === 'env-sensor').map((s) => s.arch));
    assert.deepEqual([...archs].sort(), ['async', 'full', 'sync']);
    assert.equal(new Set(specs.map((s) => s.id)).size, 50);
  });

  it('speaks the contract exactly: every publication of an hour decodes', () => {
    for (const spec of fleetSpecs(25, 7)) {
      const dev = new VirtualDevice(spec);
      dev.boot(0);
      const pubs = [dev.birth(0), dev.lastWill(), ...run(dev, 0, HOUR, 10_000)];
      for (const p of pubs) {
        const r = decoder.decode({ topic: p.topic, payload: Buffer.from(p.payload), receivedAt: 1 });
        assert.ok(r.ok, `${p.topic} ${p.payload} → ${JSON.stringify(!r.ok && r.reject)}`);
        assert.equal(r.value.device.id, spec.id);
      }
      for (const line of dev.consoleLines(60_000)) {
        assert.ok(decoder.decode({ topic: `console/${spec.id}`, payload: line, receivedAt: 1 }).ok, line);
      }
    }
  });

  it('speaks the TI0162-IOT layout when asked, without ids on the wire', () => {
    const dev = new VirtualDevice({ id: 'bench-1', kind: 'env-sensor', arch: 'sync', profile: 'ti0162', prefix: 'lab/bench1', seed: 3 });
    dev.boot(0);
    const pubs = run(dev, 0, 10 * 60_000);
    const topics = new Set(pubs.map((p) => p.topic));
    assert.deepEqual([...topics].sort(), ['lab/bench1/heartbeat', 'lab/bench1/sensor/bme280', 'lab/bench1/status']);
    const mapped = new Decoder({ prefixMap: { 'lab/bench1': 'bench-1' } });
    for (const p of pubs) {
      assert.ok(!p.payload.includes('bench-1'));
      const r = mapped.decode({ topic: p.topic, payload: p.payload, receivedAt: 1 });
      assert.ok(r.ok && r.value.device.id === 'bench-1', p.payload);
    }
  });

  it('speaks the contract at every speed', () => {
    for (const speed of [1, 7, 20, 60]) {
      for (const spec of fleetSpecs(10, speed)) {
        const dev = new VirtualDevice(spec, scaledIntervals(speed));
        dev.boot(0);
        for (const p of run(dev, 0, 600_000 / speed * 10, 250)) {
          const r = decoder.decode({ topic: p.topic, payload: p.payload, receivedAt: 1 });
          assert.ok(r.ok, `speed ${speed}: ${p.topic} ${p.payload} → ${JSON.stringify(!r.ok && r.reject)}`);
        }
      }
    }
  });

  it('compresses intervals by speed', () => {
    const fast = new VirtualDevice({ id: 'd', kind: 'env-sensor', seed: 1 }, scaledIntervals(10));
    fast.boot(0);
    const sensors = run(fast, 0, 60_000, 100).filter((p) => p.topic.endsWith('/sensor'));
    assert.ok(sensors.length >= 19 && sensors.length <= 21, `${sensors.length} readings in a minute at 10x`);
  });

  describe('fault injection', () => {
    const fresh = (kind: 'env-sensor' | 'env-monitor' = 'env-sensor') => {
      const d = new VirtualDevice({ id: 'f-1', kind, arch: 'full', seed: 9 });
      d.boot(0);
      run(d, 0, 10 * 60_000);
      return d;
    };
    const payloads = (pubs: Publication[], suffix: string) => pubs.filter((p) => p.topic.endsWith(suffix)).map((p) => JSON.parse(p.payload) as Record<string, number>);

    it('offline: publishes nothing', () => {
      const d = fresh();
      d.faults.add('offline');
      assert.equal(run(d, 600_001, 1_200_000).length, 0);
    });

    it('low-heap: heap under the 5,000-byte warning; env monitors raise their own alert', () => {
      const d = fresh('env-monitor');
      d.faults.add('low-heap');
      const pubs = run(d, 600_001, 2 * HOUR);
      assert.ok(payloads(pubs, '/health').every((h) => h.free_memory < 5000));
      const alerts = payloads(pubs, '/alerts') as unknown as Array<{ level: string; message: string }>;
      assert.ok(alerts.length > 0 && alerts[0].message === 'Low memory warning');
    });

    it('rssi-drop: signal under -80 dBm', () => {
      const d = fresh();
      d.faults.add('rssi-drop');
      assert.ok(payloads(run(d, 600_001, HOUR), '/heartbeat').every((h) => h.wifi_rssi < -80));
    });

    it('stuck-sensor: the same reading again and again', () => {
      const d = fresh();
      d.faults.add('stuck-sensor');
      const temps = new Set(payloads(run(d, 600_001, HOUR), '/sensor').map((s) => s.temperature));
      assert.equal(temps.size, 1);
    });

    it('out-of-range and malformed: the decoder rejects them', () => {
      for (const [fault, code] of [['out-of-range', 'schema'], ['malformed', 'json']] as const) {
        const d = fresh();
        d.faults.add(fault);
        const sensor = run(d, 600_001, HOUR).find((p) => p.topic.endsWith('/sensor'))!;
        const r = decoder.decode({ topic: sensor.topic, payload: sensor.payload, receivedAt: 1 });
        assert.ok(!r.ok && r.reject.code === code, `${fault}: ${sensor.payload}`);
      }
    });

    it('reboot-loop: restarts, new sessions and births, uptime back to zero', () => {
      const d = fresh();
      const session = d.session;
      d.faults.add('reboot-loop');
      const pubs = run(d, 600_001, HOUR);
      assert.ok(d.restarts >= 5, `${d.restarts} restarts`);
      assert.ok(d.session > session + 4);
      const births = pubs.filter((p) => p.topic.endsWith('/presence')).map((p) => JSON.parse(p.payload) as { session: number });
      assert.ok(births.length >= 5 && births.every((b, i) => i === 0 || b.session > births[i - 1].session));
    });
  });

  describe('at rest, inside the health defaults (lib/health/config.ts)', () => {
    const config = defaultHealthConfig();

    /** The decoder and a health tracker with `cfg`, fed by `run(devices, from, to)`; keeps every change and alert. */
    function scorer(cfg: HealthConfig) {
      const tracker = new HealthTracker(cfg);
      const changes: Array<{ device: string; previous: HealthState; state: HealthState; t: number; why: string }> = [];
      const alerts: Array<FleetAlert & { t: number }> = [];
      const feed = (p: Publication, t: number): void => {
        const r = decoder.decode({ topic: p.topic, payload: p.payload, receivedAt: t, retained: false });
        const u = r.ok
          ? (r.value.device.id ? tracker.observe({ id: r.value.device.id, kind: r.value.kind, deviceKind: r.value.device.kind, payload: r.value.payload, at: t }, cfg) : null)
          : (r.reject.device ? tracker.observeReject(r.reject.device, t, cfg) : null);
        if (!u) return;
        if (u.change) changes.push({ device: u.change.device, previous: u.change.previous, state: u.change.state, t, why: u.change.factors.filter((f) => f.status !== 'ok' && f.status !== 'unknown').map((f) => f.reason).join('; ') });
        alerts.push(...u.alerts.map((a) => ({ ...a, t })));
      };
      const runFor = (devs: VirtualDevice[], from: number, to: number, step = 500): void => {
        for (let t = from; t <= to; t += step) {
          for (const d of devs) for (const p of d.due(t)) feed(p, t);
          if (t % 5000 === 0) for (const u of tracker.sweep(t)) if (u.change) changes.push({ device: u.change.device, previous: u.change.previous, state: u.change.state, t, why: 'silence' });
        }
      };
      return { changes, alerts, tracker, feed, run: runFor };
    }

    it('reports heap, signal and error rate inside every warning threshold, for every kind and speed', () => {
      for (const speed of [1, 5, 20]) {
        const intervals = scaledIntervals(speed);
        for (const spec of fleetSpecs(50, 1)) {
          const dev = new VirtualDevice(spec, intervals);
          dev.boot(0);
          const heapWarn = factorFor(config, spec.kind, 'heap').warn;
          const rssiWarn = factorFor(config, spec.kind, 'rssi').warn;
          const pubs = run(dev, 0, 2 * HOUR / speed * 5, 1000);
          for (const p of pubs) {
            const r = decoder.decode({ topic: p.topic, payload: p.payload, receivedAt: 1 });
            assert.ok(r.ok);
            const v = r.value.payload;
            if (typeof v.free_heap === 'number') assert.ok(v.free_heap > heapWarn, `${spec.id} at ${speed}x: heap ${v.free_heap} ≤ warning ${heapWarn}`);
            if (typeof v.wifi_rssi === 'number') assert.ok(v.wifi_rssi > rssiWarn, `${spec.id} at ${speed}x: RSSI ${v.wifi_rssi} ≤ warning ${rssiWarn}`);
          }
          // Errors per hour of wall-clock time, whatever the speed.
          const hours = (2 * HOUR / speed * 5) / HOUR;
          assert.ok(dev.errors / hours < config.factors.errors.warn / 2, `${spec.id} at ${speed}x: ${dev.errors} errors in ${hours} h`);
        }
      }
    });

    it('keeps the default fleet of 50 healthy for an hour at the speed of npm start: no state change but to healthy', () => {
      const intervals = scaledIntervals(5);
      const devs = fleetSpecs(50, 1).map((s) => new VirtualDevice(s, intervals));
      for (const d of devs) d.boot(0);
      const { changes, alerts, tracker, run: score } = scorer(config);
      score(devs, 0, HOUR);
      const bad = changes.filter((c) => c.state !== 'healthy');
      assert.deepEqual(bad, [], JSON.stringify(bad.slice(0, 5)));
      assert.deepEqual(alerts, []);
      assert.equal(tracker.stateCounts().healthy, 50);
    });

    describe('each fault button of the quick-start flow', () => {
      interface Button { id: string; name: string; topic: string; payload: string }
      const flow = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'quick-start.json'), 'utf8')) as Array<Button & { type: string }>;
      const buttons = flow.filter((n) => n.type === 'inject' && n.topic.startsWith('sim/fault/') && (JSON.parse(n.payload) as { action: string }).action === 'inject');
      const speed = 5;
      const scaled = parseHealthConfig(scoringForSpeed(defaultHealthConfig(), speed));
      assert.ok(scaled.ok);
      const cfg = scaled.value;

      it('covers every fault the flow offers, each on its own device', () => {
        assert.ok(buttons.length >= 5);
        assert.equal(new Set(buttons.map((b) => b.topic)).size, buttons.length);
      });

      for (const b of buttons) {
        it(`${b.name}: a state change and an alert within a minute, a resolve within the windows once cleared`, () => {
          const id = b.topic.split('/')[2];
          const { fault } = JSON.parse(b.payload) as { fault: Fault };
          const intervals = scaledIntervals(speed);
          const devs = fleetSpecs(50, 1).map((s) => new VirtualDevice(s, intervals));
          const dev = devs.find((d) => d.id === id);
          assert.ok(dev, `${id} is in the default fleet`);
          for (const d of devs) d.boot(0);
          const s = scorer(cfg);
          s.run([dev], 0, 10 * 60_000);
          assert.equal(s.tracker.get(id)?.state, 'healthy');
          const t0 = 10 * 60_000;
          const n0 = s.changes.length;
          dev.faults.add(fault);
          dev.expedite(t0);
          if (fault === 'offline') s.feed(dev.lastWill(), t0);
          s.run([dev], t0, t0 + 30_000);
          const broke = s.changes.slice(n0).filter((c) => c.device === id && c.state !== 'healthy');
          const raised = s.alerts.filter((a) => a.device === id && a.status === 'firing');
          assert.ok(broke.length > 0, `${b.name}: no state change in 30 s`);
          assert.ok(raised.length > 0, `${b.name}: no alert in 30 s`);
          const t1 = t0 + 30_000;
          dev.faults.delete(fault);
          dev.expedite(t1);
          if (fault === 'offline') { dev.session++; s.feed(dev.birth(t1), t1); }
          const limit = t1 + cfg.windows.invalidReadings * 1000 + 60_000;
          s.run([dev], t1, limit);
          assert.equal(s.tracker.get(id)?.state, 'healthy', JSON.stringify(s.changes.slice(n0)));
          const resolvedNames = new Set(s.alerts.filter((a) => a.device === id && a.status === 'resolved').map((a) => a.name));
          for (const a of raised) if (a.source === 'fleet-health') assert.ok(resolvedNames.has(a.name), `${a.name} resolved`);
        });
      }
    });
  });
});
