/**
 * fleet-serial and fleet-serial-port in Node-RED through the test helper, on serialport's mock
 * binding: console lines shaped for fleet-decode, partial and overlong lines, provisioning with
 * credentials (never echoed), msg.port, a batch, a shared connection, recovery, and the port list.
 */
import assert from 'node:assert/strict';

import { MockBinding } from '@serialport/binding-mock';
import { SerialPortStream } from '@serialport/stream';
import helper from 'node-red-node-test-helper';
import type { Node } from 'node-red';

import { ackLine } from '../../firmware/contract/provisioning';
import type { PortLike } from '../../lib/serial/connection';
import type { PortSettings } from '../../lib/serial/config';
import decodeNode = require('../../nodes/fleet-decode/fleet-decode');
import serialPortNode = require('../../nodes/fleet-serial-port/fleet-serial-port');
import serialNode = require('../../nodes/fleet-serial/fleet-serial');
import { openPaths, usePortFactory } from '../../nodes/fleet-serial-port/pool';
import { collect, type Msg } from '../support/collect';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

type MockPort = { emitData(d: Buffer | string): void; recording: Buffer };
const streams = new Map<string, SerialPortStream[]>();
const mockFactory = (s: PortSettings): PortLike => {
  const stream = new SerialPortStream({ binding: MockBinding, path: s.path, baudRate: s.baudRate, autoOpen: false });
  streams.set(s.path, [...(streams.get(s.path) ?? []), stream]);
  return stream as unknown as PortLike;
};
const current = (path: string): SerialPortStream => { const l = streams.get(path) ?? []; return l[l.length - 1]; };
const mock = (path: string): MockPort => current(path).port as unknown as MockPort;
const isOpen = (path: string): boolean => current(path)?.isOpen === true;

const SECRET = 'wifi-secret-Zq9';
const MQTT_SECRET = 'mqtt-secret-Pw7';

/** A device on the mock port: answers every provisioning line written to it, echoing it first. */
function answerProvisioning(path: string, answer: (line: Record<string, unknown>) => Record<string, unknown> | null): () => void {
  const seenBy = new WeakMap<SerialPortStream, number>();
  const t = setInterval(() => {
    const s = current(path);
    if (!s?.isOpen) return;
    const seen = seenBy.get(s) ?? 0;
    const rec = mock(path).recording.toString();
    const lines = rec.split('\n').slice(0, -1);
    for (const l of lines.slice(seen)) {
      const parsed = JSON.parse(l) as Record<string, unknown>;
      const a = answer(parsed);
      mock(path).emitData(`[CONFIG] Received: ${l}\r\n`);
      if (a) mock(path).emitData(ackLine(a as never));
    }
    seenBy.set(s, lines.length);
  }, 10);
  return () => clearInterval(t);
}

