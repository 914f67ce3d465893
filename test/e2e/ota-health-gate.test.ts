/**
 * The health-margin gate end to end, in a real Node-RED running the shipped ota-rollout flow:
 * mqtt in → fleet-decode → fleet-health → fleet-ota over the virtual fleet, whose devices take the
 * update over HTTP. With the simulator's "health worsening after update" fault the updated devices'
 * free heap falls, fleet-health scores them degraded, and fleet-ota compares them with the
 * not-yet-updated devices of the same kind: over the margin the wave is held (and says so in the
 * rollout summary), within it the wave advances.
 */
import assert from 'node:assert/strict';

import { VirtualFleet } from '../../firmware/simulator/fleet';
import type { OtaDeviceAgent } from '../../firmware/simulator/ota-device';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const otaDemo = require('../../../scripts/ota-demo.js') as {
  prepare(userDir: string): { image: string };
  patchFlow(flow: unknown[], demo: unknown): unknown[];
  startDevices(fleet: VirtualFleet, url: string, demo: unknown, stepMs?: number): Promise<OtaDeviceAgent>;
};

interface Gate { held: boolean; margin: number; kinds: Array<{ kind: string; updated: number; updatedDevices: number; waiting: number; waitingDevices: number }> }
interface Summary { id: string; status: string; wave: number; waveState: string; note: string | null; waves: Array<{ size: number; counts: Record<string, number>; gate: Gate | null }>; totals: Record<string, number> }
interface State { rollout: Summary | null; known: number }

/** Long enough for fleet-health to see the fallen heap (two messages, hysteresis 2) before the device counts as succeeded. */
const WINDOW_S = 8;

describe('fleet-ota health gate through fleet-health (decode → health → ota, virtual fleet)', function () {
  this.timeout(120_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let fleet: VirtualFleet;
  let agent: OtaDeviceAgent;
  let demo: { image: string };

  before(async () => {
    broker = await startAedes();
    red = new NodeRedProcess();
    demo = otaDemo.prepare(red.userDir);
    red.writeFlows(otaDemo.patchFlow(shippedFlow('ota-rollout.json', broker.port), demo));
    fleet = new VirtualFleet({ brokerUrl: broker.url, devices: 50, speed: 20, connection: 'shared', seed: 1 });
    await fleet.start();
    agent = await otaDemo.startDevices(fleet, broker.url, demo, 40);
    // Every device that updates gets worse afterwards (its free heap falls under the warning level).
    agent.inject('all', 'health-worsening');
    await red.start();
    await waitFor('the registry to know the env-sensors', async () => (await state()).known >= 30, 30_000, 250);
  });

  after(async () => {
    await red?.stop();
    await agent?.stop();
    await fleet?.stop();
    await broker?.close();
    red?.cleanup();
  });

  const state = async (): Promise<State> => (await red.getJson<State>('/fleet-ota/ota-node/state')).body;
  const post = async (action: string, body: unknown): Promise<void> => {
    const res = await fetch(`${red.url}/fleet-ota/ota-node/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
  };
  const start = (id: string, margin: number) => post('start', { id, image: demo.image, targets: 'all', plan: { soakSeconds: 0, deviceTimeoutSeconds: 30, healthGate: { windowSeconds: WINDOW_S, margin } } });

  it('holds the wave when the updated devices score worse than the waiting ones by more than the margin', async () => {
    await start('worse', 5);
    const held = await waitFor('wave 1 held by the health margin', async () => {
      const r = (await state()).rollout;
      return r?.waveState === 'held' ? r : null;
    }, 60_000, 200);
    assert.deepEqual([held.id, held.status, held.wave], ['worse', 'running', 0]);
    assert.match(String(held.note), /updated devices score [\d.]+ on average, not-yet-updated [\d.]+; more than the margin of 5 apart/);
    const gate = held.waves[0].gate;
    assert.ok(gate?.held);
    const k = gate.kinds[0];
    assert.equal(k.updatedDevices, held.waves[0].size);
    assert.ok(k.waiting - k.updated > 5, `${k.updated} vs ${k.waiting}`);
    const sent = agent.stats.commands;
    // The wave stays held over several ticks: nothing goes to the next wave's devices.
    await new Promise((r) => setTimeout(r, 3000));
    const still = (await state()).rollout as Summary;
    assert.deepEqual([still.wave, still.waveState], [0, 'held']);
    assert.equal(still.waves[1].counts.pending, still.waves[1].size);
    assert.equal(agent.stats.commands, sent, 'no update command after the hold');
    await post('abort', {});
  });

  it('advances when the updated devices score worse, but within the margin', async () => {
    const before = agent.stats.commands;
    await start('within', 50);
    const passed = await waitFor('wave 1 passed', async () => {
      const r = (await state()).rollout;
      return r?.id === 'within' && r.wave >= 1 ? r : null;
    }, 60_000, 200);
    assert.equal(passed.status, 'running');
    const gate = passed.waves[0].gate;
    assert.equal(gate?.held, false);
    const k = gate?.kinds[0];
    assert.ok(k && k.updated < k.waiting, `the updated devices did score worse (${k?.updated} vs ${k?.waiting})`);
    assert.ok(k.waiting - k.updated <= 50);
    await waitFor('commands for wave 2', () => agent.stats.commands > before + passed.waves[0].size, 20_000, 100);
    await post('abort', {});
  });
});
