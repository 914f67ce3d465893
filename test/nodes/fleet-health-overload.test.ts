/**
 * fleet-health in Node-RED under a backlog (issue 16): readings that wait behind a stalled event loop
 * are coalesced to the latest per device, a last will in the same backlog is still scored, every input
 * is completed (a Complete node counts them all), and the fleet summary reports what was coalesced.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';

import healthNode = require('../../nodes/fleet-health/fleet-health');

import { collect } from '../support/collect';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

type Payload = Record<string, unknown>;

function flow(health: Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'hl', type: 'fleet-health', z: 'f1', sweepS: 60, summaryS: 0, wires: [['changes'], ['alerts'], ['summary']], ...health },
    { id: 'changes', type: 'helper', z: 'f1' },
    { id: 'alerts', type: 'helper', z: 'f1' },
    { id: 'summary', type: 'helper', z: 'f1' },
    { id: 'done', type: 'complete', z: 'f1', scope: ['hl'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 'f1' },
  ];
}

const heartbeat = (id: string, heap: number) => ({ kind: 'heartbeat', device: { id, kind: 'env-sensor' }, payload: { uptime: 100, free_heap: heap } });
const will = (id: string) => ({ kind: 'presence', device: { id, kind: 'env-sensor' }, payload: { state: 'offline' } });
const block = (ms: number): void => { const end = Date.now() + ms; while (Date.now() < end) { /* a stalled event loop */ } };

describe('fleet-health under a backlog (coalescing, in Node-RED)', function () {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-overload-')); process.env.FLEET_STATE_DIR = dir; });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('scores the latest reading per device, keeps the last will, completes every input and counts the rest in the summary', async () => {
    await helper.load([healthNode, completeNode], flow({ coalesceMs: 5 }));
    const hl = helper.getNode('hl');
    const changes = collect(helper.getNode('changes'));
    const summary = collect(helper.getNode('summary'));
    const completed = collect(helper.getNode('completed'));
    // One input, then the loop stalls: everything after it has waited longer than coalesceMs.
    hl.receive(heartbeat('first', 40_000) as never);
    block(30);
    for (let round = 0; round < 10; round++) {
      for (let d = 1; d <= 5; d++) hl.receive(heartbeat(`dev-${d}`, round === 9 ? 4_000 + d : 40_000) as never);
      if (round === 4) hl.receive(will('dev-1') as never);
    }
    await waitFor('every input completed', () => completed.length === 1 + 50 + 1, 5000, 20);
    // dev-1: its will, then its latest heartbeat (low heap): offline is taken and left again, in order.
    const states = (id: string) => changes.filter((m) => (m.payload as Payload).device === id).map((m) => (m.payload as Payload).state);
    assert.deepEqual(states('dev-1'), ['offline', 'degraded']);
    for (const d of [2, 3, 4, 5]) assert.deepEqual(states(`dev-${d}`), ['degraded'], `dev-${d}: its latest reading (low heap) was the one scored`);
    hl.receive({ command: 'summary' } as never);
    const s = (await waitFor('summary', () => summary[0], 5000, 20)).payload as Payload & { pipeline: Payload };
    assert.equal(s.pipeline.coalesced, 45, '9 of the 10 heartbeats of each of 5 devices');
    assert.deepEqual(s.pipeline.coalescedByKind, { heartbeat: 45 });
    assert.equal(typeof s.pipeline.lagMs, 'number');
    assert.equal(s.total, 6);
  });

  it('coalesceMs 0: every reading is scored, whatever the backlog', async () => {
    await helper.load([healthNode, completeNode], flow({ coalesceMs: 0 }));
    const hl = helper.getNode('hl');
    const summary = collect(helper.getNode('summary'));
    const completed = collect(helper.getNode('completed'));
    hl.receive(heartbeat('first', 40_000) as never);
    block(30);
    for (let i = 0; i < 20; i++) hl.receive(heartbeat('dev-1', 40_000 + i) as never);
    await waitFor('every input completed', () => completed.length === 21, 5000, 20);
    hl.receive({ command: 'summary' } as never);
    const s = (await waitFor('summary', () => summary[0], 5000, 20)).payload as Payload & { pipeline: Payload };
    assert.equal(s.pipeline.coalesced, 0);
  });

  it('refuses a bad overload setting at deploy, naming the field', async () => {
    await helper.load([healthNode, completeNode], flow({ overloadMs: -5 }));
    const hl = helper.getNode('hl');
    const errors: string[] = [];
    (hl as unknown as NodeJS.EventEmitter).on('call:error', (c: { args: unknown[] }) => errors.push(String(c.args[0])));
    hl.receive(heartbeat('a', 40_000) as never);
    await waitFor('an error', () => errors.length > 0, 3000, 20);
    assert.match(errors.join(' '), /overloadMs/);
  });
});