function flow(extra: Array<{ id: string; type: string } & Record<string, unknown>> = []): Array<{ id: string; type: string } & Record<string, unknown>> {
  return [
    { id: 'f1', type: 'tab', label: 'serial' },
    { id: 'port', type: 'fleet-serial-port', path: '/dev/MOCK0', baudRate: 115200, lineMaxBytes: 1024 },
    { id: 'serial-console', type: 'fleet-serial', z: 'f1', serial: 'port', mode: 'console', wires: [['lines', 'decode']] },
    { id: 'prov', type: 'fleet-serial', z: 'f1', serial: 'port', mode: 'provision', timeoutS: 2, broker: '127.0.0.1', brokerPort: 1883, ssid: 'lab', wires: [['results']] },
    { id: 'decode', type: 'fleet-decode', z: 'f1', wires: [['decoded'], ['rejects']] },
    { id: 'lines', type: 'helper', z: 'f1' },
    { id: 'results', type: 'helper', z: 'f1' },
    { id: 'decoded', type: 'helper', z: 'f1' },
    { id: 'rejects', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
    ...extra,
  ];
}
const CREDS = { prov: { wifiPassword: SECRET, mqttPassword: MQTT_SECRET } };

describe('fleet-serial node (test helper, mock binding)', function () {
  this.timeout(20_000);
  let stopDevice: (() => void) | null = null;

  beforeEach(async () => {
    MockBinding.reset();
    for (const p of ['/dev/MOCK0', '/dev/MOCK1', '/dev/MOCK2']) MockBinding.createPort(p, { record: true });
    streams.clear();
    usePortFactory(mockFactory, { minMs: 20, maxMs: 100 });
    await helper.startServer();
  });
  afterEach(async () => {
    stopDevice?.();
    stopDevice = null;
    await helper.unload();
    await helper.stopServer();
    usePortFactory(null);
  });

  it('emits console lines with port, device and timestamp, which fleet-decode reads', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const lines = collect(helper.getNode('lines'));
    const decoded = collect(helper.getNode('decoded'));
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    mock('/dev/MOCK0').emitData('[PERF] Memory: Heap=46KB, Stack=8KB\r\n[SYSTEM] Device ID: esp32-c3-042\r\n[PERF] Sensor av');
    mock('/dev/MOCK0').emitData('erage: 440μs (target: <500μs)\r\n');
    await waitFor('three lines and decodes', () => lines.length >= 3 && decoded.length >= 3);
    assert.deepEqual(lines.map((m) => m.topic), ['console', 'console/esp32-c3-042', 'console/esp32-c3-042']);
    assert.equal(lines[2].payload, '[PERF] Sensor average: 440μs (target: <500μs)');
    assert.equal(lines[2].port, '/dev/MOCK0');
    assert.equal(lines[2].deviceId, 'esp32-c3-042');
    assert.ok(typeof lines[2].timestamp === 'number' && Math.abs((lines[2].timestamp as number) - Date.now()) < 5000);
    const last = decoded[2] as Msg & { device: { id: string }; payload: { event: string; sensor_avg_us: number } };
    assert.deepEqual([last.kind, last.device.id, last.payload.event, last.payload.sensor_avg_us], ['console', 'esp32-c3-042', 'perf-sensor', 440]);
  });

  it('drops an overlong line (a wrong baud rate) with a warning and keeps reading', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const lines = collect(helper.getNode('lines'));
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    const node = helper.getNode('serial-console') as Node & { warn: (m: string) => void };
    const warnings: string[] = [];
    const orig = node.warn.bind(node);
    node.warn = (m: string) => { warnings.push(m); orig(m); };
    const garbage = Buffer.alloc(100_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131) & 0xff;
    for (let i = 0; i < garbage.length; i++) if (garbage[i] === 0x0a) garbage[i] = 0x41;
    mock('/dev/MOCK0').emitData(garbage);
    mock('/dev/MOCK0').emitData('\n[PERF] Memory: Heap=46KB\n');
    await waitFor('the next line', () => lines.length >= 1);
    assert.deepEqual(lines.map((m) => m.payload), ['[PERF] Memory: Heap=46KB']);
    // The test helper loads no message catalog: the key stands for the text.
    assert.match(warnings.join('\n'), /fleet-serial.errors.tooLong|without newline was dropped \(limit 1024 bytes\)/);
  });

  it('provisions from credentials, reports the result, and never lets the secret out', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const lines = collect(helper.getNode('lines'));
    const results = collect(helper.getNode('results'));
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    stopDevice = answerProvisioning('/dev/MOCK0', (l) => ({ ack: 'provision', seq: l.seq, ok: true, device_id: l.device_id }));
    helper.getNode('prov').receive({ payload: { device_id: 'esp32-c3-101', measurement_s: 10 } } as never);
    await waitFor('a result', () => results.length >= 1);
    const r = results[0].payload as Record<string, unknown>;
    assert.deepEqual([r.ok, r.device_id, r.port, results[0].topic], [true, 'esp32-c3-101', '/dev/MOCK0', 'provision/esp32-c3-101']);
    const written = mock('/dev/MOCK0').recording.toString();
    assert.ok(written.includes(SECRET) && written.includes(MQTT_SECRET), 'the device got the secrets');
    assert.match(written, /"measurement_s":10,"heartbeat_s":60/);
    await waitFor('echo and ack on the console', () => lines.length >= 2);
    const everything = JSON.stringify(lines) + JSON.stringify(results);
    assert.ok(!everything.includes(SECRET) && !everything.includes(MQTT_SECRET), everything);
    assert.match(String(lines[0].payload), /"password":"\*\*\*"/);
    assert.equal(lines[1].topic, 'console/esp32-c3-101', 'the ack names the device on the shared port');
    assert.equal(openPaths().filter((p) => p === '/dev/MOCK0').length, 1, 'one connection for both nodes');
    assert.equal((streams.get('/dev/MOCK0') ?? []).length, 1);
  });

  it('reports a rejection with the device\'s reason, and a timeout', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const results = collect(helper.getNode('results'));
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    stopDevice = answerProvisioning('/dev/MOCK0', (l) => (l.device_id === 'silent-1' ? null : { ack: 'provision', seq: l.seq, ok: false, device_id: l.device_id, reason: 'wifi ssid lab not found' }));
    helper.getNode('prov').receive({ payload: { device_id: 'dev-1' } } as never);
    await waitFor('a rejection', () => results.length >= 1);
    assert.deepEqual([(results[0].payload as Record<string, unknown>).code, (results[0].payload as Record<string, unknown>).reason], ['rejected', 'wifi ssid lab not found']);
    helper.getNode('prov').receive({ payload: { device_id: 'silent-1' } } as never);
    await waitFor('a timeout', () => results.length >= 2, 5000);
    assert.equal((results[1].payload as Record<string, unknown>).code, 'timeout');
  });

  it('refuses a secret in the message and a bad field, as catchable errors', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const caught = collect(helper.getNode('caught'));
    helper.getNode('prov').receive({ payload: { device_id: 'dev-1', wifi_password: 'in-the-message' } } as never);
    helper.getNode('prov').receive({ payload: { device_id: 'dev/1' } } as never);
    helper.getNode('prov').receive({ payload: { device_id: 'dev-1' }, port: 'not a path' } as never);
    await waitFor('three errors', () => caught.length >= 3);
    const texts = caught.map((m) => (m.error as { message: string }).message);
    assert.match(texts[0], /payload\.wifi_password: (secrets come from|fleet-serial.errors.secretInMessage)/);
    assert.match(texts[1], /payload\.device_id: device id contains a topic separator/);
    assert.match(texts[2], /msg\.port: must be a device path/);
    assert.ok(!JSON.stringify(caught).includes('in-the-message'));
  });

  it('provisions on msg.port, and a batch with a result per device', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const results = collect(helper.getNode('results'));
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    const stops = ['/dev/MOCK0', '/dev/MOCK1', '/dev/MOCK2'].map((p) => answerProvisioning(p, (l) => ({ ack: 'provision', seq: l.seq, ok: true, device_id: l.device_id })));
    stopDevice = () => stops.forEach((s) => s());
    helper.getNode('prov').receive({ payload: { device_id: 'dev-on-1' }, port: '/dev/MOCK1' } as never);
    await waitFor('a result', () => results.length >= 1);
    assert.deepEqual([(results[0].payload as Record<string, unknown>).ok, (results[0].payload as Record<string, unknown>).port], [true, '/dev/MOCK1']);
    await waitFor('MOCK1 released', () => !openPaths().includes('/dev/MOCK1'));
    helper.getNode('prov').receive({ payload: [
      { device_id: 'dev-100', serial_port: '/dev/MOCK1' },
      { device_id: 'dev-101', serial_port: '/dev/MOCK2' },
      { device_id: 'dev-102', serial_port: '/dev/MOCK9' },
    ] } as never);
    await waitFor('batch result', () => results.length >= 2, 10_000);
    const batch = results[1].payload as Array<Record<string, unknown>>;
    assert.deepEqual(batch.map((r) => [r.device_id, r.ok, r.code ?? null]), [['dev-100', true, null], ['dev-101', true, null], ['dev-102', false, 'port-gone']]);
  });

  it('reports disconnected when the port vanishes and reads again after it is back, without a redeploy', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const lines = collect(helper.getNode('lines'));
    const statuses: string[] = [];
    (helper.getNode('serial-console') as unknown as { on(e: string, f: (c: { args: Array<{ text?: string }> }) => void): void }).on('call:status', (c) => statuses.push(c.args[0]?.text ?? ''));
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    const first = current('/dev/MOCK0');
    MockBinding.reset();
    (first as unknown as { _disconnected(e: Error): void })._disconnected(new Error('device unplugged'));
    await waitFor('disconnected status', () => statuses.some((s) => /^(fleet-serial\.status\.)?disconnected/.test(s)), 3000);
    MockBinding.createPort('/dev/MOCK0', { record: true });
    await waitFor('reopened', () => current('/dev/MOCK0') !== first && isOpen('/dev/MOCK0'), 3000);
    mock('/dev/MOCK0').emitData('[PERF] Memory: Heap=46KB\n');
    await waitFor('a line after replug', () => lines.length >= 1);
  });

  it('closes the port when the flow stops', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    await waitFor('port open', () => isOpen('/dev/MOCK0'));
    await helper.unload();
    assert.equal(isOpen('/dev/MOCK0'), false);
    assert.deepEqual(openPaths(), []);
  });

  it('lists ports through its admin endpoint, surviving a machine without udevadm', async () => {
    await helper.load([serialPortNode, serialNode, decodeNode, catchNode], flow(), CREDS);
    const res = await helper.request().get('/fleet-serial-port/ports').expect(200);
    const body = res.body as { ports: Array<{ path: string }> };
    assert.ok(Array.isArray(body.ports));
    await new Promise((r) => setTimeout(r, 300));
    const again = await helper.request().get('/fleet-serial-port/ports').expect(200);
    assert.deepEqual(again.body, res.body, 'the process is still alive and answers the same');
  });
});
