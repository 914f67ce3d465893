/**
 * Health's compact state (issue 16, memory): the tracker holds factors as a shared layout, packed
 * statuses and typed-array values instead of 13 objects a device. Its outputs must be what the
 * tracker gave before, for any sequence of readings: state changes, alerts (fingerprints included),
 * scores, factors, reasons, summaries, and the persisted snapshot, byte for byte. The reference is
 * the tracker as it was before the change, kept in test/support/health-reference.
 *
 * And the old persisted shape still loads: a record as the registry and the journal stored it
 * before (captured from the previous version, below) restores to the same device.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { defaultHealthConfig, type HealthConfig } from '../../lib/health/config';
import { HealthTracker, isHealthSnapshot, type HealthInput, type HealthSnapshot, type HealthUpdate } from '../../lib/health/tracker';
import { plainCopy } from '../../lib/registry/plain-copy';
import { FleetRegistry } from '../../lib/registry/registry';
import type { KeyValueStore } from '../../lib/registry/persistence';
import { HealthTracker as ReferenceTracker } from '../support/health-reference/tracker';
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';

const T0 = 1_800_000_000_000;
const KINDS = ['env-sensor', 'env-monitor', 'audio-device', 'csi-sensor', 'steel-device'] as const;
const IDS = ['a', 'b', 'c'] as const;

type Step =
  | { t: 'msg'; kind: MessageKind; payload: Record<string, unknown>; online?: boolean }
  | { t: 'reject' }
  | { t: 'sweep'; max: number }
  | { t: 'restart'; lateBy: number };

const num = (min: number, max: number): fc.Arbitrary<number> => fc.oneof(fc.integer({ min, max }), fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));

/** Decoded payloads of every kind health reads, with the values that move its factors. */
const msgArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ uptime: fc.integer({ min: 0, max: 5000 }), free_heap: fc.option(num(0, 80_000), { nil: undefined }), wifi_rssi: fc.option(fc.integer({ min: -95, max: -30 }), { nil: undefined }) })
    .map((payload) => ({ t: 'msg' as const, kind: 'heartbeat' as const, payload })),
  fc.record({
    uptime: fc.integer({ min: 0, max: 5000 }), cpu_usage_percent: num(0, 100), memory_usage_bytes: fc.integer({ min: 0, max: 100_000 }),
    free_heap: fc.integer({ min: 0, max: 80_000 }), error_count: fc.integer({ min: 0, max: 400 }), restart_count: fc.integer({ min: 0, max: 6 }),
  }).map((payload) => ({ t: 'msg' as const, kind: 'metrics' as const, payload })),
  fc.record({ temperature: fc.constantFrom(20, 21, 20.5), humidity: fc.constantFrom(40, 41.5), pressure: fc.constant(1000) })
    .map((payload) => ({ t: 'msg' as const, kind: 'sensor' as const, payload })),
  fc.record({ status: fc.constantFrom('online', 'degraded', 'error'), uptime: fc.integer({ min: 0, max: 5000 }), reading_interval: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }) })
    .map((payload) => ({ t: 'msg' as const, kind: 'status' as const, payload })),
  fc.record({ uptime: fc.integer({ min: 0, max: 5000 }), last_sensor_reading: fc.integer({ min: T0 - 900_000, max: T0 + 3_600_000 }), healthy: fc.boolean(), free_heap: fc.integer({ min: 0, max: 80_000 }) })
    .map((payload) => ({ t: 'msg' as const, kind: 'health' as const, payload })),
  fc.oneof(
    num(0, 2000).map((us) => ({ event: 'perf-sensor', sensor_avg_us: us })),
    num(0, 2000).map((us) => ({ event: 'reading', read_time_us: us })),
    fc.record({ event: fc.constant('perf-analysis'), status: fc.constantFrom('Degraded', 'Fine'), uptime: fc.integer({ min: 0, max: 5000 }) }),
    fc.boolean().map((healthy) => ({ event: 'audio-health', healthy, heap: 40_000 })),
    fc.constant({ event: 'boot' }),
  ).map((payload) => ({ t: 'msg' as const, kind: 'console' as const, payload: payload as Record<string, unknown> })),
  fc.boolean().map((online) => ({ t: 'msg' as const, kind: 'presence' as const, payload: { state: online ? 'online' : 'offline', session: 1 }, online })),
  fc.constantFrom('FAILED', 'ROLLED_BACK', 'SUCCEEDED').map((state) => ({ t: 'msg' as const, kind: 'ota-progress' as const, payload: { job_id: 'j', state } })),
  fc.constantFrom<Record<string, unknown>>({ program_id: 'p', status: 'failed' }, { program_id: 'p', success: false }, { program_id: 'p', status: 'ok' })
    .map((payload) => ({ t: 'msg' as const, kind: 'steel-result' as const, payload })),
  fc.constantFrom('Failed', 'Running').map((status) => ({ t: 'msg' as const, kind: 'steel-status' as const, payload: { status } })),
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: msgArb },
  { weight: 2, arbitrary: fc.constant({ t: 'reject' as const }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 2, Infinity).map((max) => ({ t: 'sweep' as const, max })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 120_000 }).map((lateBy) => ({ t: 'restart' as const, lateBy })) },
);

