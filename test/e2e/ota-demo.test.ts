/**
 * The shipped flows/ota-rollout.json as `npm start` runs it (scripts/ota-demo.js prepares keys and
 * image, patches the flow, runs the simulated devices' OTA side), with its waits shortened: the
 * start button rolls 1.3.0 over the simulated env-sensors in waves; the fault button makes the next
 * wave fail, and the rollout aborts with an alert.
 */
import assert from 'node:assert/strict';
import path from 'node:path';

import { VirtualFleet } from '../../firmware/simulator/fleet';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const otaDemo = require('../../../scripts/ota-demo.js') as {
  prepare(userDir: string): { publicPem: string; folder: string; image: string };
  patchFlow(flow: unknown[], demo: unknown): unknown[];
  startDevices(fleet: VirtualFleet, url: string, demo: unknown, stepMs?: number): Promise<{ stop(): Promise<void>; stats: { updated: number; rolledBack: number } }>;
};

interface State { rollout: { status: string; wave: number; note: string | null; totals: Record<string, number> } | null; known: number; alerts: Array<{ name: string; severity: string }> }

describe('the shipped ota-rollout flow: waves with live progress, a bad wave aborts with an alert', function () {
  this.timeout(90_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let fleet: VirtualFleet;
  let agent: { stop(): Promise<void>; stats: { updated: number; rolledBack: number } };

  before(async () => {
    broker = await startAedes();
    red = new NodeRedProcess();
    const demo = otaDemo.prepare(red.userDir);
    const flow = otaDemo.patchFlow(shippedFlow('ota-rollout.json', broker.port), demo) as Array<Record<string, unknown>>;
    for (const n of flow) {
      if (n.type === 'fleet-ota') n.plan = JSON.stringify({ ...JSON.parse(String(n.plan)) as object, soakSeconds: 0.5, healthGate: { windowSeconds: 0.5, margin: 15 } });
    }
    red.writeFlows(flow);
    fleet = new VirtualFleet({ brokerUrl: broker.url, devices: 50, speed: 20, connection: 'shared', seed: 1 });
    await fleet.start();
    agent = await otaDemo.startDevices(fleet, broker.url, demo, 60);
    await red.start();
  });

  after(async () => {
    await red?.stop();
    await agent?.stop();
    await fleet?.stop();
    await broker?.close();
    red?.cleanup();
  });

  const state = async (): Promise<State> => (await red.getJson<State>('/fleet-ota/ota-node/state')).body;
  const press = async (id: string): Promise<void> => { assert.equal((await fetch(`${red.url}/inject/${id}`, { method: 'POST' })).status, 200); };

  it('rolls out in waves, then the fault button aborts the next wave with an alert', async () => {
    await waitFor('the registry to know the env-sensors', async () => (await state()).known >= 30, 30_000, 250);
    await press('ota-start');
    await waitFor('wave 1 passed', async () => ((await state()).rollout?.wave ?? 0) >= 1, 30_000, 100);
    const first = await state();
    assert.equal(first.rollout?.status, 'running');
    assert.ok((first.rollout?.totals.succeeded ?? 0) >= 3, 'wave 1 (10 % of 30) updated and passed the gate');
    await press('ota-fault-boot');
    await waitFor('the rollout aborted', async () => (await state()).rollout?.status === 'aborted', 40_000, 100);
    const end = await state();
    assert.match(String(end.rollout?.note), /abort criterion|threshold/);
    assert.ok(agent.stats.rolledBack >= 1, 'devices rolled back');
    assert.ok((end.rollout?.totals.succeeded ?? 0) < 30, 'the rollout stopped before the end');
    const aborted = end.alerts.find((a) => a.name === 'OtaRolloutAborted');
    assert.equal(aborted?.severity, 'critical');
    assert.ok(end.alerts.some((a) => a.name === 'OtaDeviceFailed'), 'the failed devices alerted too');
  });

  it('the demo image is signed with the generated key and kept in the user directory', () => {
    const again = otaDemo.prepare(red.userDir);
    assert.equal(again.folder, path.join('ota-demo', 'images'));
    assert.match(again.publicPem, /BEGIN PUBLIC KEY/);
  });
});
