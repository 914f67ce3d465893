import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';

import commandNode = require('../../nodes/fleet-command/fleet-command');
import registryNode = require('../../nodes/fleet-registry/fleet-registry');

import type { Decoded } from '../../lib/decode/decoder';
import type { FleetRegistry } from '../../lib/registry/registry';

import { collect, type Msg } from '../support/collect';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

type Payload = Record<string, unknown>;
const until = <T>(what: string, probe: () => T | undefined | null | false, ms = 6000): Promise<T> => waitFor(what, probe, ms, 20);

const WIFI = 'correct-horse-battery-staple';

const FLEET = `fleet:
  name: test fleet
  devices:
    - device_id: env_001
      site: building-a
    - device_id: env_002
      site: building-b
    - device_id: env_003
      site: building-b
  configuration:
    base:
      network: { wifi_ssid: "Lab", wifi_password: "\${PROD_WIFI_PASSWORD}", mqtt_broker: "broker.local", mqtt_port: 8883, tls_enabled: true }
      sensor: { measurement_interval_seconds: 300 }
      system: { log_level: info }
    overrides:
      - device: env_001
        measurement_interval: 60
`;

let stateDir = '';

function flow(props: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'cmd', type: 'fleet-command', z: 'f1', name: 'commands', mode: 'push', fleetFile: FLEET, brokerUrl: 'mqtts://broker.local:8883', ackTimeoutS: 60, retries: 2, wires: [['mqtt'], ['results'], ['alerts']], ...props },
    { id: 'mqtt', type: 'helper', z: 'f1' },
    { id: 'results', type: 'helper', z: 'f1' },
    { id: 'alerts', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

async function load(props: Record<string, unknown> = {}) {
  const f = flow(props);
  await helper.load([commandNode, catchNode], f, { cmd: { wifiPassword: WIFI } });
  return {
    flowJson: JSON.stringify(f),
    cmd: helper.getNode('cmd') ?? (() => { throw new Error(JSON.stringify(helper.log().args.slice(-30))); })(),
    mqtt: collect(helper.getNode('mqtt')),
    results: collect(helper.getNode('results')),
    alerts: collect(helper.getNode('alerts')),
    caught: collect(helper.getNode('caught')),
  };
}

const errorText = (m: Msg): string => String((m.error as { message?: unknown }).message);

describe('fleet-command node (in Node-RED through the test helper)', function () {
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-command-'));
    process.env.FLEET_STATE_DIR = stateDir;
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('dry run: a per-device diff on output 2 and nothing on output 1', async () => {
    const n = await load();
    n.cmd.receive({ payload: '', dryRun: true } as never);
    const plan = await until('dry run', () => n.results.find((m) => m.topic === 'fleet-command/dry-run'));
    const devices = (plan.payload as Payload).devices as Payload[];
    assert.deepEqual(devices.map((d) => [d.device, d.action]), [['env_001', 'push'], ['env_002', 'push'], ['env_003', 'push']]);
    const change = (devices[0].changes as Payload[]).find((c) => c.field === 'sensor.measurement_interval_seconds');
    assert.deepEqual(change, { field: 'sensor.measurement_interval_seconds', to: 60 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(n.mqtt.length, 0);
    assert.equal(n.caught.length, 0);
  });

  it('pushes every device once, then only the device whose configuration changed', async () => {
    const n = await load();
    n.cmd.receive({ payload: '' } as never);
    await until('3 pushes', () => n.mqtt.length === 3 || undefined);
    assert.deepEqual(n.mqtt.map((m) => m.topic), ['config/update/env_001', 'config/update/env_002', 'config/update/env_003']);
    const p1 = n.mqtt[0].payload as Payload;
    assert.equal((p1.config as { sensor: Payload }).sensor.measurement_interval_seconds, 60);
    assert.equal(((p1.config as { network: Payload }).network).wifi_password, WIFI, 'the broker gets the value');
    n.cmd.receive({ topic: 'config/ack/env_001', payload: Buffer.from(JSON.stringify({ config_version: p1.config_version, result: 'applied' })) } as never);
    await until('applied', () => n.results.find((m) => m.topic === 'fleet-command/result/env_001' && (m.payload as Payload).state === 'applied'));
    n.cmd.receive({ payload: '' } as never);
    await until('second plan', () => n.results.filter((m) => m.topic === 'fleet-command/plan').length === 2 || undefined);
    assert.equal(n.mqtt.length, 3, 'nothing changed: nothing sent');
    n.cmd.receive({ payload: '', deviceOverrides: { env_002: { measurement_interval: 120 } } } as never);
    await until('4th push', () => n.mqtt.length === 4 || undefined);
    assert.equal(n.mqtt[3].topic, 'config/update/env_002');
    assert.equal((n.mqtt[3].payload as Payload).config_version, 2, 'a newer push supersedes the pending one');
  });

  it('settles a push from a decoded answer or status that fleet-decode hands on', async () => {
    const n = await load();
    n.cmd.receive({ payload: '' } as never);
    await until('3 pushes', () => n.mqtt.length === 3 || undefined);
    const [v1, v2] = [n.mqtt[0].payload as Payload, n.mqtt[1].payload as Payload];
    n.cmd.receive({ topic: 'config/ack/env_001', kind: 'config-ack', device: { id: 'env_001' }, payload: { config_version: v1.config_version, result: 'applied' } } as never);
    n.cmd.receive({ topic: 'esp32c3/full/env_002/status', kind: 'status', device: { id: 'env_002' }, payload: { status: 'online', config_hash: v2.config_hash } } as never);
    n.cmd.receive({ topic: 'esp32c3/full/env_003/status', kind: 'status', device: { id: 'env_003' }, payload: { status: 'online', config_version: 99 } } as never);
    await until('two applied', () => n.results.filter((m) => String(m.topic).startsWith('fleet-command/result/') && (m.payload as Payload).state === 'applied').length === 2 || undefined);
    const via = n.results.filter((m) => (m.payload as Payload).state === 'applied').map((m) => [(m.payload as Payload).device, (m.payload as Payload).via]);
    assert.deepEqual(via, [['env_001', 'reply'], ['env_002', 'status']]);
    const summary = n.results.filter((m) => m.topic === 'fleet-command/summary').at(-1)!;
    assert.deepEqual([(summary.payload as { acks: Payload }).acks.applied, (summary.payload as { acks: Payload }).acks.pending], [2, 1], 'another version does not count');
  });

  it('never sends an invalid configuration: the catchable error names the device and field', async () => {
    const n = await load();
    n.cmd.receive({ payload: '', deviceOverrides: { env_003: { measurement_interval: 0 } } } as never);
    const err = await until('error', () => n.caught[0]);
    assert.match(errorText(err), /device env_003: sensor\.measurement_interval_seconds must be >= 1/);
    assert.deepEqual(n.mqtt.map((m) => m.topic), ['config/update/env_001', 'config/update/env_002']);
  });

  it('refuses a secret over an unencrypted broker connection unless allowed', async () => {
    const n = await load({ brokerUrl: 'mqtt://broker.local:1883' });
    n.cmd.receive({ payload: '' } as never);
    const err = await until('error', () => n.caught[0]);
    assert.match(errorText(err), /not encrypted/);
    assert.equal(n.mqtt.length, 0);
    await helper.unload();
    const m = await load({ brokerUrl: 'mqtt://broker.local:1883', allowCleartextSecrets: true });
    m.cmd.receive({ payload: '' } as never);
    await until('3 pushes', () => m.mqtt.length === 3 || undefined);
  });

  it('keeps the secret out of output 2, output 3, status, errors, the journal and the flow file', async () => {
    const n = await load();
    const statuses: unknown[] = [];
    (n.cmd as unknown as { on(e: string, f: (c: { args: unknown[] }) => void): void }).on("call:status", (c) => statuses.push(c.args));
    // The value is also written into a plain field by mistake, where only the redactor can catch it.
    n.cmd.receive({ payload: '', deviceOverrides: { env_002: { wifi_ssid: WIFI, measurement_interval: 0 } } } as never);
    await until('error', () => n.caught[0]);
    n.cmd.receive({ payload: { emergency: 'shutdown', scope: 'fleet', confirm: 'shutdown fleet', reason: `pw ${WIFI}` } } as never);
    await until('alert', () => n.alerts[0]);
    n.cmd.receive({ topic: 'fleet-command/summary' } as never);
    await until('summary', () => n.results.find((m) => Array.isArray(m.audit)));
    await new Promise((r) => setTimeout(r, 1200));
    const visible = JSON.stringify([n.results, n.alerts, n.caught.map(errorText), statuses, helper.log().args]);
    assert.ok(!visible.includes(WIFI), 'no secret in results, alerts, errors, status or log');
    assert.ok(JSON.stringify(n.mqtt).includes(WIFI), 'the broker output has it');
    assert.ok(!n.flowJson.includes(WIFI), 'credentials are not in the flow');
    const journal = fs.readdirSync(stateDir).map((f) => fs.readFileSync(path.join(stateDir, f), 'utf8')).join('');
    assert.ok(journal.includes('pending/'), 'the journal holds the pending pushes');
    assert.ok(!journal.includes(WIFI), 'no secret in the journal');
  });

  it('refuses an emergency without its confirmation phrase as a catchable error, and rate-limits stops', async () => {
    const n = await load({ mode: 'emergency' });
    n.cmd.receive({ payload: { emergency: 'shutdown', scope: 'fleet' } } as never);
    const err = await until('refusal', () => n.caught[0]);
    assert.match(errorText(err), /needs msg\.payload\.confirm = "shutdown fleet"/);
    n.cmd.receive({ payload: { emergency: 'shutdown', scope: { site: 'building-b' } }, confirm: 'shutdown fleet' } as never);
    await until('2nd refusal', () => n.caught[1]);
    assert.match(errorText(n.caught[1]), /"shutdown site building-b" \(got "shutdown fleet"\)/);
    assert.equal(n.mqtt.length, 0);

    n.cmd.receive({ confirm: 'shutdown fleet' } as never);
    await until('stop sent', () => n.mqtt.length === 3 || undefined);
    assert.deepEqual(n.mqtt.map((m) => [m.topic, (m.payload as Payload).action]), [['esp32/env_001/emergency', 'shutdown'], ['esp32/env_002/emergency', 'shutdown'], ['esp32/env_003/emergency', 'shutdown']]);
    const alert = n.alerts[0].payload as Payload;
    assert.equal((alert.labels as Payload).alertname, 'FleetEmergencyStop');
    assert.equal(alert.status, 'firing');
    const commanded = n.results.find((m) => m.topic === 'commanded')!;
    assert.deepEqual(commanded.payload, { action: 'shutdown', devices: ['env_001', 'env_002', 'env_003'] });

    n.cmd.receive({ confirm: 'shutdown fleet' } as never);
    n.cmd.receive({ confirm: 'shutdown fleet' } as never);
    await until('rate limit', () => n.caught.find((m) => /rate-limited/.test(errorText(m))));
    assert.equal(n.mqtt.length, 6, 'two stops went, the third was refused');
    // Resume has its own bucket.
    n.cmd.receive({ action: 'resume', confirm: 'resume fleet' } as never);
    await until('resume', () => n.alerts.find((m) => (m.payload as Payload).status === 'resolved'));
    assert.equal(n.results.filter((m) => m.topic === 'commanded').at(-1)!.payload && (n.results.filter((m) => m.topic === 'commanded').at(-1)!.payload as Payload).action, 'resume');
  });

  it('re-sends an unanswered push, then marks it failed; the pending push survives a restart', async () => {
    const n = await load({ ackTimeoutS: 1, retries: 1 });
    n.cmd.receive({ payload: '', targets: 'env_002' } as never);
    await until('sent', () => n.mqtt.length === 1 || undefined);
    await until('resent', () => n.mqtt.length === 2 || undefined, 4000);
    assert.equal(n.mqtt[1].topic, 'config/update/env_002');
    const failed = await until('failed', () => n.results.find((m) => m.topic === 'fleet-command/result/env_002' && (m.payload as Payload).state === 'failed'), 5000);
    assert.equal((failed.payload as Payload).attempts, 2);

    await helper.unload();
    const m = await load({ ackTimeoutS: 30 });
    m.cmd.receive({ payload: '', targets: 'env_001' } as never);
    await until('sent', () => m.mqtt.length === 1 || undefined);
    await helper.unload();
    // Same node id, same journal: the pending push is known, so the same file sends nothing new.
    const k = await load({ ackTimeoutS: 30 });
    k.cmd.receive({ payload: '', targets: 'env_001' } as never);
    await until('plan', () => k.results.find((x) => x.topic === 'fleet-command/plan'));
    assert.equal(k.mqtt.length, 0);
    k.cmd.receive({ topic: 'config/ack/env_001', payload: '{"config_version":1,"result":"rejected","reason":"sensor.measurement_interval_seconds: too short"}' } as never);
    const r = await until('rejected', () => k.results.find((x) => x.topic === 'fleet-command/result/env_001'));
    assert.deepEqual([(r.payload as Payload).state, (r.payload as Payload).reason], ['rejected', 'sensor.measurement_interval_seconds: too short']);
  });

  it('refuses a bad fleet file with the path and line, and keeps working', async () => {
    const n = await load({ fleetFile: '' });
    n.cmd.receive({ payload: 'fleet:\n  devices:\n    - device_id: a\n      overrides:\n        measurement_intervall: 5\n' } as never);
    const err = await until('error', () => n.caught[0]);
    assert.match(errorText(err), /msg\.payload:5: .*measurement_intervall/);
    n.cmd.receive({ payload: FLEET } as never);
    await until('pushes', () => n.mqtt.length === 3 || undefined);
  });
});

describe('fleet-command admin endpoint', function () {
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-command-'));
    process.env.FLEET_STATE_DIR = stateDir;
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('checks a fleet file with the runtime\'s parser and resolver, answering errors only', async () => {
    process.env.PROD_WIFI_PASSWORD = WIFI;
    try {
      await load();
      const good = await helper.request().post('/fleet-command/validate').send({ text: FLEET }).expect(200);
      assert.deepEqual([good.body.ok, good.body.devices, good.body.errors], [true, 3, []]);
      assert.ok(!JSON.stringify(good.body).includes(WIFI));
      const bad = await helper.request().post('/fleet-command/validate').send({ text: FLEET.replace('measurement_interval: 60', 'measurement_interval: 999999') }).expect(200);
      assert.equal(bad.body.ok, false);
      assert.match(bad.body.errors[0], /device env_001: sensor\.measurement_interval_seconds must be <= 86400 \(set at fleet\.configuration\.overrides\[0\]\.measurement_interval\)/);
      const yaml = await helper.request().post('/fleet-command/validate').send({ text: 'fleet: [' }).expect(200);
      assert.match(yaml.body.errors[0], /fleet file: is not valid YAML/);
      await helper.request().post('/fleet-command/validate').send({ other: 1 }).expect(400);
    } finally {
      delete process.env.PROD_WIFI_PASSWORD;
    }
  });
});

describe('fleet-command with a registry: its audit trail and its labels', function () {
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-command-'));
    process.env.FLEET_STATE_DIR = stateDir;
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  async function loadWithRegistry(props: Record<string, unknown> = {}, auditMax: unknown = 10) {
    const f = [...flow({ registry: 'reg', ...props }), { id: 'reg', type: 'fleet-registry', name: 'fleet', persist: false, flushMs: 200, auditMax }];
    await helper.load([commandNode, registryNode, catchNode], f, { cmd: { wifiPassword: WIFI } });
    return {
      cmd: helper.getNode('cmd'),
      fleet: (helper.getNode('reg') as unknown as { fleet: FleetRegistry }).fleet,
      mqtt: collect(helper.getNode('mqtt')),
      results: collect(helper.getNode('results')),
      alerts: collect(helper.getNode('alerts')),
      caught: collect(helper.getNode('caught')),
    };
  }
  const audit = async (query = '') => (await helper.request().get(`/fleet-registry/reg/audit${query}`).expect(200)).body as { size: number; capacity: number; entries: Payload[] };

  it('records a push with who, what and when, and updates its result as devices answer, fail or time out', async () => {
    const n = await loadWithRegistry({ ackTimeoutS: 1, retries: 0 });
    n.cmd.receive({ payload: '', by: 'alice' } as never);
    await until('3 pushes', () => n.mqtt.length === 3 || undefined);
    const [first] = (await audit()).entries;
    assert.deepEqual([first.action, first.who, first.node, first.actor, first.count, first.target], ['config-push', 'alice', 'cmd', 'alice', 3, 'env_001, env_002, env_003']);
    assert.equal(first.what, 'config push (test fleet)');
    assert.ok(Math.abs(Date.parse(String(first.at)) - Date.now()) < 60_000);
    assert.deepEqual(first.outcome, { pending: 3, applied: 0, rejected: 0, failed: 0, superseded: 0 });

    const v = (i: number) => n.mqtt[i].payload as Payload;
    n.cmd.receive({ topic: 'config/ack/env_001', payload: JSON.stringify({ config_version: v(0).config_version, result: 'applied' }) } as never);
    n.cmd.receive({ topic: 'config/ack/env_002', payload: JSON.stringify({ config_version: v(1).config_version, result: 'rejected', reason: 'sensor.bme280_address: no sensor' }) } as never);
    await until('the timeout of env_003', () => n.results.find((m) => m.topic === 'fleet-command/result/env_003' && (m.payload as Payload).state === 'failed'), 5000);
    const settled = (await audit()).entries[0];
    assert.deepEqual(settled.outcome, { pending: 0, applied: 1, rejected: 1, failed: 1, superseded: 0 });
    assert.match(String(settled.result), /3 sent: 1 applied, 1 rejected, 1 failed$/);
    assert.deepEqual((settled.problems as Payload[]).map((p) => [p.device, p.state]), [['env_002', 'rejected'], ['env_003', 'failed']]);
    assert.equal((settled.problems as Payload[])[0].reason, 'sensor.bme280_address: no sensor');

    // The same trail on output 2, for a flow (fleet-command/audit), says where it is kept.
    n.cmd.receive({ topic: 'fleet-command/audit', since: 0 } as never);
    const viaMsg = await until('audit message', () => n.results.find((m) => m.topic === 'fleet-command/audit'));
    assert.equal((viaMsg.payload as Payload).source, 'registry');
    assert.deepEqual(((viaMsg.payload as Payload).entries as Payload[])[0], settled);
    assert.ok(!JSON.stringify(await audit()).includes(WIFI));
    assert.equal(n.caught.length, 0);
  });

  it('keeps at most the registry\'s capacity, the newest, in memory and on disk', async () => {
    const n = await loadWithRegistry({}, 10);
    for (let i = 0; i < 14; i++) n.cmd.receive({ payload: '', dryRun: true, by: `op-${i}` } as never);
    await until('14 dry runs', () => n.results.filter((m) => m.topic === 'fleet-command/dry-run').length === 14 || undefined);
    const a = await audit('?limit=1000');
    assert.deepEqual([a.size, a.capacity, a.entries.length], [10, 10, 10]);
    assert.deepEqual(a.entries.map((e) => e.who), Array.from({ length: 10 }, (_, i) => `op-${i + 4}`));
    assert.deepEqual((await audit('?since=12')).entries.map((e) => e.seq), [13, 14]);
    await helper.request().get('/fleet-registry/reg/audit?limit=abc').expect(400);
    await helper.request().get('/fleet-registry/nope/audit').expect(404);
    const journal = fs.readFileSync(path.join(stateDir, 'fleet-registry-reg.jsonl'), 'utf8');
    const live = new Map<string, boolean>();
    for (const line of journal.trim().split('\n')) { const r = JSON.parse(line) as { k: string; d?: number }; live.set(r.k, r.d !== 1); }
    assert.equal([...live.values()].filter(Boolean).length, 10, 'the journal holds ten live entries');
  });

  it('survives a restart: the trail is read back and a pending push still updates its entry', async () => {
    let n = await loadWithRegistry({ ackTimeoutS: 60 });
    n.cmd.receive({ payload: '', targets: 'env_001', by: 'bob' } as never);
    await until('sent', () => n.mqtt.length === 1 || undefined);
    const version = (n.mqtt[0].payload as Payload).config_version;
    await helper.unload();
    n = await loadWithRegistry({ ackTimeoutS: 60 });
    const before = (await audit()).entries;
    assert.deepEqual(before.map((e) => [e.seq, e.who, (e.outcome as Payload).pending]), [[1, 'bob', 1]]);
    n.cmd.receive({ topic: 'config/ack/env_001', payload: JSON.stringify({ config_version: version, result: 'applied' }) } as never);
    await until('applied', () => n.results.find((m) => m.topic === 'fleet-command/result/env_001'));
    const after = (await audit()).entries;
    assert.deepEqual(after[0].outcome, { pending: 0, applied: 1, rejected: 0, failed: 0, superseded: 0 });
    n.cmd.receive({ payload: { command: 'reset', device: 'env_002' } } as never);
    await until('reset', () => n.mqtt.length === 1 || undefined);
    assert.deepEqual((await audit()).entries.map((e) => [e.seq, e.action, e.what]), [[1, 'config-push', 'config push (test fleet)'], [2, 'command', 'reset']]);
  });

  it('an emergency stop of a site reaches the devices the registry labels with that site, not only the fleet file\'s', async () => {
    const n = await loadWithRegistry({ mode: 'emergency' });
    const seen = (id: string) => n.fleet.record({ device: { id, kind: 'env-sensor', arch: 'full', firmware: '1.2.0' }, kind: 'status', payload: {}, receivedAt: Date.now(), retained: false } as unknown as Decoded);
    for (const id of ['env_009', 'env_010', 'env_001']) seen(id);
    n.fleet.setLabels('env_009', { site: 'building-b' });
    n.fleet.setLabels('env_010', { site: 'building-c' });
    // The registry's label adds to the file's: env_001 is building-a in the file and building-b here.
    n.fleet.setLabels('env_001', { site: 'building-b' });
    n.cmd.receive({ payload: { emergency: 'shutdown', scope: { site: 'building-b' }, confirm: 'shutdown site building-b' } } as never);
    await until('stop sent', () => n.mqtt.length > 0 || undefined);
    assert.deepEqual(n.mqtt.map((m) => m.topic).sort(), ['esp32/env_001/emergency', 'esp32/env_002/emergency', 'esp32/env_003/emergency', 'esp32/env_009/emergency']);
    const commanded = await until('commanded', () => n.results.find((m) => m.topic === 'commanded'));
    assert.ok(((commanded.payload as Payload).devices as string[]).includes('env_009'));
    assert.equal(((n.alerts[0].payload as Payload).details as Payload).devices, 4);
    // A reset by label selector reads the registry's labels too.
    n.cmd.receive({ payload: { command: 'reset', selector: { site: 'building-c' } } } as never);
    await until('reset', () => n.mqtt.some((m) => m.topic === 'esp32/env_010/command') || undefined);
    const [stop] = (await audit()).entries;
    assert.equal(stop.target, 'site building-b (env_001, env_002, env_003, env_009)');
  });

  it('without a registry keeps the trail itself, and says so', async () => {
    const n = await load();
    n.cmd.receive({ payload: '', dryRun: true } as never);
    n.cmd.receive({ topic: 'fleet-command/audit' } as never);
    const m = await until('audit message', () => n.results.find((x) => x.topic === 'fleet-command/audit'));
    assert.equal((m.payload as Payload).source, 'node');
    assert.deepEqual(((m.payload as Payload).entries as Payload[]).map((e) => [e.action, e.who]), [['config-dry-run', 'commands']]);
  });
});
