import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';

import decodeNode = require('../../nodes/fleet-decode/fleet-decode');
import healthNode = require('../../nodes/fleet-health/fleet-health');
import registryNode = require('../../nodes/fleet-registry/fleet-registry');
import type { FleetRegistryNode } from '../../nodes/shared/registry-node';

import { collect } from '../support/collect';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

const until = <T>(what: string, probe: () => T | undefined | null | false, ms = 6000): Promise<T> => waitFor(what, probe, ms, 20);

type Payload = Record<string, unknown>;

function flow(health: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'reg', type: 'fleet-registry', persist: false, flushMs: 1000 },
    { id: 'dec', type: 'fleet-decode', z: 'f1', registry: 'reg', wires: [['hl'], ['hl']] },
    { id: 'hl', type: 'fleet-health', z: 'f1', registry: 'reg', sweepS: 1, summaryS: 0, wires: [['changes'], ['alerts'], ['summary']], ...health },
    { id: 'changes', type: 'helper', z: 'f1' },
    { id: 'alerts', type: 'helper', z: 'f1' },
    { id: 'summary', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

const hb = (heap: number) => ({ topic: 'esp32c3/full/dev-1/heartbeat', payload: JSON.stringify({ uptime: 100, free_heap: heap, wifi_rssi: -50 }) });

describe('fleet-health node (in Node-RED through the test helper)', function () {
  afterEach(async () => { await helper.unload(); });

  it('turns low heap into a state change and a DeviceDegraded alert, and recovery into the resolve', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    const changes = collect(helper.getNode('changes'));
    const alerts = collect(helper.getNode('alerts'));
    const dec = helper.getNode('dec');
    dec.receive(hb(40000) as never);
    dec.receive(hb(4000) as never);
    dec.receive(hb(4000) as never);
    await until('degraded', () => changes.find((m) => (m.payload as Payload).state === 'degraded'));
    const change = changes.find((m) => (m.payload as Payload).state === 'degraded')!.payload as Payload;
    assert.equal(change.previous, 'healthy');
    assert.equal(change.device, 'dev-1');
    assert.equal(change.score, 80);
    const heap = (change.factors as Payload[]).find((f) => f.factor === 'heap')!;
    assert.deepEqual([heap.status, heap.cost], ['warning', 20]);
    assert.deepEqual(Object.keys(change.config as Payload).sort(), ['hash', 'version']);
    const firing = alerts.map((m) => m.payload as Payload).find((a) => a.status === 'firing')!;
    assert.equal(firing.name, 'DeviceDegraded');
    assert.equal(firing.severity, 'warning');
    assert.equal((firing.labels as Payload).kind, 'env-sensor');
    assert.equal((firing.labels as Payload).arch, 'full');

    dec.receive(hb(40000) as never);
    dec.receive(hb(40000) as never);
    const resolved = await until('resolve', () => alerts.map((m) => m.payload as Payload).find((a) => a.status === 'resolved'));
    assert.equal(resolved.fingerprint, firing.fingerprint);
    assert.equal(typeof resolved.endsAt, 'string');
    const reg = helper.getNode('reg') as FleetRegistryNode;
    assert.equal((reg.fleet.get('dev-1')!.health as Payload).state, 'healthy', 'the registry keeps the health record');
  });

  it('detects offline on its timer, without any message, and marks the registry', async () => {
    const scoring = JSON.stringify({ silence: { multiple: 2, intervals: { 'env-sensor': 0.5 } } });
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow({ scoring }));
    const alerts = collect(helper.getNode('alerts'));
    helper.getNode('dec').receive(hb(40000) as never);
    const offline = await until('offline alert', () => alerts.map((m) => m.payload as Payload).find((a) => a.name === 'DeviceOffline'), 4000);
    assert.equal(offline.severity, 'major');
    assert.match(String(offline.summary), /no message for/);
    const reg = helper.getNode('reg') as FleetRegistryNode;
    assert.equal(reg.fleet.get('dev-1')!.online, false);
  });

  it('counts fleet-decode rejects against the device', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow({ scoring: JSON.stringify({ hysteresis: { raiseAfter: 1 } }) }));
    const changes = collect(helper.getNode('changes'));
    const dec = helper.getNode('dec');
    dec.receive(hb(40000) as never);
    dec.receive({ topic: 'esp32c3/full/dev-1/sensor', payload: '{"temperature":97,"humidity":10,"pressure":1000}' } as never);
    const c = await until('degraded by a reject', () => changes.find((m) => (m.payload as Payload).state === 'degraded'));
    const f = ((c.payload as Payload).factors as Payload[]).find((x) => x.factor === 'invalid-readings')!;
    assert.equal(f.value, 1);
  });

  it('takes msg.thresholds for one message', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow({ scoring: JSON.stringify({ hysteresis: { raiseAfter: 1 } }) }));
    const changes = collect(helper.getNode('changes'));
    const hl = helper.getNode('hl');
    const msg = (heap: number, thresholds?: unknown) => ({ kind: 'heartbeat', device: { id: 'a-1', kind: 'env-sensor' }, payload: { uptime: 5, free_heap: heap }, thresholds });
    hl.receive(msg(8000) as never);
    hl.receive(msg(8000, { factors: { heap: { warn: 10000, crit: 6000 } } }) as never);
    const c = await until('degraded by the override', () => changes.find((m) => (m.payload as Payload).state === 'degraded'));
    assert.equal((c.payload as Payload).device, 'a-1');
  });

  it('sends the fleet summary on request', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    const summary = collect(helper.getNode('summary'));
    const changes = collect(helper.getNode('changes'));
    helper.getNode('dec').receive(hb(40000) as never);
    await until('the device scored', () => changes.length === 1);
    helper.getNode('hl').receive({ command: 'summary' } as never);
    const s = (await until('summary', () => summary[0])).payload as Payload;
    assert.equal(s.total, 1);
    assert.equal((s.byState as Payload).healthy, 1);
  });

  it('raises a catchable error for input it cannot score, and bad thresholds, and keeps going', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    const caught = collect(helper.getNode('caught'));
    const hl = helper.getNode('hl');
    hl.receive({ payload: 'hello' } as never);
    hl.receive({ kind: 'heartbeat', device: { id: 'a' }, payload: {}, thresholds: { factors: { heap: { warn: 'x' } } } } as never);
    await until('two errors', () => caught.length === 2);
    assert.match(String((caught[0].error as Payload).message), /expected a message from fleet-decode/);
    assert.match(String((caught[1].error as Payload).message), /msg.thresholds factors.heap/);
    const changes = collect(helper.getNode('changes'));
    hl.receive({ kind: 'heartbeat', device: { id: 'a', kind: 'env-sensor' }, payload: { uptime: 1, free_heap: 40000 } } as never);
    await until('still scoring', () => changes.length === 1);
  });

  it('refuses a bad scoring configuration at deploy, naming the field', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow({ scoring: JSON.stringify({ factors: { heap: { warn: 100, crit: 900 } } }) }));
    const caught = collect(helper.getNode('caught'));
    helper.getNode('hl').receive({ kind: 'heartbeat', device: { id: 'a' }, payload: {} } as never);
    await until('error', () => caught.length === 1);
    assert.match(String((caught[0].error as Payload).message), /factors\.heap/);
  });
});

