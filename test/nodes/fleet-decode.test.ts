import assert from 'node:assert/strict';

import helper from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';

import decodeNode = require('../../nodes/fleet-decode/fleet-decode');
import registryNode = require('../../nodes/fleet-registry/fleet-registry');
import type { FleetRegistryNode } from '../../nodes/shared/registry-node';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

type Msg = NodeMessage & Record<string, unknown>;

/** Resolves with the next message a helper node receives. */
function next(node: Node, timeoutMs = 2000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: Msg) => { clearTimeout(t); resolve(msg); });
  });
}

function flow(decodeProps: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'reg', type: 'fleet-registry', name: 'fleet', persist: false, flushMs: 1000 },
    { id: 'dec', type: 'fleet-decode', z: 'f1', name: 'decode', registry: 'reg', wires: [['ok'], ['bad']], ...decodeProps },
    { id: 'ok', type: 'helper', z: 'f1' },
    { id: 'bad', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

describe('fleet-decode node (in Node-RED through the test helper)', function () {
  afterEach(async () => {
    await helper.unload();
  });

  it('sends a decoded reading on output 1 and records the device in the registry', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const dec = helper.getNode('dec');
    const got = next(helper.getNode('ok'));
    dec.receive({ topic: 'esp32c3/full/esp32-c3-003/sensor', payload: Buffer.from('{"temperature":22.45,"humidity":65.2,"pressure":1013.25,"timestamp":1633024800,"reading_count":123}'), _msgid: 'm1' } as never);
    const msg = await got;
    assert.equal(msg.kind, 'sensor');
    assert.equal(msg.topic, 'esp32c3/full/esp32-c3-003/sensor');
    assert.equal(msg._msgid, 'm1', 'reuses the incoming msg');
    assert.deepEqual(msg.payload, { temperature: 22.45, humidity: 65.2, pressure: 1013.25, reading_count: 123, timestamp: 1633024800000, time_source: 'device' });
    const device = msg.device as Record<string, unknown>;
    assert.deepEqual([device.id, device.kind, device.arch, device.online], ['esp32-c3-003', 'env-sensor', 'full', true]);
    assert.deepEqual(msg.contract, { version: 1, route: 'esp32c3.sensor', profile: 'standard', direction: 'up', target: null });
    const reg = helper.getNode('reg') as FleetRegistryNode;
    assert.equal(reg.fleet.get('esp32-c3-003')?.last.sensor?.temperature, 22.45);
  });

  it('passes our own commands on decoded, without marking their device seen in the registry', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const dec = helper.getNode('dec');
    const got = next(helper.getNode('ok'));
    dec.receive({ topic: 'ota/cancel/esp32-c3-009', payload: Buffer.from('{"job_id":"rollout-7-wave-1","v":1}') } as never);
    const msg = await got;
    assert.equal((msg.contract as { direction: string }).direction, 'down');
    const reg = helper.getNode('reg') as FleetRegistryNode;
    assert.equal(reg.fleet.get('esp32-c3-009'), undefined, 'a command to a device is no sign of life from it');
  });

  it('sends a reject naming the failing field on output 2, and keeps working', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const dec = helper.getNode('dec');
    const bad = next(helper.getNode('bad'));
    dec.receive({ topic: 'esp32c3/full/dev-1/sensor', payload: '{"temperature":97.5,"humidity":50,"pressure":1000}' } as never);
    const msg = await bad;
    assert.deepEqual(msg.error, { code: 'schema', topic: 'esp32c3/full/dev-1/sensor', path: '/temperature', reason: 'must be <= 85', device: 'dev-1' });

    const good = next(helper.getNode('ok'));
    for (const payload of [Buffer.from([0xff, 0xfe]), '{"x":', '[]', 'x'.repeat(20000)]) dec.receive({ topic: 'esp32c3/full/dev-1/sensor', payload } as never);
    dec.receive({ topic: 'esp32c3/full/dev+1/sensor', payload: '{}' } as never);
    dec.receive({ topic: 'esp32c3/full/dev-1/sensor', payload: '{"temperature":20,"humidity":50,"pressure":1000}' } as never);
    assert.equal(((await good).payload as Record<string, number>).temperature, 20);
  });

  it('raises rejects as catchable errors when configured, with the structured reject', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow({ rejects: 'error' }));
    const dec = helper.getNode('dec');
    let onOutput2 = false;
    helper.getNode('bad').on('input', () => { onOutput2 = true; });
    const caught = next(helper.getNode('caught'));
    dec.receive({ topic: 'esp32/dev-1/health', payload: '{"uptime":1,"free_memory":"lots","wifi_rssi":-50}' } as never);
    const msg = await caught;
    const error = msg.error as Record<string, unknown>;
    assert.equal(error.code, 'schema');
    assert.match(String(error.message), /\/free_memory/);
    assert.deepEqual(msg._error, { code: 'schema', topic: 'esp32/dev-1/health', path: '/free_memory', reason: 'must be integer', device: 'dev-1' });
    assert.equal(onOutput2, false);
  });

  it('sends rejects both ways when configured so', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow({ rejects: 'both' }));
    const both = Promise.all([next(helper.getNode('bad')), next(helper.getNode('caught'))]);
    helper.getNode('dec').receive({ topic: 'nowhere/at/all/x', payload: '{}' } as never);
    const [out, caught] = await both;
    assert.equal((out.error as Record<string, unknown>).code, 'unknown-topic');
    assert.equal((caught.error as Record<string, unknown>).code, 'unknown-topic');
  });

  it('shows decoded and rejected counts in its status', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const dec = helper.getNode('dec');
    const statuses: Array<{ text?: string; fill?: string }> = [];
    (dec as unknown as { on(e: string, f: (c: { args: unknown[] }) => void): void }).on('call:status', (call) => statuses.push(call.args[0] as { text?: string }));
    dec.receive({ topic: 'esp32/dev-1/health', payload: '{"uptime":1,"free_memory":9000,"wifi_rssi":-50}' } as never);
    await new Promise((r) => setTimeout(r, 1200));
    dec.receive({ topic: 'esp32/dev-1/health', payload: 'nope' } as never);
    await new Promise((r) => setTimeout(r, 1200));
    const last = statuses[statuses.length - 1];
    // The test helper's RED._ returns the key; the runtime fills in the counts.
    assert.equal(last.text, 'fleet-decode.status.counts');
    assert.equal(last.fill, 'yellow');
    assert.ok(statuses.length <= 4, `status updated ${statuses.length} times for 2 messages`);
  });

  it('refuses a bad configuration at deploy and names the field', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow({ prefixMap: '{"esp32": 5}' }));
    const dec = helper.getNode('dec');
    const caught = next(helper.getNode('caught'));
    dec.receive({ topic: 'esp32/dev-1/health', payload: '{}' } as never);
    const msg = await caught;
    assert.match(String((msg.error as Record<string, unknown>).message), /prefixMap/);
  });

  it('takes the device id from msg.deviceId for a console line', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const got = next(helper.getNode('ok'));
    helper.getNode('dec').receive({ payload: '[PERF] Memory: Heap=46KB, Stack=8KB, Flash=280KB', deviceId: 'esp32-c3-003' } as never);
    const msg = await got;
    assert.equal(msg.kind, 'console');
    assert.equal((msg.device as Record<string, unknown>).id, 'esp32-c3-003');
    assert.equal((msg.payload as Record<string, unknown>).heap_bytes, 47104);
  });
});

describe('fleet-registry admin endpoint', function () {
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  it('lists the devices a deployed registry holds, filtered and limited', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const dec = helper.getNode('dec');
    for (const id of ['b-2', 'a-1', 'c-3']) dec.receive({ topic: `esp32/${id}/health`, payload: '{"uptime":1,"free_memory":9000,"wifi_rssi":-50}' } as never);
    await new Promise((r) => setTimeout(r, 50));
    const res = await helper.request().get('/fleet-registry/reg/devices').expect(200);
    assert.equal(res.body.count, 3);
    assert.deepEqual(res.body.devices.map((d: { id: string }) => d.id), ['a-1', 'b-2', 'c-3']);
    assert.equal(res.body.devices[0].kind, 'env-monitor');
    const filtered = await helper.request().get('/fleet-registry/reg/devices?q=c-&limit=1').expect(200);
    assert.deepEqual(filtered.body.devices.map((d: { id: string }) => d.id), ['c-3']);
  });

  it('answers 404 for an id that is not a deployed registry', async () => {
    await helper.load([registryNode, decodeNode, catchNode], flow());
    const res = await helper.request().get('/fleet-registry/dec/devices').expect(404);
    assert.equal(res.body.error, 'not-deployed');
  });
});