/** A configuration: the defaults, or one with other thresholds and costs (fractional too), a factor off, a kind override. */
const configArb = fc.record({
  raise: fc.integer({ min: 1, max: 3 }), clear: fc.integer({ min: 1, max: 3 }),
  heapWarnCost: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(12.5)), cpuWarn: fc.integer({ min: 30, max: 80 }),
  off: fc.option(fc.constantFrom('memory', 'stuck-sensor', 'steel', 'heap'), { nil: undefined }),
  degraded: fc.integer({ min: 40, max: 95 }), criticalGap: fc.integer({ min: 0, max: 40 }),
}).map((k): HealthConfig => {
  const c = defaultHealthConfig();
  c.hysteresis = { raiseAfter: k.raise, clearAfter: k.clear };
  c.factors.heap.warnCost = k.heapWarnCost;
  c.factors.cpu.warn = k.cpuWarn;
  if (k.off) c.factors[k.off].enabled = false;
  c.degradedBelow = k.degraded;
  c.criticalBelow = Math.max(0, k.degraded - k.criticalGap);
  c.kinds['env-monitor'] = { rssi: { warn: -65, crit: -75 } };
  return c;
});

type Tracker = HealthTracker | ReferenceTracker;

/** Everything the tracker shows of a device and the fleet, as data. */
function view(t: Tracker, now: number): unknown {
  const devices: Record<string, unknown> = {};
  for (const id of IDS) {
    const d = (t as HealthTracker).get(id);
    if (!d) continue;
    devices[id] = {
      state: d.state, score: d.score, since: d.since, pending: d.pending, pendingCount: d.pendingCount, silentAfter: d.silentAfter,
      alertStartsAt: d.alertStartsAt, offlineCause: d.offlineCause, factors: d.factors, obs: d.obs, arch: d.arch, labels: d.labels,
      explained: (t as HealthTracker).explained(d), describe: (t as HealthTracker).describe(d, now),
      json: JSON.stringify((t as HealthTracker).snapshot(id)), plain: plainCopy((t as HealthTracker).snapshot(id)),
    };
  }
  return { devices, counts: { ...t.stateCounts() }, summary: t.summary(now, 2), size: t.size };
}

