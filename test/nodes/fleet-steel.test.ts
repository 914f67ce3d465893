import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';

import { buildLoadMessage, steelChecksum } from '../../firmware/contract/steel';
import { SteelDevice } from '../../firmware/simulator/steel-device';
import steelNode = require('../../nodes/fleet-steel/fleet-steel');
import registryNode = require('../../nodes/fleet-registry/fleet-registry');
import { GUIDE_SENSOR_MONITORING } from '../unit/steel-fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

type Msg = NodeMessage & Record<string, unknown>;

/** Every message a helper node receives, in order. */
function record(node: Node): Msg[] {
  const got: Msg[] = [];
  node.on('input', (m: Msg) => { got.push(m); });
  return got;
}

function next(node: Node, timeoutMs = 3000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: Msg) => { clearTimeout(t); resolve(msg); });
  });
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

function flow(props: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'reg', type: 'fleet-registry', name: 'fleet', persist: false, flushMs: 1000 },
    {
      id: 'st', type: 'fleet-steel', z: 'f1', registry: 'reg', programId: 'sensor-monitor', version: '1.0.0', sourceFrom: 'editor',
      source: GUIDE_SENSOR_MONITORING, action: 'load', targetType: 'device', target: 'steel-001', autoStart: true, timeoutS: 30, successTarget: 95,
      profile: 'default', configVersion: 1, wires: [['pub'], ['res'], ['sum'], ['alert']], ...props,
    },
    { id: 'pub', type: 'helper', z: 'f1' },
    { id: 'res', type: 'helper', z: 'f1' },
    { id: 'sum', type: 'helper', z: 'f1' },
    { id: 'alert', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

describe('fleet-steel node (in Node-RED through the test helper)', function () {
  let stateDir: string;
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-steel-test-'));
    process.env.FLEET_STATE_DIR = stateDir;
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  for (const [what, source, where, rule] of [
    ['an unknown function', '(define (report)\n  (led-of))\n(report)\n', '2:4', 'unknown-function'],
    ['a missing paren', '(define (report)\n  (led-on)\n(report)\n', '1:1', 'syntax'],
  ] as const) {
    it(`refuses a program with ${what} with line:column before anything is published`, async () => {
      await helper.load([registryNode, steelNode, catchNode], flow({ sourceFrom: 'payload' }));
      const st = helper.getNode('st');
      const published = record(helper.getNode('pub'));
      const statuses: Array<Record<string, unknown>> = [];
      const show = st.status.bind(st);
      (st as unknown as { status(s: Record<string, unknown>): void }).status = (s) => { statuses.push(s); show(s); };
      const caught = next(helper.getNode('caught'));
      st.receive({ payload: source } as never);
      const msg = await caught;
      const error = msg.error as { message: string };
      assert.match(error.message, new RegExp(`rejected, nothing sent: .*${where}: error: ${rule}:`));
      await settle();
      assert.equal(published.length, 0);
      const last = statuses[statuses.length - 1];
      assert.equal(last.fill, 'red');
      // The test helper loads no message catalog, so the text is its key; the fill says refused.
      assert.match(String(last.text), /rejected/);
      // The node keeps working: the guide's program goes out next.
      const out = next(helper.getNode('pub'));
      st.receive({ payload: GUIDE_SENSOR_MONITORING } as never);
      assert.equal((await out).topic, 'steel-programs/steel-001/load');
    });
  }

  it('publishes exactly the device\'s load message, tracks the answer, and does not re-send a version the device runs', async () => {
    await helper.load([registryNode, steelNode, catchNode], flow());
    const st = helper.getNode('st');
    const pubOut = next(helper.getNode('pub'));
    const sumOut = next(helper.getNode('sum'));
    st.receive({ payload: 'go' } as never);
    const pub = await pubOut;
    assert.equal(pub.topic, 'steel-programs/steel-001/load');
    assert.equal(pub.qos, 1);
    const sent = JSON.parse(pub.payload as string) as Record<string, unknown>;
    const meta = sent.metadata as { created_at: string };
    assert.deepEqual(sent, JSON.parse(JSON.stringify(buildLoadMessage({ programId: 'sensor-monitor', steelCode: GUIDE_SENSOR_MONITORING, version: '1.0.0', autoStart: true, metadata: { createdAt: meta.created_at, executionTimeout: 30 } }))));
    assert.equal(sent.checksum, steelChecksum(GUIDE_SENSOR_MONITORING));
    const first = await sumOut;
    assert.deepEqual(first.sentTo, ['steel-001']);

    // The simulated device answers; its status report comes back in as mqtt in would deliver it.
    const device = new SteelDevice({ id: 'steel-001' });
    const answers = device.handle(pub.topic as string, pub.payload as string, Date.now());
    const resOut = next(helper.getNode('res'));
    const sumOut2 = next(helper.getNode('sum'));
    st.receive({ topic: answers[0].topic, payload: Buffer.from(answers[0].payload) } as never);
    const res = (await resOut).payload as Record<string, unknown>;
    assert.deepEqual([res.device, res.programId, res.outcome, res.status], ['steel-001', 'sensor-monitor', 'success', 'Completed']);
    const sum = (await sumOut2).payload as Record<string, unknown>;
    assert.deepEqual([sum.succeeded, sum.successRate, sum.meetsTarget, sum.pending], [1, 1, true, 0]);

    const published = record(helper.getNode('pub'));
    const again = next(helper.getNode('sum'));
    st.receive({ payload: 'again' } as never);
    assert.deepEqual((await again).skipped, ['steel-001']);
    await settle();
    assert.equal(published.length, 0, 're-send suppressed');
    const forced = next(helper.getNode('pub'));
    st.receive({ payload: 'force', force: true } as never);
    assert.equal((await forced).topic, 'steel-programs/steel-001/load');
  });

  it('takes targets and action from msg, and raises an alert for a failed execution', async () => {
    await helper.load([registryNode, steelNode, catchNode], flow({ targetType: 'msg', target: '' }));
    const st = helper.getNode('st');
    const pubs = record(helper.getNode('pub'));
    st.receive({ targets: ['steel-001', 'steel-002'], payload: 'go' } as never);
    await settle();
    assert.deepEqual(pubs.map((p) => p.topic), ['steel-programs/steel-001/load', 'steel-programs/steel-002/load']);
    const exec = next(helper.getNode('pub'));
    st.receive({ targets: 'steel-002', action: 'execute' } as never);
    const e = await exec;
    assert.equal(e.topic, 'steel-programs/steel-002/execute');
    assert.deepEqual(JSON.parse(e.payload as string), { program_id: 'sensor-monitor', action: 'Execute', parameters: null, timeout_seconds: null });
    const alertOut = next(helper.getNode('alert'));
    st.receive({ topic: 'steel-programs/steel-002/result', payload: { program_id: 'sensor-monitor', success: false, result: null, error: 'free identifier: x', execution_time_ms: 3, timestamp: new Date().toISOString() } } as never);
    const alert = (await alertOut).payload as Record<string, unknown>;
    assert.deepEqual([alert.name, alert.status, alert.device, alert.severity], ['SteelProgramFailed', 'firing', 'steel-002', 'warning']);
    const caught = next(helper.getNode('caught'));
    st.receive({ targets: 'loader-7' } as never);
    assert.match(((await caught).error as { message: string }).message, /msg\.targets: device id starts with "load"/);
  });

  it('checks a program through its admin endpoint, with field errors for a bad request', async () => {
    await helper.load([registryNode, steelNode, catchNode], flow());
    const ok = await helper.request().post('/fleet-steel/check').send({ source: '(led-of)' }).expect(200);
    const body = ok.body as { ok: boolean; findings: Array<{ line: number; col: number; rule: string }> };
    assert.equal(body.ok, false);
    assert.deepEqual(body.findings.map((f) => [f.line, f.col, f.rule]), [[1, 2, 'unknown-function']]);
    const bad = await helper.request().post('/fleet-steel/check').send({ source: 3, profile: 'nope' }).expect(400);
    assert.deepEqual((bad.body as { errors: Array<{ field: string }> }).errors.map((e) => e.field), ['source', 'profile']);
    await helper.request().post('/fleet-steel/check').set('content-type', 'application/json').send('{"source": ').expect(400);
  });
});
