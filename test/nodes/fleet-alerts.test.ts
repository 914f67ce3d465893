import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';

import alertsNode = require('../../nodes/fleet-alerts/fleet-alerts');

import { alertTopic, makeAlert } from '../../lib/alert-shape';
import { alertMsg } from '../../nodes/fleet-steel/messages';
import { collect } from '../support/collect';
import { waitFor } from '../support/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (red: unknown) => void;

helper.init(require.resolve('node-red'));

const until = <T>(what: string, probe: () => T | undefined | null | false, ms = 6000): Promise<T> => waitFor(what, probe, ms, 20);

type Payload = Record<string, unknown>;

const ROUTING = {
  route: {
    receiver: 'dashboard', group_by: ['alertname', 'site'], group_wait: '0s', group_interval: '1s',
    routes: [
      { matchers: ['severity="critical"'], receiver: 'chat', continue: true },
      { matchers: ['severity=~"critical|major"'], receiver: 'email' },
    ],
  },
};

function flow(props: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab', label: 't' },
    { id: 'al', type: 'fleet-alerts', z: 'f1', receivers: ['dashboard', 'email', 'chat'], routing: JSON.stringify(ROUTING), outputs: 3, wires: [['dash'], ['email'], ['chat']], ...props },
    { id: 'dash', type: 'helper', z: 'f1' },
    { id: 'email', type: 'helper', z: 'f1' },
    { id: 'chat', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

const critical = (device: string, site = 'north', status = 'firing') => ({ name: 'DeviceCritical', severity: 'critical', summary: `${device} is critical`, device, labels: { site }, status });

describe('fleet-alerts node (in Node-RED through the test helper)', function () {
  afterEach(async () => { await helper.unload(); });

  it('routes an alert to every receiver its routes name, one notification per group, with subject and text', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const [email, chat, dash] = [collect(helper.getNode('email')), collect(helper.getNode('chat')), collect(helper.getNode('dash'))];
    const al = helper.getNode('al');
    al.receive({ payload: critical('d-1') } as never);
    al.receive({ payload: critical('d-2') } as never);
    const m = await until('email', () => email[0]);
    await until('chat', () => chat[0]);
    assert.equal(dash.length, 0);
    assert.equal(m.topic, '[FIRING:2] alertname=DeviceCritical site=north');
    assert.match(String(m.payload), /d-1 is critical/);
    assert.equal(String((m.webhook as Payload).text).split("\n")[0], m.topic);
    assert.equal(((m.notification as Payload).alerts as unknown[]).length, 2);
  });

  it('takes fleet-ota\'s and fleet-steel\'s alerts as they send them (the dashboard tab wires both here)', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const [email, chat, caught] = [collect(helper.getNode('email')), collect(helper.getNode('chat')), collect(helper.getNode('caught'))];
    const al = helper.getNode('al');
    const now = Date.now();
    // fleet-ota's 4th output: the topic lib/ota/service.ts gives it (alertTopic), the alert as lib/ota/rollout.ts makes it.
    const aborted = makeAlert({
      name: 'OtaRolloutAborted', severity: 'critical', device: null, summary: 'rollout r-1 aborted: 3 of 5 devices in wave 2 failed', startsAt: now, source: 'fleet-ota',
      labels: { rollout: 'r-1', wave: 'wave 2', kind: 'env-sensor', version: '1.3.0' }, details: { summary: { failed: 3 } },
    });
    al.receive({ topic: alertTopic(aborted), payload: aborted } as never);
    // fleet-steel's 4th output, through its own message builder.
    al.receive(alertMsg(makeAlert({ name: 'SteelSuccessRateLow', severity: 'major', device: null, summary: 'Steel program sensor-monitor: success rate 80 % is under the target', startsAt: now, source: 'fleet-steel', labels: { program: 'sensor-monitor' } })) as never);
    const ota = await until('the OTA alert in chat', () => chat.find((m) => String(m.topic).includes('alertname=OtaRolloutAborted')));
    assert.match(String(ota.payload), /rollout r-1 aborted/);
    await until('the OTA alert by e-mail', () => email.find((m) => String(m.topic).includes('alertname=OtaRolloutAborted')));
    await until('the Steel alert by e-mail', () => email.find((m) => String(m.topic).includes('alertname=SteelSuccessRateLow')));
    assert.ok(!chat.some((m) => String(m.topic).includes('SteelSuccessRateLow')), 'a major alert is not routed to chat');
    assert.equal(caught.length, 0);
  });

  it('a silence by message mutes matching alerts', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const email = collect(helper.getNode('email'));
    const al = helper.getNode('al');
    al.receive({ topic: 'silence', payload: { matchers: ['site=north'], duration: '1h', comment: 'maintenance' } } as never);
    al.receive({ payload: critical('d-1', 'north') } as never);
    al.receive({ payload: critical('d-2', 'south') } as never);
    await until('south', () => email.find((m) => String(m.topic).includes('site=south')));
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!email.some((m) => String(m.topic).includes('site=north')));
  });

  it('sends the resolve for a resolved alert', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const email = collect(helper.getNode('email'));
    const al = helper.getNode('al');
    al.receive({ payload: critical('d-1') } as never);
    await until('firing', () => email[0]);
    al.receive({ payload: critical('d-1', 'north', 'resolved') } as never);
    const r = await until('resolve', () => email.find((m) => String(m.topic).startsWith('[RESOLVED]')));
    assert.equal((r.notification as Payload).resolved, 1);
  });

  it('takes a device\'s own alert as fleet-decode delivers it', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const dash = collect(helper.getNode('dash'));
    helper.getNode('al').receive({ kind: 'alert', device: { id: 'esp32c3_001', kind: 'env-monitor', labels: { site: 'west' } }, payload: { level: 'Warning', severity: 'warning', message: 'Low memory warning' } } as never);
    const m = await until('dashboard', () => dash[0]);
    assert.match(String(m.payload), /esp32c3_001: Low memory warning/);
  });

  it('refuses a bad alert and a bad routing configuration with catchable errors that say where', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const caught = collect(helper.getNode('caught'));
    helper.getNode('al').receive({ payload: { name: 'X', severity: 5, summary: 's' } } as never);
    await until('error', () => caught[0]);
    assert.match(String((caught[0].error as Payload).message), /payload\.severity/);
    await helper.unload();

    await helper.load([alertsNode, catchNode], flow({ routing: JSON.stringify({ route: { receiver: 'dashboard', routes: [{ receiver: 'pager' }] } }) }));
    const caught2 = collect(helper.getNode('caught'));
    helper.getNode('al').receive({ payload: critical('d-1') } as never);
    await until('config error', () => caught2[0]);
    assert.match(String((caught2[0].error as Payload).message), /route\.routes\[0\] receiver: receiver "pager" is not defined/);
  });
});

