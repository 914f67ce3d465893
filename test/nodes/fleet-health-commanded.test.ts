import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';

import decodeNode = require('../../nodes/fleet-decode/fleet-decode');
import healthNode = require('../../nodes/fleet-health/fleet-health');
import registryNode = require('../../nodes/fleet-registry/fleet-registry');

import { collect } from '../support/collect';
import { waitFor } from '../support/ports';

helper.init(require.resolve('node-red'));

type Payload = Record<string, unknown>;

function flow() {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'reg', type: 'fleet-registry', persist: false, flushMs: 1000 },
    { id: 'dec', type: 'fleet-decode', z: 'f1', registry: 'reg', wires: [['hl'], ['hl']] },
    { id: 'hl', type: 'fleet-health', z: 'f1', registry: 'reg', sweepS: 1, summaryS: 0, wires: [['changes'], ['alerts'], ['summary']] },
    { id: 'changes', type: 'helper', z: 'f1' },
    { id: 'alerts', type: 'helper', z: 'f1' },
    { id: 'summary', type: 'helper', z: 'f1' },
  ];
}

const hb = (id: string) => ({ topic: `esp32c3/full/${id}/heartbeat`, payload: JSON.stringify({ uptime: 100, free_heap: 40000, wifi_rssi: -50 }) });
const will = (id: string) => ({ topic: `esp32c3/full/${id}/presence`, payload: JSON.stringify({ state: 'offline', session: 1, reason: 'last-will' }) });

describe('fleet-health: a device stopped by fleet-command is offline by command, not a failure', function () {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-cmd-')); process.env.FLEET_STATE_DIR = dir; });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('marks the offline change commanded and raises no DeviceOffline for it; another device still alerts', async () => {
    await helper.load([registryNode, decodeNode, healthNode], flow());
    const changes = collect(helper.getNode('changes'));
    const alerts = collect(helper.getNode('alerts'));
    const dec = helper.getNode('dec');
    const hl = helper.getNode('hl');
    for (const id of ['dev-1', 'dev-2']) dec.receive(hb(id) as never);
    await waitFor('both healthy', () => ['dev-1', 'dev-2'].every((id) => changes.some((m) => (m.payload as Payload).device === id)), 5000, 20);
    hl.receive({ topic: 'commanded', payload: { action: 'shutdown', devices: ['dev-1'] } } as never);
    dec.receive(will('dev-1') as never);
    dec.receive(will('dev-2') as never);
    await waitFor('both offline', () => ['dev-1', 'dev-2'].every((id) => changes.some((m) => (m.payload as Payload).device === id && (m.payload as Payload).state === 'offline')), 5000, 20);
    const off1 = changes.find((m) => (m.payload as Payload).device === 'dev-1' && (m.payload as Payload).state === 'offline')!.payload as Payload;
    const off2 = changes.find((m) => (m.payload as Payload).device === 'dev-2' && (m.payload as Payload).state === 'offline')!.payload as Payload;
    assert.deepEqual([off1.commanded, off1.commandedAction], [true, 'shutdown']);
    assert.equal(off2.commanded, undefined, 'a device that was not stopped is a failure');
    await new Promise((r) => setTimeout(r, 300));
    const firing = alerts.map((m) => m.payload as Payload).filter((a) => a.status === 'firing');
    assert.deepEqual(firing.map((a) => a.device), ['dev-2']);

    // Resumed and back: no resolve for an alert that never fired.
    hl.receive({ topic: 'commanded', payload: { action: 'resume', devices: ['dev-1'] } } as never);
    dec.receive(hb('dev-1') as never);
    await waitFor('dev-1 back', () => changes.filter((m) => (m.payload as Payload).device === 'dev-1').length >= 3, 5000, 20);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!alerts.some((m) => (m.payload as Payload).device === 'dev-1'), JSON.stringify(alerts.map((m) => m.payload)));
  });

  it('refuses a commanded message that is not {action, devices} as a catchable error', async () => {
    await helper.load([registryNode, decodeNode, healthNode], flow());
    const hl = helper.getNode('hl');
    const err = new Promise<string>((resolve) => (hl as unknown as { on(e: string, f: (c: { args: unknown[] }) => void): void }).on("call:error", (c) => resolve(String((c.args[0] as Error)?.message ?? c.args[0]))));
    hl.receive({ topic: 'commanded', payload: ['dev-1'] } as never);
    assert.match(await err, /commanded message is \{action, devices/);
  });
});