describe('health: the compact state gives the same outputs as before (issue 16)', () => {
  it('states, scores, factors, reasons, alerts, summaries and snapshots equal the previous tracker\'s for random readings', function () {
    this.timeout(120_000);
    const run = fc.record({
      config: configArb, perMessage: fc.option(configArb, { nil: undefined }),
      kinds: fc.tuple(fc.constantFrom(...KINDS), fc.constantFrom(...KINDS)),
      steps: fc.array(fc.record({ step: stepArb, dt: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 400_000 })), device: fc.constantFrom(...IDS), labelled: fc.boolean(), retained: fc.boolean(), thresholds: fc.boolean() }), { minLength: 1, maxLength: 80, size: 'max' }),
    });
    fc.assert(fc.property(run, ({ config, perMessage, kinds, steps }) => {
      let ours = new HealthTracker(config);
      let ref = new ReferenceTracker(config);
      let now = T0;
      for (const [n, s] of steps.entries()) {
        now += s.dt;
        const cfg = s.thresholds && perMessage ? perMessage : config;
        let a: HealthUpdate[];
        let b: HealthUpdate[];
        if (s.step.t === 'msg') {
          const deviceKind: DeviceKind | null = s.device === 'c' ? null : s.device === 'a' ? kinds[0] : kinds[1];
          const input: HealthInput = {
            id: s.device, kind: s.step.kind, deviceKind, arch: s.device === 'b' ? 'full' : null, payload: s.step.payload, at: now,
            online: s.step.online, retained: s.retained && n % 3 === 0, labels: s.labelled ? { site: `site-${n % 2}` } : {},
          };
          a = [ours.observe(input, cfg)];
          b = [ref.observe(input, cfg)];
        } else if (s.step.t === 'reject') {
          a = [ours.observeReject(s.device, now, cfg)];
          b = [ref.observeReject(s.device, now, cfg)];
        } else if (s.step.t === 'sweep') {
          a = ours.sweep(now, s.step.max);
          b = ref.sweep(now, s.step.max);
        } else {
          // A restart: each restores from its own persisted snapshots (the same bytes, checked below).
          const nextOurs = new HealthTracker(config);
          const nextRef = new ReferenceTracker(config);
          for (const id of IDS) {
            const snapOurs = ours.snapshot(id);
            const snapRef = ref.snapshot(id);
            if (!snapOurs || !snapRef) continue;
            const textOurs = JSON.stringify(snapOurs);
            assert.equal(textOurs, JSON.stringify(snapRef));
            const back = JSON.parse(textOurs) as HealthSnapshot;
            const lastSeen = back.obs.lastSeen + s.step.lateBy;
            nextOurs.restore(id, back, lastSeen, snapOurs.arch ?? null, { ...snapOurs.labels });
            nextRef.restore(id, JSON.parse(textOurs) as Parameters<ReferenceTracker['restore']>[1], lastSeen, snapRef.arch ?? null, { ...snapRef.labels });
          }
          ours = nextOurs;
          ref = nextRef;
          a = [];
          b = [];
        }
        assert.deepStrictEqual(a, b, `step ${n} (${JSON.stringify(s)}): updates`);
        assert.deepStrictEqual(view(ours, now), view(ref, now), `step ${n} (${JSON.stringify(s)}): devices and summary`);
      }
    }), { numRuns: 400, seed: 20261216 });
  });

  it('a snapshot of another configuration (other thresholds, a status no layout has) restores as it was saved', () => {
    const saved = JSON.parse(JSON.stringify(OLD_RECORD.health)) as Omit<HealthSnapshot, 'factors'> & { factors: Array<Record<string, unknown>> };
    saved.factors[0].warn = 6000; // saved under another heap threshold
    saved.factors[1].status = 'stale'; // a status this version has no code for
    const ours = new HealthTracker(defaultHealthConfig());
    const ref = new ReferenceTracker(defaultHealthConfig());
    ours.restore('esp32-c3-full-7', saved as unknown as HealthSnapshot, OLD_RECORD.lastSeen, 'full', {});
    ref.restore('esp32-c3-full-7', JSON.parse(JSON.stringify(saved)) as Parameters<ReferenceTracker['restore']>[1], OLD_RECORD.lastSeen, 'full', {});
    const at = OLD_RECORD.lastSeen + 1000;
    assert.deepStrictEqual(view(ours, at), view(ref, at));
    assert.equal(ours.get('esp32-c3-full-7')!.factors[0].warn, 6000, 'the saved threshold, until the next evaluation');
    const input = (dt: number): HealthInput => ({ id: 'esp32-c3-full-7', kind: 'heartbeat', deviceKind: 'env-sensor', payload: { uptime: 20 + dt, free_heap: 4000 }, at: at + dt });
    assert.deepStrictEqual(ours.observe(input(0)), ref.observe(input(0)));
    assert.deepStrictEqual(view(ours, at), view(ref, at));
    assert.equal(ours.get('esp32-c3-full-7')!.factors[0].warn, 6000, 'held by hysteresis: still the evaluation that was saved');
    const change = ours.observe(input(1000));
    assert.deepStrictEqual(change, ref.observe(input(1000)));
    assert.equal(change.change?.state, 'degraded');
    assert.deepStrictEqual(view(ours, at + 1000), view(ref, at + 1000));
    assert.equal(ours.get('esp32-c3-full-7')!.factors[0].warn, 5000, 'then the configuration\'s');
  });
});

/**
 * A registry record as the previous version persisted it (registry + health, 2026-12-02): the
 * tracker's record was its own snapshot, factors as 13 objects with their thresholds.
 */
