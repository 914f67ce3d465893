/**
 * Domain figures without Node-RED: decoding and scoring throughput against baselines doing the
 * least the same input needs, memory per tracked device, the offline sweep, registry persistence.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Decoder, type Decoded } from '../lib/decode/decoder';
import { defaultHealthConfig } from '../lib/health/config';
import { SWEEP_MAX, SWEEP_VISITS } from '../lib/health/controller';
import { HealthTracker } from '../lib/health/tracker';
import { FleetRegistry } from '../lib/registry/registry';
import type { KeyValueStore } from '../lib/registry/persistence';
import { fleetSpecs } from '../firmware/simulator/fleet';
import { VirtualDevice, type Publication } from '../firmware/simulator/device';
import { figure, gc, longestBlock, memoryUsed, millis, rate, stats, type Figure } from './measure';
import { AlertDispatcher } from '../lib/alerts/dispatcher';
import { compileMatcher, compileMatcherList } from '../lib/alerts/matchers';
import { AlertStore } from '../lib/alerts/persistence';
import { compileTree, matchRoutes, type Route, type RouteConfig } from '../lib/alerts/routes';
import { makeAlert } from '../lib/alert-shape';
import { ARCH, DEVICE_KINDS, KIND, topicFor } from '../firmware/contract/topics';

/** fleet-health's slice (nodes/fleet-health): updates per sweep call before it yields. */
const SWEEP_SLICE = SWEEP_MAX;

/** A store that keeps values in a Map and answers at once: the registry's own cost of a flush, no I/O. */
function memoryStore(): KeyValueStore {
  const m = new Map<string, unknown>();
  return {
    keys: async () => [...m.keys()],
    get: async (keys) => keys.map((k) => m.get(k)),
    set: async (keys, values) => { keys.forEach((k, i) => (values[i] === undefined ? m.delete(k) : m.set(k, values[i]))); },
  };
}

/** The registry flush of `devices` changed devices: the whole flush, and the longest stretch it holds the event loop. */
export async function flushFigures(devices: number): Promise<Figure[]> {
  const decoder = new Decoder();
  const reg = new FleetRegistry(memoryStore(), { flushMs: 60_000, maxDevices: devices });
  await reg.ready;
  const tracker = new HealthTracker(defaultHealthConfig());
  for (let i = 0; i < devices; i++) {
    const id = `esp32-c3-full-${i}`;
    const r = decoder.decode({ topic: topicFor('esp32c3.heartbeat', { arch: 'full', device: id }), payload: `{"uptime":${i},"free_heap":46000,"wifi_rssi":-58,"sequence":${i}}`, receivedAt: 1_800_000_000_000 });
    if (!r.ok) throw new Error(JSON.stringify(r.reject));
    reg.record(r.value);
    tracker.observe({ id, kind: r.value.kind, deviceKind: KIND.envSensor, arch: 'full', payload: r.value.payload, at: 1_800_000_000_000 });
    reg.setHealth(id, tracker.snapshot(id));
  }
  // From a collected heap: what earlier sections left for the collector is not this job's.
  gc();
  const t = process.hrtime.bigint();
  const block = await longestBlock(() => reg.persistence!.flush());
  const totalMs = Number(process.hrtime.bigint() - t) / 1e6;
  await reg.persistence!.close();
  // The floor: the longest gap of an idle loop over as long (the OS's scheduling, timers, GC of others).
  const idle = await longestBlock(() => new Promise((r) => setTimeout(r, Math.min(totalMs, 5000))));
  const n = devices.toLocaleString('en-US');
  return [
    figure('periodic', 'baseline: longest gap of an idle event loop (scheduling noise)', 'ms', [idle]),
    figure('periodic', `registry flush of ${n} changed devices (memory store): whole flush`, 'ms', [totalMs]),
    figure('periodic', `registry flush of ${n} changed devices: longest hold of the event loop`, 'ms', [block], { target: '≤ 10 ms held', met: block <= 10 }),
  ];
}

/** An hour of a 1,000-device fleet's traffic, as the broker would deliver it. */
export function trafficSample(devices = 1000, seconds = 600): Publication[] {
  const out: Publication[] = [];
  for (const spec of fleetSpecs(devices, 3)) {
    const d = new VirtualDevice(spec);
    d.boot(0);
    out.push(d.birth(0));
    for (let t = 0; t <= seconds * 1000; t += 5000) out.push(...d.due(t));
  }
  return out;
}

