/**
 * End to end: a real child Node-RED runs fleet-command (with fleet-decode and fleet-health), an
 * in-process aedes broker carries the traffic, and the virtual fleet obeys the commands through
 * its command firmware (firmware/simulator/command-device.ts).
 */
import assert from 'node:assert/strict';

import mqtt, { type MqttClient } from 'mqtt';

import { CommandDevices } from '../../firmware/simulator/command-device';
import { VirtualFleet } from '../../firmware/simulator/fleet';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';

const SPEED = 30;
const IDS = ['env-a', 'env-b', 'env-c'];

// Base: the guide's 30 s reading (1 s at speed 30); env-b is overridden to 6 s (0.2 s here).
const FLEET = `fleet:
  name: e2e fleet
  devices:
    - { device_id: env-a, site: lab }
    - { device_id: env-b, site: lab }
    - { device_id: env-c, site: lab }
  configuration:
    base:
      network: { wifi_ssid: "Lab", mqtt_broker: "127.0.0.1", mqtt_port: 1883 }
      sensor: { measurement_interval_seconds: 30 }
      system: { log_level: info, heartbeat_interval_minutes: 1, status_report_interval_minutes: 2 }
    overrides:
      - device: env-b
        measurement_interval: 6
`;

function flow(port: number): unknown[] {
  const z = 'cmd-tab';
  const out = (id: string, topic: string) => ({ id, type: 'mqtt out', z, topic, qos: '1', retain: 'false', broker: 'b', wires: [] });
  // Output 2 and health changes leave Node-RED with their topic inside the payload.
  const wrap = (id: string, to: string) => ({ id, type: 'change', z, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"topic": topic, "payload": payload}', tot: 'jsonata' }], wires: [[to]] });
  return [
    { id: z, type: 'tab', label: 'fleet-command e2e' },
    { id: 'b', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(port), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '15', cleansession: true },
    { id: 'reg', type: 'fleet-registry', name: 'fleet', persist: false, flushMs: 200 },
    { id: 'in-fleet', type: 'mqtt in', z, topic: 'esp32c3/#', qos: '1', datatype: 'buffer', broker: 'b', nl: false, rap: true, rh: 0, inputs: 0, wires: [['dec']] },
    { id: 'in-esp', type: 'mqtt in', z, topic: 'esp32/+/presence', qos: '1', datatype: 'buffer', broker: 'b', nl: false, rap: true, rh: 0, inputs: 0, wires: [['dec']] },
    { id: 'in-ack', type: 'mqtt in', z, topic: 'config/ack/+', qos: '1', datatype: 'buffer', broker: 'b', nl: false, rap: true, rh: 0, inputs: 0, wires: [['cmd']] },
    { id: 'in-cmd', type: 'mqtt in', z, topic: 'e2e/command', qos: '1', datatype: 'json', broker: 'b', nl: false, rap: true, rh: 0, inputs: 0, wires: [['cmd']] },
    { id: 'in-file', type: 'mqtt in', z, topic: 'e2e/fleet-file', qos: '1', datatype: 'utf8', broker: 'b', nl: false, rap: true, rh: 0, inputs: 0, wires: [['cmd']] },
    // Decoded statuses reach fleet-command too: a status naming the pushed version settles the push.
    { id: 'dec', type: 'fleet-decode', z, registry: 'reg', rejects: 'output', wires: [['health', 'cmd'], []] },
    { id: 'health', type: 'fleet-health', z, registry: 'reg', scoring: JSON.stringify({ silence: { multiple: 4, intervals: { 'env-sensor': 1 } } }), sweepS: 1, summaryS: 0, wires: [['wrap-h'], ['wrap-a'], []] },
    { id: 'cmd', type: 'fleet-command', z, name: 'commands', mode: 'push', fleetFile: FLEET, broker: 'b', registry: 'reg', ackTimeoutS: 10, retries: 1, wires: [['mqtt-out'], ['wrap-r', 'sw'], ['wrap-a']] },
    { id: 'sw', type: 'switch', z, property: 'topic', propertyType: 'msg', rules: [{ t: 'eq', v: 'commanded', vt: 'str' }], checkall: 'true', repair: false, outputs: 1, wires: [['health']] },
    { id: 'mqtt-out', type: 'mqtt out', z, topic: '', qos: '1', retain: 'false', broker: 'b', wires: [] },
    wrap('wrap-r', 'out-r'), wrap('wrap-a', 'out-a'), wrap('wrap-h', 'out-h'),
    out('out-r', 'e2e/results'), out('out-a', 'e2e/alerts'), out('out-h', 'e2e/health'),
  ];
}

interface Wrapped { topic: string; payload: Record<string, unknown> }

describe('end to end: fleet-command pushes configuration to and stops the virtual fleet over aedes', function () {
  this.timeout(90_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let fleet: VirtualFleet;
  let commands: CommandDevices;
  let observer: MqttClient;
  const results: Wrapped[] = [];
  const alerts: Wrapped[] = [];
  const health: Wrapped[] = [];
  const sensorAt = new Map<string, number[]>();
  const acks: string[] = [];

  before(async () => {
    broker = await startAedes();
    red = new NodeRedProcess();
    red.writeFlows(flow(broker.port));
    await red.start();
    observer = await mqtt.connectAsync(broker.url, { clientId: `e2e-command-observer-${process.pid}` });
    observer.on('message', (topic, payload) => {
      if (topic.startsWith('config/ack/')) { acks.push(topic); return; }
      const m = /^esp32c3\/[^/]+\/([^/]+)\/sensor$/.exec(topic);
      if (m) { const l = sensorAt.get(m[1]) ?? []; l.push(Date.now()); sensorAt.set(m[1], l); return; }
      const body = JSON.parse(payload.toString()) as Wrapped;
      if (topic === 'e2e/results') results.push(body);
      else if (topic === 'e2e/alerts') alerts.push(body);
      else if (topic === 'e2e/health') health.push(body);
    });
    await observer.subscribeAsync(['e2e/results', 'e2e/alerts', 'e2e/health', 'esp32c3/+/+/sensor', 'config/ack/+'], { qos: 0 });
    await waitFor('Node-RED to connect to the broker', () => red.output.includes('Connected to broker'), 15_000);
    fleet = new VirtualFleet({ brokerUrl: broker.url, devices: IDS.map((id, i) => ({ id, kind: 'env-sensor' as const, arch: 'full' as const, seed: i + 1 })), speed: SPEED, tickMs: 20 });
    await fleet.start();
    commands = new CommandDevices(fleet, SPEED);
    await commands.start(broker.url);
    // Started apart from the fleet, so the fleet is told: it annotates each status with the configuration applied.
    fleet.commander = commands;
  });

  after(async () => {
    await commands?.stop();
    await fleet?.stop();
    await observer?.endAsync();
    await red?.stop();
    red?.cleanup();
    await broker?.close();
  });

  const rate = (id: string, from: number, to: number): number => (sensorAt.get(id) ?? []).filter((t) => t >= from && t < to).length / ((to - from) / 1000);

  it('an override changes one device\'s measurement interval, and its message rate follows', async () => {
    const before0 = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const beforeB = rate('env-b', before0, Date.now());
    const beforeA = rate('env-a', before0, Date.now());
    observer.publish('e2e/command', JSON.stringify({ push: true }), { qos: 1 });
    await waitFor('every push applied', () => IDS.every((id) => results.some((r) => r.topic === `fleet-command/result/${id}` && r.payload.state === 'applied')), 20_000);
    assert.equal(commands.configOf('env-b')?.config.sensor.measurement_interval_seconds, 6);
    assert.equal(commands.configOf('env-a')?.config.sensor.measurement_interval_seconds, 30);
    const after0 = Date.now() + 300;
    await new Promise((r) => setTimeout(r, 3300));
    const afterB = rate('env-b', after0, Date.now());
    const afterA = rate('env-a', after0, Date.now());
    // 30 s → 6 s is five times the rate; allow for the tick and the window edges.
    assert.ok(afterB > beforeB * 3.5, `env-b: ${beforeB.toFixed(1)}/s before, ${afterB.toFixed(1)}/s after`);
    assert.ok(afterA < beforeA * 1.6 && afterA > beforeA * 0.5, `env-a unchanged: ${beforeA.toFixed(1)}/s before, ${afterA.toFixed(1)}/s after`);
    const summary = results.filter((r) => r.topic === 'fleet-command/summary').at(-1)!;
    assert.equal((summary.payload.acks as Record<string, number>).applied, 3);

    // The same file again: nothing changed, nothing sent.
    const sent = commands.stats.applied;
    observer.publish('e2e/command', JSON.stringify({ push: true }), { qos: 1 });
    await waitFor('second plan', () => results.filter((r) => r.topic === 'fleet-command/plan').length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(commands.stats.applied, sent);

    // The registry kept the push in its audit trail, with every device's answer.
    const audit = await (await fetch(`${red.url}/fleet-registry/reg/audit`)).json() as { entries: Array<Record<string, unknown>> };
    const push = audit.entries.find((e) => e.action === 'config-push')!;
    assert.deepEqual([push.who, push.count, push.outcome], ['commands', 3, { pending: 0, applied: 3, rejected: 0, failed: 0, superseded: 0 }]);
  });

  it('a device that only reports the new version in its next status (no config/ack) has its push marked done', async () => {
    commands.ackVia = 'status';
    try {
      const ackMark = acks.length;
      const resultMark = results.length;
      observer.publish('e2e/fleet-file', FLEET.replace('measurement_interval: 6', 'measurement_interval: 6\n      - device: env-c\n        measurement_interval: 15'), { qos: 1 });
      const done = await waitFor('env-c applied by its status', () => results.slice(resultMark).find((r) => r.topic === 'fleet-command/result/env-c' && r.payload.state === 'applied'), 20_000);
      assert.equal(done.payload.via, 'status');
      assert.equal(done.payload.version, 2);
      assert.equal(commands.configOf('env-c')?.config.sensor.measurement_interval_seconds, 15);
      assert.equal(acks.length, ackMark, 'the device sent no config/ack');
      assert.ok(!results.slice(resultMark).some((r) => r.topic !== 'fleet-command/result/env-c' && String(r.topic).startsWith('fleet-command/result/')), 'only env-c changed');
    } finally {
      commands.ackVia = 'reply';
    }
  });

  it('a broadcast emergency stop silences the fleet, and fleet-health reports it as commanded', async () => {
    const mark = health.length;
    const alertMark = alerts.length;
    observer.publish('e2e/command', JSON.stringify({ emergency: 'shutdown', scope: 'fleet', confirm: 'shutdown fleet', reason: 'e2e drill' }), { qos: 1 });
    await waitFor('the alert', () => alerts.some((a) => (a.payload.labels as Record<string, string>).alertname === 'FleetEmergencyStop'), 10_000);
    await waitFor('every device stopped', () => IDS.every((id) => commands.stopped.has(id)), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const quiet = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    for (const id of IDS) assert.equal(rate(id, quiet, Date.now()), 0, `${id} is silent`);
    await waitFor('health reports the stop as commanded', () => IDS.every((id) => health.some((h) => h.payload.device === id && h.payload.state === 'offline' && h.payload.commanded === true)), 15_000);
    const failures = health.slice(mark).filter((h) => h.payload.state === 'offline' && h.payload.commanded !== true);
    assert.equal(failures.length, 0, `reported as failure: ${JSON.stringify(failures.slice(0, 2))}`);
    const offlineAlerts = alerts.slice(alertMark).filter((a) => (a.payload.labels as Record<string, string>).alertname === 'DeviceOffline');
    assert.equal(offlineAlerts.length, 0, `alerted as failure: ${JSON.stringify(offlineAlerts.slice(0, 2))}`);

    observer.publish('e2e/command', JSON.stringify({ emergency: 'resume', scope: 'fleet', confirm: 'resume fleet' }), { qos: 1 });
    await waitFor('the fleet talks again', () => IDS.every((id) => rate(id, Date.now() - 1500, Date.now()) > 0), 15_000);
    assert.ok(alerts.some((a) => a.payload.status === 'resolved'), 'the resume resolves the alert');
  });
});

describe('the shipped example flows/fleet-commands.json against a fleet like npm start\'s', function () {
  this.timeout(60_000);
  it('its Push button configures the four listed devices, which answer (in the registry\'s audit trail); the unconfirmed stop stops nothing', async () => {
    const broker = await startAedes();
    const red = new NodeRedProcess();
    const fleet = new VirtualFleet({ brokerUrl: broker.url, devices: 12, seed: 1, speed: 5, commands: true });
    try {
      red.writeFlows(shippedFlow('fleet-commands.json', broker.port));
      await red.start();
      await waitFor('the broker connection', () => red.output.includes('Connected to broker'), 15_000);
      await fleet.start();
      const press = (id: string) => fetch(`${red.url}/inject/${id}`, { method: 'POST' });
      assert.equal((await press('fc-push')).status, 200);
      const listed = ['esp32-c3-sync-001', 'esp32-c3-async-002', 'esp32-c3-full-003', 'esp32-c3-sync-004'];
      await waitFor('the four devices configured', () => listed.every((id) => fleet.commander?.configOf(id) !== undefined), 15_000);
      assert.equal(fleet.commander!.configOf('esp32-c3-sync-001')!.config.sensor.measurement_interval_seconds, 10);
      assert.equal(fleet.commander!.configOf('esp32-c3-full-003')!.config.sensor.calibration_offset_temp, -0.5);
      assert.equal(fleet.commander!.configOf('esp32c3_001'), undefined, 'a device not in the file gets nothing');
      // The example's registry keeps the push in its audit trail, each device's answer counted.
      const pushEntry = await waitFor('the push audited with four answers', async () => {
        const a = await (await fetch(`${red.url}/fleet-registry/fc-registry/audit`)).json() as { entries: Array<Record<string, unknown>> };
        const e = a.entries.find((x) => x.action === 'config-push');
        return e && (e.outcome as Record<string, number>).applied === 4 ? e : undefined;
      }, 15_000);
      assert.deepEqual([pushEntry.who, pushEntry.count], ['fleet command', 4]);
      assert.equal((await press('fc-audit')).status, 200);
      assert.equal((await press('fc-stop-bad')).status, 200);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(fleet.commander!.stopped.size, 0);
      assert.doesNotMatch(red.output, /\[error\] \[fleet-command/, 'the refusal goes to the catch node');
    } finally {
      await fleet.stop();
      await red.stop();
      red.cleanup();
      await broker.close();
    }
  });
});
