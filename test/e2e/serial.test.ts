/**
 * fleet-serial end to end: the serial simulator on one end of a socat pseudo-terminal pair, the shipped
 * serial-provisioning flow in a real Node-RED on the other. Its console is decoded and scored; a
 * provisioning round trip puts the device on MQTT under its new id and in the registry; killing socat
 * (the unplug) is reported and recovered without a redeploy; the Wi-Fi secret never shows in the flow
 * file, the log, debug output, status or any message.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import mqtt, { type MqttClient } from 'mqtt';

import { SerialDevice } from '../../firmware/simulator/serial-device';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';

const SECRET = 'e2e-wifi-secret-8Kq2';

interface Seen { topic: string; payload: string }

function socat(dev: string, host: string): ChildProcess {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}
const exists = (p: string): boolean => { try { fs.lstatSync(p); return true; } catch { return false; } };

describe('fleet-serial over a real pseudo-terminal (socat) and a real Node-RED', function () {
  this.timeout(90_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-serial-e2e-'));
  const devPath = path.join(dir, 'dev');
  const hostPath = path.join(dir, 'host');
  let broker: Broker;
  let red: NodeRedProcess;
  let link: ChildProcess | null = null;
  let device: SerialDevice;
  let client: MqttClient;
  const seen: Seen[] = [];
  const on = (topic: string): Seen[] => seen.filter((s) => s.topic === topic);
  interface Tapped { topic?: string; kind?: string; device?: string | null; payload?: unknown; status?: string }
  const tapped = (topic: string): Tapped[] => on(topic).map((s) => JSON.parse(s.payload) as Tapped);

  before(async () => {
    broker = await startAedes();
    link = socat(devPath, hostPath);
    await waitFor('socat links', () => exists(devPath) && exists(hostPath), 5000, 20);
    client = mqtt.connect(broker.url, { clientId: 'e2e-serial-watch' });
    client.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await new Promise<void>((r) => client.once('connect', () => r()));
    await client.subscribeAsync(['e2e/#', 'esp32c3/#'], { qos: 1 });

    // The shipped flow as a user imports it: its broker and port set, nothing else; taps to MQTT for the test.
    const flow = shippedFlow('serial-provisioning.json', broker.port).map((n) => (n.type === 'fleet-serial-port' ? { ...n, path: hostPath } : n));
    const tap = (id: string, output: number, topic: string): void => {
      const n = flow.find((x) => x.id === id) as { wires: string[][] };
      n.wires[output] = [...(n.wires[output] ?? []), `tap-${topic}`];
      flow.push(
        // mqtt out publishes msg.payload only: carry the fields the test reads in it.
        { id: `tap-${topic}`, type: 'change', z: 'sp-tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"topic": topic, "kind": kind, "device": device.id, "payload": payload, "status": status.text}', tot: 'jsonata' }], wires: [[`tap-${topic}-out`]] },
        { id: `tap-${topic}-out`, type: 'mqtt out', z: 'sp-tab', topic: `e2e/${topic}`, qos: '1', retain: 'false', broker: 'sp-broker', wires: [] },
      );
    };
    tap('sp-console', 0, 'line');
    tap('sp-decode', 0, 'decoded');
    tap('sp-health', 0, 'health');
    tap('sp-provision', 0, 'result');
    flow.push(
      { id: 'tap-status-in', type: 'status', z: 'sp-tab', scope: null, wires: [['tap-status']] },
      { id: 'tap-status', type: 'change', z: 'sp-tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"topic": topic, "status": status.text, "source": status.source.id}', tot: 'jsonata' }], wires: [['tap-status-out']] },
      { id: 'tap-status-out', type: 'mqtt out', z: 'sp-tab', topic: 'e2e/status', qos: '1', retain: 'false', broker: 'sp-broker', wires: [] },
      // Console output in the log too: the secret must not reach it that way either.
      { id: 'tap-log', type: 'debug', z: 'sp-tab', active: true, tosidebar: true, console: true, complete: 'true', targetType: 'full', wires: [] },
      { id: 'tap-provision-in', type: 'mqtt in', z: 'sp-tab', topic: 'e2e/provision', qos: '1', datatype: 'json', broker: 'sp-broker', nl: false, rap: false, rh: 0, inputs: 0, wires: [['sp-provision']] },
    );
    (flow.find((x) => x.id === 'sp-console') as { wires: string[][] }).wires[0].push('tap-log');
    (flow.find((x) => x.id === 'sp-provision') as { wires: string[][] }).wires[0].push('tap-log');
    // The secret comes from the environment, as the node's help says; Node-RED inherits it.
    process.env.FLEET_WIFI_PASSWORD = SECRET;
    red = new NodeRedProcess();
    red.writeFlows(flow);
    await red.start();
    // Status changes before the flow's broker connection are not published: wait for it, then give the port a moment.
    await waitFor('the flow connected to the broker', () => red.output.includes('Connected to broker'), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    device = new SerialDevice({ path: devPath, factoryId: 'esp32-c3-bench-01', perfEveryMs: 400, echo: true });
    await device.start();
  });

  after(async () => {
    if (process.env.E2E_DEBUG) console.log(red?.output, JSON.stringify(seen.slice(0, 30), null, 1));
    delete process.env.FLEET_WIFI_PASSWORD;
    await device?.stop();
    await red?.stop();
    link?.kill('SIGTERM');
    await client?.endAsync();
    await broker?.close();
    red?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decodes the console of a device not on the network, and scores it', async () => {
    await waitFor('decoded [PERF] lines of the bench device', () => tapped('e2e/decoded').some((d) => d.device === 'esp32-c3-bench-01' && (d.payload as { event?: string }).event === 'perf-memory'), 15_000);
    const lines = tapped('e2e/line');
    assert.ok(lines.some((l) => l.payload === '[SYSTEM] Device ID: esp32-c3-bench-01' && l.topic === 'console/esp32-c3-bench-01'), JSON.stringify(lines));
    assert.ok(tapped('e2e/decoded').every((d) => d.kind === 'console'));
    await waitFor('a health state for the bench device', () => tapped('e2e/health').some((h) => h.topic === 'health/esp32-c3-bench-01'), 15_000);
    assert.doesNotMatch(red.output, /\[error\]/);
  });

  it('lists the machine\'s ports for the editor (no udevadm here: /dev is read) and stays up', async () => {
    const { status, body } = await red.getJson<{ ports: Array<{ path: string }> }>('/fleet-serial-port/ports');
    assert.equal(status, 200);
    assert.ok(body.ports.some((p) => p.path === fs.realpathSync(hostPath)), JSON.stringify(body));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await red.getJson<unknown>('/fleet-serial-port/ports')).status, 200, 'Node-RED is still up');
  });

  it('provisions the device, which then publishes on MQTT under its new id and joins the registry', async () => {
    client.publish('e2e/provision', JSON.stringify({ device_id: 'esp32-c3-201', port: broker.port, measurement_s: 1 }), { qos: 1 });
    await waitFor('a provisioning result', () => on('e2e/result').length >= 1, 15_000);
    const result = tapped('e2e/result')[0].payload as Record<string, unknown>;
    assert.deepEqual([result.ok, result.device_id, result.port], [true, 'esp32-c3-201', hostPath], JSON.stringify(result));
    assert.equal(device.config?.wifi_ssid, 'workbench', 'the flow\'s SSID reached the device');
    await waitFor('MQTT traffic of esp32-c3-201', () => seen.some((s) => s.topic.startsWith('esp32c3/full/esp32-c3-201/')), 15_000);
    await waitFor('esp32-c3-201 in the registry', async () => {
      const { body } = await red.getJson<{ devices: Array<{ id: string }> }>('/fleet-registry/sp-registry/devices');
      return body.devices.some((d) => d.id === 'esp32-c3-201');
    }, 15_000);
    await waitFor('its console under the new id', () => tapped('e2e/line').some((l) => l.payload === '[SYSTEM] Device ID: esp32-c3-201'), 5000);
  });

  it('reports an unplug (socat killed) and reads again after replug, without a redeploy', async () => {
    const before = tapped('e2e/line').length;
    const exited = new Promise<void>((r) => link?.once('exit', () => r()));
    link?.kill('SIGKILL');
    await exited;
    await waitFor('a disconnected status', () => tapped('e2e/status').some((st) => /^disconnected/.test(st.status ?? '')), 25_000);
    link = socat(devPath, hostPath);
    await waitFor('socat links again', () => exists(devPath) && exists(hostPath), 5000, 20);
    await waitFor('lines after the replug', () => tapped('e2e/line').slice(before).some((l) => String(l.payload).startsWith('[PERF]')), 20_000);
    assert.match(red.output, /disconnected/, 'the log says so');
  });

  it('never shows the Wi-Fi secret: flow file, flow credentials, log, debug, status, messages', async () => {
    assert.ok(device.written.some((l) => l.includes(SECRET)), 'the device saw the secret (echoed it back)');
    const flowFile = fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8');
    const credFile = path.join(red.userDir, 'flows_cred.json');
    const creds = exists(credFile) ? fs.readFileSync(credFile, 'utf8') : '';
    const everything = [flowFile, creds, red.output, ...seen.filter((s) => s.topic.startsWith('e2e/')).map((s) => s.payload)].join('\n');
    assert.ok(!everything.includes(SECRET), 'the secret leaked');
    assert.ok(tapped('e2e/line').some((l) => String(l.payload).includes('"password":"***"')), 'the echoed line is there, redacted');
  });
});
