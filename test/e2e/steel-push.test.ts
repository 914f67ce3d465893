/**
 * The shipped steel-push flow in a real Node-RED, with in-process aedes and simulated Steel
 * devices: it checks and pushes the guide's sensor-monitoring program, the devices run it and
 * answer, and the per-device results and the success rate come back. Then one device's programs
 * fail, and the rate falls under the guide's 95 % with an alert.
 */
import assert from 'node:assert/strict';

import mqtt, { type MqttClient } from 'mqtt';

import { parseLoadMessage, steelChecksum } from '../../firmware/contract/steel';
import { SteelFleet } from '../../firmware/simulator/steel-device';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';
import { GUIDE_SENSOR_MONITORING } from '../unit/steel-fixtures';

type Json = Record<string, unknown>;

describe('steel-push flow: simulated Steel devices run the guide\'s program and report back', function () {
  this.timeout(60_000);
  let broker: Broker;
  let fleet: SteelFleet;
  let red: NodeRedProcess;
  let client: MqttClient;
  const seen: Record<string, Json[]> = { results: [], summary: [], alerts: [], loads: [] };

  before(async () => {
    broker = await startAedes();
    fleet = new SteelFleet({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, devices: ['steel-001', 'steel-002', 'steel-003'], controlTopic: true });
    await fleet.start();
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'e2e-steel-watch' });
    client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as Json;
      if (topic.startsWith('e2e/steel/')) seen[topic.slice('e2e/steel/'.length)]?.push(body);
      else if (topic.endsWith('/load')) seen.loads.push({ topic, ...body });
    });
    await client.subscribeAsync(['e2e/steel/#', 'steel-programs/+/load'], { qos: 1 });

    // The flow as shipped, plus taps on the steel node's outputs 2–4 so the test can read them.
    const flow = shippedFlow('steel-push.json', broker.port);
    const steel = flow.find((n) => n.id === 'stp-steel') as Json & { wires: string[][] };
    const taps = ['results', 'summary', 'alerts'];
    taps.forEach((name, i) => {
      steel.wires[i + 1] = [...steel.wires[i + 1], `e2e-${name}`];
      flow.push({ id: `e2e-${name}`, type: 'mqtt out', z: 'stp-tab', topic: `e2e/steel/${name}`, qos: '1', retain: 'false', broker: 'stp-broker', wires: [] });
    });
    red = new NodeRedProcess();
    red.writeFlows(flow);
    await red.start();
  });

  after(async () => {
    await red?.stop();
    red?.cleanup();
    await client?.endAsync();
    await fleet?.stop();
    await broker?.close();
  });

  it('pushes the checked program to each device once, and every device runs it', async () => {
    // The flow's inject fires 3 s after deploy.
    await waitFor('three results', () => seen.results.filter((r) => r.outcome === 'success').length >= 3, 20_000);
    assert.deepEqual(seen.loads.map((l) => l.topic).sort(), ['steel-programs/steel-001/load', 'steel-programs/steel-002/load', 'steel-programs/steel-003/load']);
    const load = parseLoadMessage(seen.loads[0]);
    assert.ok(load.ok);
    assert.equal(load.value.steel_code, GUIDE_SENSOR_MONITORING);
    assert.equal(load.value.checksum, steelChecksum(GUIDE_SENSOR_MONITORING));
    assert.deepEqual(seen.results.map((r) => r.device).sort(), ['steel-001', 'steel-002', 'steel-003']);
    for (const r of seen.results) assert.deepEqual([r.status, r.operation, r.programId], ['Completed', 'load', 'sensor-monitor']);
    const last = seen.summary[seen.summary.length - 1];
    assert.deepEqual([last.succeeded, last.failed, last.timedOut, last.pending, last.successRate, last.meetsTarget], [3, 0, 0, 0, 1, true]);
    for (const id of ['steel-001', 'steel-002', 'steel-003']) assert.equal(fleet.get(id)?.lastRun?.programId, 'sensor-monitor', `${id} ran it`);
  });

  it('does not re-send the version the devices run', async () => {
    const before = seen.loads.length;
    const n = seen.summary.length;
    const res = await fetch(`${red.url}/inject/stp-push`, { method: 'POST' });
    assert.equal(res.status, 200);
    await waitFor('the summary of the second push', () => seen.summary.length > n);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(seen.loads.length, before);
  });

  it('reports a failing device: results, a success rate under 95 % and alerts', async () => {
    client.publish('sim/steel-fault/steel-002', JSON.stringify({ fault: 'program-fails', action: 'inject' }), { qos: 1 });
    await waitFor('the fault', () => fleet.get('steel-002')?.faults.has('program-fails'));
    const n = seen.results.length;
    const res = await fetch(`${red.url}/inject/stp-exec`, { method: 'POST' });
    assert.equal(res.status, 200);
    await waitFor('three execution results', () => seen.results.length >= n + 3, 15_000);
    const round = seen.results.slice(n);
    assert.deepEqual(round.map((r) => `${String(r.device)}:${String(r.outcome)}`).sort(), ['steel-001:success', 'steel-002:failure', 'steel-003:success']);
    await waitFor('the rate alert', () => seen.alerts.some((a) => a.name === 'SteelSuccessRateLow'));
    const last = seen.summary[seen.summary.length - 1];
    assert.deepEqual([last.succeeded, last.failed, last.meetsTarget], [5, 1, false]);
    assert.ok(Math.abs((last.successRate as number) - 5 / 6) < 1e-9);
    const failed = seen.alerts.find((a) => a.name === 'SteelProgramFailed');
    assert.deepEqual([failed?.device, failed?.status, (failed?.labels as Json).program], ['steel-002', 'firing', 'sensor-monitor']);
    assert.doesNotMatch(red.output, /\[error\]/);
  });
});