const OLD_RECORD = {
  id: 'esp32-c3-full-7', kind: 'env-sensor', arch: 'full', firmware: null, firstSeen: 1800000000000, lastSeen: 1800000000000, online: true, session: null,
  last: {
    sensor: { temperature: 20.7, humidity: 45.5, pressure: 1013.2, reading_count: 7, timestamp: 1800000000000, time_source: 'device' },
    heartbeat: { uptime: 7, free_heap: 46000, wifi_rssi: -58, sequence: 7, timestamp: 1800000000000, time_source: 'received' },
  },
  labels: {},
  health: {
    v: 1, id: 'esp32-c3-full-7', config: { version: 1, hash: '2305349c991e' },
    obs: {
      kind: 'env-sensor', lastSeen: 1800000000007, freeHeap: 46000, memUsedPct: null, cpuPct: null, rssi: -58, lastSensorAt: 1800000000007, reportedSensorAge: null,
      sensorUs: null, lastUptime: 7, lastRestartCount: null, restarts: [], lastErrorCount: null, errorLoad: null, errorLoadAt: 1800000000007, stuckRun: 0,
      lastReading: '20.7|45.5|1013.2', invalid: [], reported: null, otaFailures: [], steelFailures: [], announcedInterval: null, presenceOffline: false,
    },
    arch: 'full', labels: {}, state: 'healthy', score: 100, since: 1800000000007,
    factors: [
      { factor: 'heap', status: 'ok', cost: 0, value: 46000, warn: 5000, crit: 2500 }, { factor: 'memory', status: 'unknown', cost: 0, value: null, warn: 80, crit: 95 },
      { factor: 'cpu', status: 'unknown', cost: 0, value: null, warn: 70, crit: 90 }, { factor: 'rssi', status: 'ok', cost: 0, value: -58, warn: -70, crit: -80 },
      { factor: 'sensor-age', status: 'ok', cost: 0, value: 0, warn: 120, crit: 600 }, { factor: 'sensor-timing', status: 'unknown', cost: 0, value: null, warn: 500, crit: 1000 },
      { factor: 'invalid-readings', status: 'ok', cost: 0, value: 0, warn: 1, crit: 5 }, { factor: 'stuck-sensor', status: 'ok', cost: 0, value: 1, warn: 10, crit: 30 },
      { factor: 'restarts', status: 'ok', cost: 0, value: 0, warn: 1, crit: 3 }, { factor: 'errors', status: 'unknown', cost: 0, value: null, warn: 10, crit: 60 },
      { factor: 'device-reported', status: 'unknown', cost: 0, value: null, warn: 1, crit: 2 }, { factor: 'ota', status: 'ok', cost: 0, value: 0, warn: 1, crit: 3 },
      { factor: 'steel', status: 'ok', cost: 0, value: 0, warn: 1, crit: 3 },
    ],
    pending: null, pendingCount: 0, silentAfter: 1800000060007, alertStartsAt: null, offlineCause: null,
  },
};

class MapStore implements KeyValueStore {
  readonly data = new Map<string, unknown>();
  async keys(): Promise<string[]> { return [...this.data.keys()]; }
  async get(keys: string[]): Promise<unknown[]> { return keys.map((k) => this.data.get(k)); }
  async set(keys: string[], values: unknown[]): Promise<void> { keys.forEach((k, i) => (values[i] === undefined ? this.data.delete(k) : this.data.set(k, values[i]))); }
}

describe('health and registry: the persisted shape of the previous version still loads (issue 16)', () => {
  it('a registry record written before the compact form restores the same device, and is written back in the same shape', async () => {
    const store = new MapStore();
    const key = 'dev_' + Buffer.from(OLD_RECORD.id).toString('base64url');
    store.data.set(key, JSON.parse(JSON.stringify(OLD_RECORD)));
    const reg = new FleetRegistry(store, { flushMs: 60_000 });
    assert.equal(await reg.ready, 1);
    const rec = reg.get(OLD_RECORD.id)!;
    assert.equal(rec.last.sensor?.temperature, 20.7);
    assert.ok(isHealthSnapshot(rec.health));

    const ours = new HealthTracker(defaultHealthConfig());
    const ref = new ReferenceTracker(defaultHealthConfig());
    ours.restore(rec.id, rec.health, rec.lastSeen, rec.arch, rec.labels);
    ref.restore(rec.id, JSON.parse(JSON.stringify(rec.health)) as Parameters<ReferenceTracker['restore']>[1], rec.lastSeen, rec.arch, { ...rec.labels });
    const d = ours.get(rec.id)!;
    assert.deepEqual([d.state, d.score, d.obs.lastSeen, d.silentAfter], ['healthy', 100, 1800000000007, 1800000060007]);
    assert.deepStrictEqual(d.factors, OLD_RECORD.health.factors);
    assert.deepStrictEqual(view(ours, T0 + 30_000), view(ref, T0 + 30_000));

    // Written back through the registry: the same record as before, health included.
    reg.setHealth(rec.id, ours.snapshot(rec.id));
    await reg.persistence!.flush();
    assert.deepStrictEqual(store.data.get(key), plainCopy(OLD_RECORD));
    await reg.close();
  });
});