export function decodeFigures(repeat: number): Figure[] {
  const sample = trafficSample();
  const buffers = sample.map((p) => ({ topic: p.topic, payload: Buffer.from(p.payload) }));
  const decoder = new Decoder();
  const n = buffers.length;
  let sink = 0;
  const parseOnly = rate(n, repeat, () => {
    for (const b of buffers) { try { sink += Object.keys(JSON.parse(b.payload.toString('utf8')) as object).length; } catch { sink++; } }
  });
  const ours = rate(n, repeat, () => {
    for (const b of buffers) { const r = decoder.decode({ topic: b.topic, payload: b.payload, receivedAt: 1 }); sink += r.ok ? 1 : 0; }
  });
  if (sink < 0) console.log(sink);
  const base = figure('decode', 'baseline: JSON.parse of the same Buffers', 'msg/s', parseOnly);
  return [base, figure('decode', 'fleet decode: topic map, UTF-8, JSON, schema, normalise', 'msg/s', ours, { ratio: { to: 'JSON.parse', value: figure('', '', '', ours).median / base.median } })];
}

export function healthFigures(repeat: number): Figure[] {
  const decoder = new Decoder();
  const decoded: Decoded[] = [];
  for (const p of trafficSample()) { const r = decoder.decode({ topic: p.topic, payload: p.payload, receivedAt: 1 }); if (r.ok) decoded.push(r.value); }
  const n = decoded.length;
  let sink = 0;
  const pass = rate(n, repeat, () => {
    const seen = new Map<string, unknown>();
    for (const d of decoded) { seen.set(d.device.id!, d.payload); sink++; }
  });
  const ours = rate(n, repeat, () => {
    const t = new HealthTracker(defaultHealthConfig());
    let at = 1_800_000_000_000;
    for (const d of decoded) { const u = t.observe({ id: d.device.id!, kind: d.kind, deviceKind: d.device.kind, arch: d.device.arch, payload: d.payload, at: (at += 10) }); sink += u.alerts.length; }
  });
  if (sink < 0) console.log(sink);
  const base = figure('health', 'baseline: last payload per device in a Map', 'msg/s', pass);
  const f = figure('health', 'scoring: 13 factors, hysteresis, alerts', 'msg/s', ours);
  return [base, { ...f, ratio: { to: 'Map baseline', value: f.median / base.median } }];
}

/**
 * N devices each sending a reading and a heartbeat, tracked by the registry (with last readings) and
 * by health as the pipeline feeds them (health takes msg.device.id, the decoder's string the registry
 * keys the device by), and the memory that took: heap after GC plus typed-array stores, which live
 * outside the heap (health's factor values).
 */
function populate(devices: number): { registry: FleetRegistry; tracker: HealthTracker; bytes: number; at: number } {
  const before = memoryUsed();
  // The cap (10,000 by default) would refuse all but the first 10,000 devices and hide their records.
  const registry = new FleetRegistry(null, { flushMs: 1000, maxDevices: devices });
  const tracker = new HealthTracker(defaultHealthConfig());
  const decoder = new Decoder();
  const at = 1_800_000_000_000;
  for (let i = 0; i < devices; i++) {
    const id = `esp32-c3-full-${i}`;
    for (const [topic, payload] of [
      [topicFor('esp32c3.sensor', { arch: ARCH.full, device: id }), `{"temperature":${20 + (i % 50) / 10},"humidity":45.5,"pressure":1013.2,"timestamp":1800000000,"reading_count":${i}}`],
      [topicFor('esp32c3.heartbeat', { arch: ARCH.full, device: id }), `{"uptime":${i},"free_heap":46000,"wifi_rssi":-58,"sequence":${i}}`],
    ]) {
      const r = decoder.decode({ topic, payload, receivedAt: at });
      if (!r.ok) throw new Error(JSON.stringify(r.reject));
      registry.record(r.value);
      const seen = r.value.device.id!;
      tracker.observe({ id: seen, kind: r.value.kind, deviceKind: KIND.envSensor, arch: ARCH.full, payload: r.value.payload, at: at + (i % 1000) });
      registry.setHealth(seen, tracker.snapshot(seen));
    }
  }
  if (registry.table.size !== devices || tracker.size !== devices) throw new Error(`tracked ${registry.table.size} / ${tracker.size} of ${devices} devices`);
  return { registry, tracker, bytes: memoryUsed() - before, at };
}

