/**
 * End to end: the virtual fleet publishes through a real broker (aedes, then Mosquitto) into a real
 * Node-RED running fleet-decode with a registry; a test client reads what the flow sends back.
 */
import assert from 'node:assert/strict';

import mqtt, { type MqttClient } from 'mqtt';

import { VirtualFleet } from '../../firmware/simulator/fleet';
import { startAedes, startMosquitto, type Broker } from '../support/brokers';
import { e2eFlow } from '../support/flows';
import { NodeRedProcess, nodeRed5, type NodeRedOptions } from '../support/node-red';
import { waitFor } from '../support/ports';
import { compatPass } from '../support/runtime';

interface Decoded { kind: string; device: string | null; online?: boolean; source: string; reading: Record<string, unknown> }
interface Reject { code: string; topic: string; path: string; reason: string }
interface Alert { name: string; status: string; device: string; summary: string }
interface Summary { byState: Record<string, number>; worst: Array<{ device: string; state: string }> }
interface DeviceList { count: number; devices: Array<{ id: string; online: boolean; kind: string }> }

const DEVICES = 12;

const NR5 = 'Node-RED 5 on Node 22';
const DEFAULT_RUNTIME = compatPass() ? NR5 : 'Node-RED 4.1';
const SCENARIOS: ReadonlyArray<{ name: string; start: () => Promise<Broker>; runtime: string; redOptions: NodeRedOptions }> = [
  { name: 'aedes', start: startAedes, runtime: DEFAULT_RUNTIME, redOptions: {} },
  { name: 'mosquitto', start: startMosquitto, runtime: DEFAULT_RUNTIME, redOptions: {} },
  // The compatibility pass runs both above on Node-RED 5 already.
  ...(compatPass() ? [] : [{ name: 'aedes', start: startAedes, runtime: NR5, redOptions: nodeRed5() }]),
];