describe('fleet-health: durable state and the device cap (issue 9)', function () {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-state-test-')); process.env.FLEET_STATE_DIR = dir; });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('journals the state before sending it: after a reload the firing alert resolves once, with its identity, and is not fired again', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    let alerts = collect(helper.getNode('alerts'));
    let dec = helper.getNode('dec');
    dec.receive(hb(40000) as never);
    dec.receive(hb(4000) as never);
    dec.receive(hb(4000) as never);
    const firing = (await until('firing', () => alerts.find((m) => (m.payload as Payload).status === 'firing'))).payload as Payload;
    const journal = path.join(dir, 'fleet-health-hl.jsonl');
    assert.ok(fs.existsSync(journal), `journal at ${journal}`);
    assert.match(fs.readFileSync(journal, 'utf8'), /"state":"degraded"/, 'committed by the time it was sent');
    await helper.unload();

    // The registry does not persist here: what comes back comes from the journal.
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    alerts = collect(helper.getNode('alerts'));
    const changes = collect(helper.getNode('changes'));
    dec = helper.getNode('dec');
    dec.receive(hb(4000) as never);
    dec.receive(hb(40000) as never);
    dec.receive(hb(40000) as never);
    const resolved = (await until('resolve', () => alerts.find((m) => (m.payload as Payload).status === 'resolved'))).payload as Payload;
    assert.equal(resolved.fingerprint, firing.fingerprint);
    assert.equal(resolved.startsAt, firing.startsAt);
    assert.deepEqual(alerts.map((m) => (m.payload as Payload).status), ['resolved'], 'nothing fired again after the reload');
    assert.deepEqual(changes.map((m) => `${(m.payload as Payload).previous}→${(m.payload as Payload).state}`), ['degraded→healthy']);
  });

  it('caps the devices: a RegistryFull alert on output 2, new ids beyond the cap not scored, the count in the status', async () => {
    const f = flow().map((n) => (n.id === 'reg' ? { ...n, maxDevices: 2 } : n));
    await helper.load([registryNode, decodeNode, healthNode, catchNode], f);
    const alerts = collect(helper.getNode('alerts'));
    const changes = collect(helper.getNode('changes'));
    const statuses: Array<{ text?: string }> = [];
    (helper.getNode('hl') as unknown as NodeJS.EventEmitter).on('call:status', (call: { args: Array<{ text?: string }> }) => statuses.push(call.args[0]));
    const dec = helper.getNode('dec');
    for (const id of ['d-1', 'd-2', 'd-3', 'd-4']) dec.receive({ topic: `esp32c3/full/${id}/heartbeat`, payload: JSON.stringify({ uptime: 1, free_heap: 40000 }) } as never);
    const full = (await until('RegistryFull', () => alerts.find((m) => (m.payload as Payload).name === 'RegistryFull'))).payload as Payload;
    assert.equal(full.status, 'firing');
    await until('two devices scored', () => changes.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(changes.map((m) => (m.payload as Payload).device).sort(), ['d-1', 'd-2']);
    assert.equal(alerts.filter((m) => (m.payload as Payload).name === 'RegistryFull').length, 1, 'fired once');
    const reg = helper.getNode('reg') as FleetRegistryNode;
    assert.equal(reg.fleet.refused, 2);
    await until(`status with the refused count (${JSON.stringify(statuses)})`, () => statuses.some((st) => /refused/.test(st.text ?? '') && (st as { shape?: string }).shape === 'ring'), 3000);
  });
});