describe('fleet-alerts node: hostile alerts, idempotency keys and restarts', function () {
  afterEach(async () => { await helper.unload(); delete process.env.FLEET_STATE_DIR; });

  it('refuses a device alert with a time no Date holds, 200 labels or a 1 MiB label, naming the field, and keeps working', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const caught = collect(helper.getNode('caught'));
    const dash = collect(helper.getNode('dash'));
    const al = helper.getNode('al');
    const device = (labels: Record<string, string> = { site: 'west' }) => ({ id: 'esp32c3_001', kind: 'env-monitor', labels });
    al.receive({ kind: 'alert', device: device(), payload: { severity: 'warning', message: 'm', timestamp: 9e15 } } as never);
    al.receive({ kind: 'alert', device: device(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`l${i}`, 'v']))), payload: { severity: 'warning', message: 'm' } } as never);
    al.receive({ kind: 'alert', device: device({ site: 'x'.repeat(1 << 20) }), payload: { severity: 'warning', message: 'm' } } as never);
    al.receive({ payload: { ...critical('d-1'), labels: { site: 'y'.repeat(1 << 20) } } } as never);
    await until('four errors', () => caught.length >= 4 && caught);
    const messages = caught.map((m) => String((m.error as Payload).message));
    assert.match(messages[0], /payload\.timestamp/);
    assert.match(messages[1], /labels: 200 labels; at most 64/);
    assert.match(messages[2], /payload\.labels\.site: over 4096 characters/);
    assert.match(messages[3], /payload\.labels/);
    al.receive({ kind: 'alert', device: device(), payload: { severity: 'warning', message: 'Low memory warning' } } as never);
    const m = await until('the next alert still goes out', () => dash[0]);
    assert.match(String(m.payload), /Low memory warning/);
  });

  it('every notification carries its idempotency key: msg.idempotencyKey, the webhook body and an e-mail header', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const email = collect(helper.getNode('email'));
    helper.getNode('al').receive({ payload: critical('d-1') } as never);
    const m = await until('email', () => email[0]);
    const id = (m.notification as Payload).id;
    assert.match(String(id), /^[0-9a-f]{32}$/);
    assert.equal(m.idempotencyKey, id);
    assert.equal((m.webhook as Payload).idempotencyKey, id);
    assert.deepEqual(m.headers, { 'Idempotency-Key': id });
  });

  it('keeps its state in a journal under FLEET_STATE_DIR: a reload sends nothing again, and a resolve still goes out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-alerts-node-'));
    process.env.FLEET_STATE_DIR = dir;
    try {
      await helper.load([alertsNode, catchNode], flow());
      let email = collect(helper.getNode('email'));
      helper.getNode('al').receive({ payload: critical('d-1') } as never);
      await until('email', () => email[0]);
      await new Promise((r) => setTimeout(r, 1200)); // past the outbox write of the next tick
      helper.getNode('al').receive({ payload: { ...critical('d-1', 'north'), labels: { site: 'north' } }, notification: { id: (email[0].notification as Payload).id }, idempotencyKey: (email[0].notification as Payload).id } as never);
      await helper.unload();
      assert.ok(fs.existsSync(path.join(dir, 'fleet-alerts-al.jsonl')));

      await helper.load([alertsNode, catchNode], flow());
      email = collect(helper.getNode('email'));
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(email.length, 0, 'nothing sent again');
      helper.getNode('al').receive({ payload: critical('d-1', 'north', 'resolved') } as never);
      const r = await until('resolve', () => email.find((x) => String(x.topic).startsWith('[RESOLVED]')));
      assert.equal((r.notification as Payload).resolved, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends again, with the same key, a notification written to the outbox but not confirmed before a crash', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-alerts-node-'));
    process.env.FLEET_STATE_DIR = dir;
    try {
      await helper.load([alertsNode, catchNode], flow());
      const email = collect(helper.getNode('email'));
      helper.getNode('al').receive({ payload: critical('d-1') } as never);
      const first = await until('email', () => email[0]);
      // A crash right after the send: the journal as it was then, without what a clean close adds.
      const copy = path.join(dir, 'copy.jsonl');
      fs.copyFileSync(path.join(dir, 'fleet-alerts-al.jsonl'), copy);
      await helper.unload();
      fs.renameSync(copy, path.join(dir, 'fleet-alerts-al.jsonl'));

      await helper.load([alertsNode, catchNode], flow());
      const again = collect(helper.getNode('email'));
      const m = await until('redelivery', () => again[0]);
      assert.equal(m.idempotencyKey, first.idempotencyKey);
      assert.equal(m.redelivery, true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fleet-alerts admin endpoints', function () {
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  it('checks a configuration and answers which receivers a sample alert reaches', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const ok = await helper.request().post('/fleet-alerts/check').send({ receivers: ['dashboard', 'email', 'chat'], routing: JSON.stringify(ROUTING), labels: { severity: 'critical', site: 'north' } }).expect(200);
    assert.deepEqual(ok.body.receivers.map((r: { receiver: string }) => r.receiver), ['chat', 'email']);
    const bad = await helper.request().post('/fleet-alerts/check').send({ receivers: ['dashboard'], routing: JSON.stringify(ROUTING) }).expect(200);
    assert.deepEqual([bad.body.ok, bad.body.path, bad.body.field], [false, 'route.routes[0]', 'receiver']);
  });

  it('imports Alertmanager YAML and exports it back', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const imp = await helper.request().post('/fleet-alerts/import').send({ yaml: 'route:\n  receiver: ops\nreceivers:\n  - name: ops\n' }).expect(200);
    assert.deepEqual(imp.body.config.receivers, ['ops']);
    const exp = await helper.request().post('/fleet-alerts/export').send({ receivers: ['ops'], routing: JSON.stringify({ route: { receiver: 'ops' } }) }).expect(200);
    assert.match(exp.text, /receiver: ops/);
  });

  it('refuses malformed requests with 400 and a field, and bodies over 256 KiB with 413', async () => {
    await helper.load([alertsNode, catchNode], flow());
    const exp = await helper.request().post('/fleet-alerts/export').send({ receivers: ['ops'], routing: '{"route":' }).expect(400);
    assert.deepEqual([exp.body.ok, exp.body.field], [false, 'routing']);
    assert.match(exp.body.reason, /not valid JSON/);
    await helper.request().post('/fleet-alerts/export').send({ receivers: 'ops', routing: '{}' }).expect(400);
    await helper.request().post('/fleet-alerts/export').send({ routing: JSON.stringify({ route: 5 }) }).expect(400);
    await helper.request().post('/fleet-alerts/export').send({ routing: JSON.stringify({ route: { receiver: 'ops' }, inhibit_rules: {} }) }).expect(400);
    const imp = await helper.request().post('/fleet-alerts/import').send({ yaml: 5 }).expect(400);
    assert.equal(imp.body.field, 'yaml');
    const chk = await helper.request().post('/fleet-alerts/check').send({ receivers: ['dashboard', 'email', 'chat'], routing: JSON.stringify(ROUTING), labels: ['severity=critical'] }).expect(400);
    assert.equal(chk.body.field, 'labels');
    const big = await helper.request().post('/fleet-alerts/import').send({ yaml: `route:\n  receiver: ops\n#${'x'.repeat(300 * 1024)}\n` }).expect(413);
    assert.match(big.body.reason, /at most 262144 \(256 KiB\)/);
    const huge = await helper.request().post('/fleet-alerts/check').send({ receivers: ['a'], routing: 'x'.repeat(300 * 1024) }).expect(413);
    assert.equal(huge.body.field, 'body');
  });
});