function memoryOf(devices: number, bytes: number): Figure[] {
  const n = devices.toLocaleString('en-US');
  const perDevice = bytes / devices;
  return [
    // The target is for fleets of 100,000 and more; a smaller one spreads the fixed costs over fewer devices.
    figure('scale', `memory per device (registry + health), ${n} devices`, 'B', [perDevice], devices >= 100_000 ? { target: '< 1,500 B', met: perDevice < 1500 } : {}),
    figure('scale', `memory in total, ${n} devices`, 'MB', [bytes / 1024 / 1024], devices === 100_000 ? { target: '< 300 MB', met: bytes / 1024 / 1024 < 300 } : {}),
  ];
}

/** Memory per device at a fleet size of its own (100,000 in a quick run; 1,000,000 with --million). */
export function memoryFigures(devices: number): Figure[] {
  const { bytes } = populate(devices);
  return memoryOf(devices, bytes);
}

/** Memory for N devices tracked by the registry (with last readings) and health, and the sweep over them. */
export function scaleFigures(devices: number, repeat: number): Figure[] {
  const { tracker, bytes: total, at } = populate(devices);
  // Nobody is silent yet: the sweep's everyday cost. Then every device silent at once: its worst.
  const quiet = millis(repeat, () => { tracker.sweep(at + 1000); });
  // A pass that must visit every device: the next 1 in 1,000 just due (devices were last seen 1 ms
  // apart, i % 1000). As fleet-health takes it, slices of SWEEP_VISITS devices, the longest timed;
  // twice (the first pass is the code's first run, named apart); then in one call (before), for the
  // 1 in 1,000 due a millisecond later each time.
  const dueAt = tracker.get('esp32-c3-full-0')!.silentAfter + 0.5;
  const slicedPass = (t: number): number[] => {
    const xs: number[] = [];
    do xs.push(...millis(1, () => { tracker.sweep(t, Infinity, SWEEP_VISITS); })); while (tracker.sweeping);
    return xs;
  };
  const coldSlices = slicedPass(dueAt);
  const passSlices = slicedPass(dueAt + 1);
  const pass = millis(1, () => { tracker.sweep(dueAt + 2); });
  const summaryHealthy = millis(repeat, () => { tracker.summary(at + 1000); });
  // fleet-health takes an outage in slices of SWEEP_SLICE updates, one per event-loop turn: one slice is what holds the loop.
  const slice = millis(1, () => { tracker.sweep(at + 10 * 60_000, SWEEP_SLICE); });
  const worst = millis(1, () => { tracker.sweep(at + 10 * 60_000); });
  const summaryOffline = millis(repeat, () => { tracker.summary(at + 10 * 60_000); });
  const n = devices.toLocaleString('en-US');
  const held = { target: '≤ 10 ms held', met: false };
  const under = (xs: number[]) => ({ ...held, met: stats(xs).median <= 10 });
  return [
    figure('periodic', `health sweep, ${n} devices, none due (answered by the earliest-due bound)`, 'ms', quiet, under(quiet)),
    figure('periodic', `health sweep, ${n} devices, a full pass (1 in 1,000 just due) in one call, before`, 'ms', pass),
    figure('periodic', `health sweep, ${n} devices, that pass in slices of ${SWEEP_VISITS.toLocaleString('en-US')} devices looked at (${passSlices.length} slices; the first such pass ${Math.max(...coldSlices).toFixed(1)} ms): the longest`, 'ms', [Math.max(...passSlices)], { ...held, met: Math.max(...passSlices) <= 10 }),
    figure('periodic', `health sweep, a slice of ${SWEEP_SLICE.toLocaleString('en-US')} devices falling silent (of ${n}; the most a slice takes, when the last one's cost says it fits the budget; the clock now stops it sooner)`, 'ms', slice),
    figure('periodic', `fleet summary, ${n} devices, all healthy`, 'ms', summaryHealthy, under(summaryHealthy)),
    figure('periodic', `fleet summary, ${n} devices, all offline`, 'ms', summaryOffline, under(summaryOffline)),
    ...memoryOf(devices, total),
    figure('scale', `offline sweep over ${devices.toLocaleString('en-US')} devices, none silent`, 'ms', quiet, { target: '< 20 ms', met: quiet.sort((a, b) => a - b)[Math.floor(quiet.length / 2)] < 20 }),
    figure('scale', `offline sweep over ${devices.toLocaleString('en-US')} devices, all falling silent at once`, 'ms', worst),
  ];
}