describe('fleet-health admin endpoints', function () {
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  it('serves the defaults and checks a configuration with the runtime\'s parser', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    const defaults = await helper.request().get('/fleet-health/defaults').expect(200);
    assert.equal(defaults.body.factors.heap.warn, 5000);
    const good = await helper.request().post('/fleet-health/validate').send({ scoring: defaults.body }).expect(200);
    assert.deepEqual(good.body, { ok: true });
    const bad = await helper.request().post('/fleet-health/validate').send({ scoring: { silence: { multiple: -1 } } }).expect(200);
    assert.equal(bad.body.field, 'silence.multiple');
  });

  it('answers a request that is not a configuration with 400 and the field, never 500', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    for (const body of ['[1,2]', '{"other":1}']) {
      const r = await helper.request().post('/fleet-health/validate').set('content-type', 'application/json').send(body);
      assert.equal(r.status, 400, body);
      assert.equal(r.body.field, 'scoring');
    }
    // Refused by the admin API's strict JSON parser before the route: still a 400 naming the field, no stack trace.
    for (const body of ['"text"', 'null', '{bad']) {
      const r = await helper.request().post('/fleet-health/validate').set('content-type', 'application/json').send(body);
      assert.equal(r.status, 400, body);
      assert.equal(r.body.field, 'scoring', body);
      assert.match(r.body.reason, /not JSON/);
    }
    const none = await helper.request().post('/fleet-health/validate').expect(400);
    assert.equal(none.body.ok, false);
    const direction = await helper.request().post('/fleet-health/validate').send({ scoring: { factors: { heap: { direction: 5, label: {} } } } }).expect(200);
    assert.equal(direction.body.field, 'factors.heap');
    const huge = await helper.request().post('/fleet-health/validate').send({ scoring: 'x'.repeat(70 * 1024) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.field, 'scoring');
  });

  it('the registry device list: 400 naming a bad parameter, and the cap and refused count in the answer', async () => {
    await helper.load([registryNode, decodeNode, healthNode, catchNode], flow());
    helper.getNode('dec').receive(hb(40000) as never);
    const ok = await helper.request().get('/fleet-registry/reg/devices?limit=10').expect(200);
    assert.deepEqual([ok.body.count, ok.body.maxDevices, ok.body.refused, ok.body.full], [1, 10_000, 0, false]);
    for (const [query, field] of [['limit=abc', 'limit'], ['limit=-1', 'limit'], ['limit=1.5', 'limit'], ['q=a&q=b', 'q'], [`q=${'x'.repeat(65)}`, 'q'], ['q[a]=1', 'q']] as const) {
      const r = await helper.request().get(`/fleet-registry/reg/devices?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.field, field, query);
    }
    await helper.request().get('/fleet-registry/nope/devices').expect(404);
  });
});