for (const { name, start, runtime, redOptions } of SCENARIOS) {
  describe(`end to end over ${name}, ${runtime}: virtual fleet → broker → Node-RED → fleet-decode`, function () {
    this.timeout(90_000);
    let broker: Broker;
    let red: NodeRedProcess;
    let fleet: VirtualFleet;
    let observer: MqttClient;
    const decoded: Decoded[] = [];
    const rejects: Reject[] = [];
    const alerts: Array<Alert & { receivedAt: number }> = [];
    const summaries: Summary[] = [];

    before(async () => {
      broker = await start();
      red = new NodeRedProcess(redOptions);
      red.writeFlows(e2eFlow(broker.port));
      await red.start();
      observer = await mqtt.connectAsync(broker.url, { clientId: `e2e-observer-${name}-${process.hrtime.bigint()}` });
      observer.on('message', (topic, payload) => {
        const body = JSON.parse(payload.toString()) as Decoded & Reject;
        if (topic === 'e2e/decoded') decoded.push(body);
        else if (topic === 'e2e/rejects') rejects.push(body);
        else if (topic === 'e2e/alerts') alerts.push({ ...(body as unknown as Alert), receivedAt: Date.now() });
        else if (topic === 'e2e/summary') summaries.push(body as unknown as Summary);
      });
      await observer.subscribeAsync(['e2e/decoded', 'e2e/rejects', 'e2e/alerts', 'e2e/summary'], { qos: 1 });
      await waitFor('Node-RED to connect to the broker', () => red.output.includes('Connected to broker'), 15_000);
      fleet = new VirtualFleet({ brokerUrl: broker.url, devices: DEVICES, seed: 11, speed: 30, tickMs: 50 });
      await fleet.start();
    });

    after(async () => {
      await fleet?.stop();
      await observer?.endAsync();
      await red?.stop();
      red?.cleanup();
      await broker?.close();
    });

    it('decodes traffic from every simulated device, with identity and kind', async () => {
      const ids = fleet.devices.map((d) => d.id);
      await waitFor('a decoded message from every device', () => ids.every((id) => decoded.some((m) => m.device === id)), 30_000);
      const kinds = ['presence', 'sensor', 'heartbeat', 'status', 'metrics', 'health', 'csi-data'];
      await waitFor(`messages of kinds ${kinds.join(', ')}`, () => kinds.every((k) => decoded.some((m) => m.kind === k)), 30_000);
      const sensor = decoded.find((m) => m.kind === 'sensor')!;
      assert.equal(typeof sensor.reading.temperature, 'number');
      assert.equal(sensor.online, true);
      assert.equal(rejects.length, 0, `unexpected rejects: ${JSON.stringify(rejects.slice(0, 3))}`);
    });

    it('rejects a malformed payload, naming the topic, and keeps decoding that device', async () => {
      const victim = fleet.devices.find((d) => d.kind === 'env-sensor')!;
      fleet.inject(victim.id, 'malformed');
      const reject = await waitFor('a reject for the malformed device', () => rejects.find((r) => r.topic.includes(`/${victim.id}/`)), 20_000);
      assert.equal(reject.code, 'json');
      assert.match(reject.reason, /not valid JSON/);
      fleet.clear(victim.id, 'malformed');
      const since = decoded.length;
      await waitFor('decoding to resume for that device', () => decoded.slice(since).some((m) => m.device === victim.id && m.kind !== 'presence'), 20_000);
    });

    it('sees the broker publish a device\'s last will when its connection drops, and marks it offline', async () => {
      const victim = fleet.devices.find((d) => d.kind === 'env-monitor')!;
      fleet.inject(victim.id, 'offline');
      const will = await waitFor('the last will', () => decoded.find((m) => m.device === victim.id && m.kind === 'presence' && m.reading.state === 'offline'), 20_000);
      assert.equal(will.reading.reason, 'last-will');
      const list = await red.getJson<DeviceList>('/fleet-registry/e2e-registry/devices');
      assert.equal(list.body.devices.find((d) => d.id === victim.id)?.online, false);
      fleet.clear(victim.id, 'offline');
      await waitFor('the device back online', () => decoded.find((m) => m.device === victim.id && m.kind === 'presence' && m.reading.state === 'online' && (m.reading.session as number) > (will.reading.session as number)), 20_000);
    });

    it('serves the registry\'s device list over the admin API', async () => {
      const list = await red.getJson<DeviceList>('/fleet-registry/e2e-registry/devices');
      assert.equal(list.status, 200);
      assert.equal(list.body.count, DEVICES);
      assert.deepEqual(list.body.devices.map((d) => d.id).sort(), fleet.devices.map((d) => d.id).sort());
    });

    if (name === 'aedes') {
      it(`runs on ${runtime}`, async () => {
        const settings = await red.getJson<{ version: string }>('/settings');
        assert.match(settings.body.version, runtime.startsWith('Node-RED 5') ? /^5\./ : /^4\.1\./);
      });

      it('scores health live: a weak Wi-Fi signal makes a device critical, with its alert', async () => {
        const victim = fleet.devices.find((d) => d.kind === 'env-sensor')!;
        fleet.inject(victim.id, 'rssi-drop');
        const alert = await waitFor('DeviceCritical', () => alerts.find((a) => a.device === victim.id && a.name === 'DeviceCritical' && a.status === 'firing'), 20_000);
        assert.match(alert.summary, /Wi-Fi signal -8\d dBm under the critical -80 dBm/);
      });

      it('keeps the registry and health across a Node-RED restart; the silence clock runs on from last seen', async () => {
        const victim = fleet.devices.find((d) => d.kind === 'env-sensor')!;
        await fleet.stop();
        const lastSeen = Date.now();
        // Messages already on their way land after the fleet stops: take the registry once it is still.
        let before = await red.getJson<DeviceList>('/fleet-registry/e2e-registry/devices');
        await waitFor('the registry to settle', async () => {
          await new Promise((r) => setTimeout(r, 300));
          const again = await red.getJson<DeviceList>('/fleet-registry/e2e-registry/devices');
          const still = JSON.stringify(again.body) === JSON.stringify(before.body);
          before = again;
          return still;
        }, 10_000, 0);
        await red.stop();
        await red.start();
        const restarted = Date.now();
        const after = await red.getJson<DeviceList>('/fleet-registry/e2e-registry/devices');
        assert.equal(after.body.count, DEVICES);
        assert.deepEqual(after.body.devices, before.body.devices);

        await waitFor('Node-RED to reconnect', () => red.output.includes('Connected to broker'), 15_000);
        await observer.publishAsync('e2e/cmd', JSON.stringify({ command: 'summary' }), { qos: 1 });
        const summary = await waitFor('a summary after the restart', () => summaries[summaries.length - 1], 10_000);
        assert.equal(summary.worst.find((w) => w.device === victim.id)?.state, 'critical', JSON.stringify(summary));

        // The flow expects env-sensors every second (the simulator's rate at this speed) and goes offline after 8.
        const offline = await waitFor('the victim offline by silence', () => alerts.find((a) => a.device === victim.id && a.name === 'DeviceOffline'), 20_000);
        const sinceLastSeen = offline.receivedAt - lastSeen;
        const sinceRestart = offline.receivedAt - restarted;
        assert.ok(sinceLastSeen >= 7_000, `offline ${sinceLastSeen} ms after last seen`);
        assert.ok(sinceRestart < 8_000, `offline ${sinceRestart} ms after the restart: the clock restarted instead of running on`);
        assert.ok(alerts.some((a) => a.device === victim.id && a.name === 'DeviceCritical' && a.status === 'resolved'), 'critical resolved when it went offline');
      });
    }
  });
}