interface LocalFsStore {
  open(): Promise<void>;
  close(): Promise<void>;
  set(scope: string, key: string | string[], value: unknown, cb: (err?: Error) => void): void;
  get(scope: string, key: string | string[], cb: (err: Error | null, ...v: unknown[]) => void): void;
  keys(scope: string, cb: (err: Error | null, keys: string[]) => void): void;
}

/** Node-RED's own localfilesystem context store, as settings.js configures it for npm start. */
function localFileStore(dir: string): { kv: KeyValueStore; store: LocalFsStore } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const make = require('@node-red/runtime/lib/nodes/context/localfilesystem') as (c: unknown) => LocalFsStore;
  const store = make({ dir, base: 'context', cache: true, flushInterval: 30 });
  const scope = 'fleetregistry';
  const kv: KeyValueStore = {
    keys: () => new Promise((res, rej) => store.keys(scope, (e, k) => (e ? rej(e) : res(k)))),
    get: (keys) => new Promise((res, rej) => store.get(scope, keys, (e, ...v) => (e ? rej(e) : res(v)))),
    set: (keys, values) => new Promise((res, rej) => store.set(scope, keys, values, (e) => (e ? rej(e) : res()))),
  };
  return { kv, store };
}

export async function persistenceFigures(devices: number): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-ctx-'));
  try {
    const decoder = new Decoder();
    const first = localFileStore(dir);
    await first.store.open();
    const reg = new FleetRegistry(first.kv, { flushMs: 60_000, maxDevices: devices });
    await reg.ready;
    for (let i = 0; i < devices; i++) {
      const r = decoder.decode({ topic: topicFor('esp32.health', { device: `mon-${i}` }), payload: `{"uptime":${i},"free_memory":28000,"wifi_rssi":-60}`, receivedAt: 1_800_000_000_000 + i });
      if (r.ok) reg.record(r.value);
    }
    const t0 = process.hrtime.bigint();
    await reg.persistence!.flush();
    const setMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    await first.store.close();
    const fileMs = Number(process.hrtime.bigint() - t1) / 1e6;
    const bytes = fs.readdirSync(path.join(dir, 'context')).reduce((a, sub) => a + fs.readdirSync(path.join(dir, 'context', sub)).reduce((b, f) => b + fs.statSync(path.join(dir, 'context', sub, f)).size, 0), 0);

    const t2 = process.hrtime.bigint();
    const second = localFileStore(dir);
    await second.store.open();
    const reg2 = new FleetRegistry(second.kv, { flushMs: 60_000, maxDevices: devices });
    const loaded = await reg2.ready;
    const loadMs = Number(process.hrtime.bigint() - t2) / 1e6;
    await second.store.close();
    if (loaded !== devices) throw new Error(`loaded ${loaded} of ${devices}`);
    const n = devices.toLocaleString('en-US');
    return [
      figure('persistence', `registry flush of ${n} changed devices into the context cache, per device`, 'μs', [(setMs * 1000) / devices]),
      figure('persistence', `localfilesystem writing ${n} devices to disk (${(bytes / 1024 / 1024).toFixed(1)} MB)`, 'ms', [fileMs]),
      figure('persistence', `restart: open the store and load ${n} devices`, 'ms', [loadMs]),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Alert routing with a 50-route tree and 10,000 active alerts, against a Map of alerts by fingerprint. */
export function routingFigures(repeat: number): Figure[] {
  const sites = Array.from({ length: 10 }, (_, i) => `site-${i}`);
  const kinds = DEVICE_KINDS.filter((k) => k !== KIND.steelDevice);
  const routes: RouteConfig[] = [];
  for (const site of sites) {
    routes.push({
      matchers: [`site="${site}"`], receiver: 'email', continue: site.endsWith('0'),
      routes: [
        ...kinds.map((k) => ({ matchers: [`kind="${k}"`, 'severity=~"critical|major"'], receiver: 'chat' })),
      ],
    });
  }
  const tree = compileTree({ receiver: 'dashboard', group_by: ['alertname', 'site'], routes }, ['dashboard', 'email', 'chat']);
  if (!tree.ok) throw new Error(tree.reason);
  const count = (r: RouteConfig): number => 1 + (r.routes ?? []).reduce((a, c) => a + count(c), 0);
  const total = count({ routes });
  const alerts = Array.from({ length: 10_000 }, (_, i) => makeAlert({
    name: ['DeviceDegraded', 'DeviceCritical', 'DeviceOffline'][i % 3], severity: (['warning', 'critical', 'major'] as const)[i % 3],
    device: `dev-${i}`, labels: { site: sites[i % 10], kind: kinds[i % 4] }, summary: 's', startsAt: 1_800_000_000_000, source: 'bench',
  }));
  let sink = 0;
  const base = rate(alerts.length, repeat, () => { const m = new Map<string, unknown>(); for (const a of alerts) m.set(a.fingerprint, a); sink += m.size; });
  const d = new AlertDispatcher(tree.value);
  for (const a of alerts) d.receive(a, 1_800_000_000_000);
  const ours = rate(alerts.length, repeat, () => { for (const a of alerts) sink += d.receive(a, 1_800_000_000_001).length; });
  const groups = d.groupCount;
  const flushMs = millis(1, () => { sink += d.flush(1_800_000_100_000).length; });
  // The cost of RE2 (re2js) for user regexes: the same tree with JavaScript's RegExp in its place.
  const jsTree = withJsRegExp(tree.value);
  const dJs = new AlertDispatcher(jsTree);
  for (const a of alerts) dJs.receive(a, 1_800_000_000_000);
  const jsRouting = rate(alerts.length, repeat, () => { for (const a of alerts) sink += dJs.receive(a, 1_800_000_000_001).length; });
  const matchOnly = rate(alerts.length, repeat, () => { for (const a of alerts) sink += matchRoutes(tree.value, a.labels).length; });
  const matchOnlyJs = rate(alerts.length, repeat, () => { for (const a of alerts) sink += matchRoutes(jsTree, a.labels).length; });
  // A regex that is not a list of values goes through RE2's engine itself.
  const re2 = compileMatcher({ name: 'site', op: '=~', value: '(?i)SITE-[0-4].*' });
  if (!re2.ok) throw new Error(re2.reason);
  const js = /^(?:site-[0-4].*)$/i;
  const oneRe2 = rate(alerts.length, repeat * 4, () => { for (const a of alerts) sink += re2.value.test(a.labels) ? 1 : 0; });
  const oneJs = rate(alerts.length, repeat * 4, () => { for (const a of alerts) sink += js.test(a.labels.site ?? '') ? 1 : 0; });
  if (sink < 0) console.log(sink);
  const b = figure('alerts', 'baseline: alerts into a Map by fingerprint', 'alerts/s', base);
  const rj = figure('alerts', 'baseline: one regex matcher, JavaScript RegExp', 'matches/s', oneJs);
  const r2 = figure('alerts', 'one regex matcher, RE2 (re2js): site=~"(?i)SITE-[0-4].*"', 'matches/s', oneRe2);
  const o = figure('alerts', `routing: ${total}-route tree, 10,000 active alerts, grouped`, 'alerts/s', ours);
  const j = figure('alerts', 'baseline: the same routing with JavaScript RegExp (not linear-time)', 'alerts/s', jsRouting);
  const mo = figure('alerts', `matchRoutes only (RE2): ${total}-route tree`, 'alerts/s', matchOnly);
  const mj = figure('alerts', 'baseline: matchRoutes only with JavaScript RegExp', 'alerts/s', matchOnlyJs);
  return [
    b, { ...o, ratio: { to: 'Map baseline', value: o.median / b.median } }, j, { ...o, name: `${o.name} (RE2 vs RegExp)`, ratio: { to: 'RegExp routing', value: o.median / j.median } },
    mj, { ...mo, ratio: { to: 'RegExp matchRoutes', value: mo.median / mj.median } },
    rj, { ...r2, ratio: { to: 'RegExp matcher', value: r2.median / rj.median } },
    figure('alerts', `first flush: ${groups} groups holding 10,000 alerts`, 'ms', flushMs),
    ...outageFigures(32_000, repeat), ...outageFigures(100_000, Math.min(repeat, 3)), ...journalFigures(repeat),
  ];
}


/** The tree with every regex matcher answered by JavaScript's RegExp: the baseline re2js is measured against. */
function withJsRegExp(r: Route): Route {
  const matchers = r.matchers.map((m) => {
    if (m.op !== '=~' && m.op !== '!~') return m;
    const re = new RegExp(`^(?:${m.value})$`);
    const want = m.op === '=~';
    return { ...m, test: (l: Readonly<Record<string, string>>) => re.test(Object.hasOwn(l, m.name) ? l[m.name] : '') === want };
  });
  return { ...r, matchers, routes: r.routes.map(withJsRegExp) };
}

/**
 * A mass outage: `n` DeviceOffline alerts over 100 sites, BrokerDown at half of them inhibiting
 * their sites' device alerts (equal: site). The first flush was quadratic before the inhibition index.
 */
function outageAlerts(n: number) {
  const T = 1_800_000_000_000;
  const brokers = Array.from({ length: 50 }, (_, i) => makeAlert({ name: 'BrokerDown', severity: 'critical', device: null, labels: { site: `site-${i * 2}` }, summary: 'broker down', startsAt: T, source: 'bench' }));
  const offline = Array.from({ length: n }, (_, i) => makeAlert({ name: 'DeviceOffline', severity: 'major', device: `dev-${i}`, labels: { site: `site-${i % 100}`, kind: KIND.envSensor }, summary: `dev-${i} offline`, startsAt: T, source: 'bench' }));
  return { T, alerts: [...brokers, ...offline] };
}

function outageDispatcher(): AlertDispatcher {
  const tree = compileTree({ receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '30s', routes: [{ matchers: ['severity="critical"'], receiver: 'chat', continue: true }] }, ['dashboard', 'chat']);
  if (!tree.ok) throw new Error(tree.reason);
  const rules = compileMatcherList(['alertname="BrokerDown"']);
  const targets = compileMatcherList(['alertname="DeviceOffline"']);
  if (!rules.ok || !targets.ok) throw new Error('matchers');
  return new AlertDispatcher(tree.value, [{ source: rules.value, target: targets.value, equal: ['site'] }]);
}

export function outageFigures(n: number, repeat: number): Figure[] {
  const { T, alerts } = outageAlerts(n);
  const flush: number[] = [];
  const receive: number[] = [];
  let sent = 0;
  for (let r = 0; r < repeat; r++) {
    const d = outageDispatcher();
    receive.push(...millis(1, () => { for (const a of alerts) d.receive(a, T); }));
    flush.push(...millis(1, () => { sent = d.flush(T + 30_000).length; }));
  }
  const label = n.toLocaleString('en-US');
  return [
    figure('alerts', `outage: receive ${label} DeviceOffline alerts (50 of 100 sites inhibited)`, 'ms', receive),
    figure('alerts', `outage: first flush of ${label} alerts with inhibition (${sent} notifications)`, 'ms', flush, { target: '< 1000 ms', met: stats(flush).median < 1000 }),
  ];
}

/** What durability costs: a commit (append + fdatasync) of one alert's records, and of a whole outage's first flush. */
export function journalFigures(repeat: number): Figure[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-alert-journal-'));
  try {
    const { T, alerts } = outageAlerts(32_000);
    const store = AlertStore.open(path.join(dir, 'alerts.jsonl'));
    const d = outageDispatcher();
    store.load(d, T);
    const one: number[] = [];
    for (let i = 0; i < 50 * repeat; i++) {
      d.receive(alerts[i], T);
      one.push(...millis(1, () => store.commit(d, T)));
    }
    for (const a of alerts) d.receive(a, T);
    const bulk = millis(1, () => store.commit(d, T));
    const due = d.flush(T + 30_000);
    const flush = millis(1, () => store.commit(d, T + 30_000, due));
    const bytes = fs.statSync(store.file).size;
    store.close();
    const reopen = millis(1, () => { const s = AlertStore.open(path.join(dir, 'alerts.jsonl')); s.load(outageDispatcher(), T + 31_000); s.close(); });
    return [
      figure('alerts', 'journal: commit of one new alert (append + fdatasync)', 'ms', one),
      figure('alerts', `journal: commit of 32,000 new alerts in one batch`, 'ms', bulk),
      figure('alerts', `journal: commit of the outage's first flush (${due.length} notifications into the outbox)`, 'ms', flush),
      figure('alerts', `journal: file after the outage`, 'MB', [bytes / 1e6]),
      figure('alerts', 'journal: restart, open and load 32,000 alerts', 'ms', reopen),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
