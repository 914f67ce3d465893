import assert from 'node:assert/strict';

import { Decoder } from '../../lib/decode/decoder';
import { VirtualDevice, type Publication } from '../../firmware/simulator/device';
import { fleetSpecs, scaledIntervals } from '../../firmware/simulator/fleet';

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
});
