import assert from 'node:assert/strict';

import { buildDownlinks, parseCommandRequest, resolveTargets, type CommandRequest, type InventoryDevice, type Targets } from '../../lib/command/commands';
import { CommandedOffline, SafetyGate, TokenBucket, confirmationPhrase } from '../../lib/command/safety';
import { cleartextProblem, isEncrypted, Redactor, REDACTED, safeUrl, secretSource } from '../../lib/command/secrets';

const inventory: InventoryDevice[] = [
  { id: 'env_001', labels: new Map([['site', 'building-a'], ['location', 'Building A - Room 101']]) },
  { id: 'env_002', labels: new Map([['site', 'building-b'], ['location', 'Building B - Room 201']]) },
  { id: 'env_003', labels: new Map([['site', 'building-b']]) },
];

function request(raw: unknown): CommandRequest {
  const r = parseCommandRequest(raw, 'operator');
  if (!r.ok) assert.fail(`${r.field}: ${r.reason}`);
  return r.value;
}

function targets(req: CommandRequest): Targets {
  const t = resolveTargets(req, inventory);
  if (!t.ok) assert.fail(`${t.field}: ${t.reason}`);
  return t.value;
}

describe('command: requests and downlinks', () => {
  // from /work/shared/seeds/001_f784f9a6feef567d.txt, "Device Recovery": mosquitto_pub -t "esp32/$DEVICE_ID/command" -m "reset"
  it('resets one device on esp32/{device}/command with a contract command payload', () => {
    const req = request({ command: 'reset', device: 'env_001', reason: 'recovery' });
    const t = targets(req);
    assert.deepEqual(t, { devices: ['env_001'], fleetWide: false, scope: 'env_001' });
    const d = buildDownlinks(req, t, { requestId: 'r-1' });
    assert.ok(d.ok);
    assert.deepEqual(d.value, [{ device: 'env_001', topic: 'esp32/env_001/command', payload: { command: 'reset', reason: 'recovery', request_id: 'r-1' } }]);
  });

  it('resets a list and a label selector', () => {
    assert.deepEqual(targets(request({ command: 'reset', devices: ['env_001', 'env_003', 'env_001'] })).devices, ['env_001', 'env_003']);
    const bySite = targets(request({ command: 'reset', selector: { site: 'building-b' } }));
    assert.deepEqual(bySite, { devices: ['env_002', 'env_003'], fleetWide: false, scope: 'site building-b' });
  });

  it('counts a selector that reaches every device as fleet-wide', () => {
    const req = request({ command: 'reset', devices: ['env_001', 'env_002', 'env_003'] });
    assert.equal(targets(req).fleetWide, true);
    assert.equal(targets(request({ command: 'reset', all: true })).scope, 'fleet');
  });

  const badRequests: Array<[unknown, string]> = [
    [{ command: 'format' }, 'command'], [{ command: 'reset' }, 'target'], [{ command: 'reset', device: 'a', devices: ['b'] }, 'target'],
    [{ command: 'reset', device: 'esp32/+' }, 'device'], [{ command: 'reset', devices: [] }, 'devices'], [{ command: 'reset', devices: ['ok', 7] }, 'devices[1]'],
    [{ command: 'reset', selector: {} }, 'selector'], [{ command: 'reset', all: 'yes' }, 'all'], [{ emergency: 'explode', scope: 'fleet' }, 'emergency'],
    [{ emergency: 'shutdown' }, 'scope'], [{ emergency: 'shutdown', scope: { building: 'a' } }, 'scope'], [{ command: 'reset', device: 'a', reason: 5 }, 'reason'],
    ['reset', ''], [{ command: 'reset', emergency: 'shutdown', scope: 'fleet' }, 'command'],
  ];
  for (const [raw, field] of badRequests) {
    it(`refuses ${JSON.stringify(raw)}, naming ${field || 'the request'}`, () => {
      const r = parseCommandRequest(raw);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.field, field);
    });
  }

  it('refuses a device that is not known and a selector that reaches none', () => {
    const a = resolveTargets(request({ command: 'reset', device: 'env_404' }), inventory);
    assert.ok(!a.ok && /env_404 is not a known device/.test(a.reason));
    const b = resolveTargets(request({ command: 'reset', selector: { site: 'mars' } }), inventory);
    assert.ok(!b.ok && /reaches no known device/.test(b.reason));
  });

  // from /work/shared/seeds/001_f784f9a6feef567d.txt, "Emergency Procedures": mosquitto_pub -t "esp32/+/emergency" -m "shutdown"
  it('fans an emergency shutdown out to every device (a PUBLISH topic cannot hold +), with an optional broadcast', () => {
    const req = request({ emergency: 'shutdown', scope: 'fleet', confirm: 'shutdown fleet' });
    const d = buildDownlinks(req, targets(req), { broadcast: true });
    assert.ok(d.ok);
    assert.deepEqual(d.value.map((x) => x.topic), ['esp32/env_001/emergency', 'esp32/env_002/emergency', 'esp32/env_003/emergency', 'esp32/broadcast/emergency']);
    assert.ok(d.value.every((x) => !x.topic.includes('+')));
    assert.deepEqual(d.value[0].payload, { action: 'shutdown' });
  });

  it('stops one site', () => {
    const req = request({ emergency: 'shutdown', scope: { site: 'building-b' }, confirm: 'shutdown site building-b' });
    const t = targets(req);
    assert.deepEqual(t.devices, ['env_002', 'env_003']);
    const d = buildDownlinks(req, t, { broadcast: true });
    assert.ok(d.ok);
    assert.equal(d.value.length, 2, 'no broadcast for a site');
  });
});

describe('command: safety rules', () => {
  it('an emergency needs the confirmation phrase that restates it', () => {
    const gate = new SafetyGate();
    const noConfirm = request({ emergency: 'shutdown', scope: 'fleet' });
    const v = gate.check(noConfirm, targets(noConfirm), 0);
    assert.ok(!v.ok && v.code === 'confirmation');
    assert.match(v.reason, /confirm = "shutdown fleet"/);
    const wrong = request({ emergency: 'shutdown', scope: { site: 'building-b' }, confirm: 'shutdown fleet' });
    assert.equal(gate.check(wrong, targets(wrong), 0).ok, false, 'a fleet confirmation does not confirm a site');
    const right = request({ emergency: 'shutdown', scope: 'fleet', confirm: 'shutdown fleet' });
    assert.equal(gate.check(right, targets(right), 0).ok, true);
  });

  it('a fleet-wide reset needs confirmation; a one-device reset does not', () => {
    const one = request({ command: 'reset', device: 'env_001' });
    assert.equal(confirmationPhrase(one, targets(one)), null);
    const all = request({ command: 'reset', selector: { site: 'building-b' } });
    assert.equal(confirmationPhrase(all, targets(all)), null);
    const fleet = request({ command: 'reset', all: true });
    assert.equal(confirmationPhrase(fleet, targets(fleet)), 'reset fleet');
    assert.equal(new SafetyGate().check(fleet, targets(fleet), 0).ok, false);
  });

  it('rate-limits each class with a token bucket on the given clock; refused confirmations spend nothing', () => {
    const gate = new SafetyGate();
    const stop = request({ emergency: 'shutdown', scope: 'fleet', confirm: 'shutdown fleet' });
    const unconfirmed = request({ emergency: 'shutdown', scope: 'fleet' });
    for (let i = 0; i < 5; i++) gate.check(unconfirmed, targets(unconfirmed), 0);
    assert.equal(gate.check(stop, targets(stop), 0).ok, true);
    assert.equal(gate.check(stop, targets(stop), 1).ok, true);
    const third = gate.check(stop, targets(stop), 2);
    assert.ok(!third.ok && third.code === 'rate-limit' && third.retryAfterMs! > 0 && third.retryAfterMs! <= 60_000);
    const resume = request({ emergency: 'resume', scope: 'fleet', confirm: 'resume fleet' });
    assert.equal(gate.check(resume, targets(resume), 3).ok, true, 'resume is never locked out by stops');
    assert.equal(gate.check(stop, targets(stop), 60_002).ok, true, 'a token is back after a minute');
  });

  it('TokenBucket refills at its rate, caps at its capacity, ignores a clock stepping back', () => {
    const b = new TokenBucket(3, 6);
    for (let i = 0; i < 3; i++) assert.equal(b.take(1000).ok, true);
    assert.equal(b.take(1000).ok, false);
    assert.equal(b.take(500).ok, false, 'going back in time refills nothing');
    assert.equal(b.take(11_000).ok, true);
    assert.equal(b.available(10_000_000), 3);
  });

  it('raises an emergency as a critical alert in the shared shape, resolved by the resume of the same scope', () => {
    const gate = new SafetyGate();
    const stop = request({ emergency: 'shutdown', scope: { site: 'building-b' }, confirm: 'shutdown site building-b', reason: 'smoke in plant room' });
    const v = gate.check(stop, targets(stop), Date.UTC(2026, 0, 1));
    assert.ok(v.ok && v.alert);
    assert.equal(v.alert.name, 'FleetEmergencyStop');
    assert.equal(v.alert.severity, 'critical');
    assert.equal(v.alert.status, 'firing');
    assert.equal(v.alert.device, null);
    assert.equal(v.alert.labels.site, 'building-b');
    assert.equal(v.alert.source, 'fleet-command');
    assert.equal((v.alert.details as { commanded: boolean }).commanded, true);
    assert.match(v.alert.description, /smoke in plant room — by operator/);
    const resume = request({ emergency: 'resume', scope: { site: 'building-b' }, confirm: 'resume site building-b' });
    const r = gate.check(resume, targets(resume), Date.UTC(2026, 0, 1, 1));
    assert.ok(r.ok && r.alert);
    assert.equal(r.alert.status, 'resolved');
    assert.equal(r.alert.fingerprint, v.alert.fingerprint);
    assert.equal(r.alert.startsAt, v.alert.startsAt);
  });

  it('a fleet-wide reset is reported as a warning alert; a device reset is not', () => {
    const gate = new SafetyGate();
    const fleet = request({ command: 'reset', all: true, confirm: 'reset fleet' });
    const v = gate.check(fleet, targets(fleet), 0);
    assert.ok(v.ok && v.alert?.name === 'FleetCommand' && v.alert.severity === 'warning');
    const one = request({ command: 'reset', device: 'env_001' });
    const w = gate.check(one, targets(one), 0);
    assert.ok(w.ok && w.alert === null);
  });

  it('remembers which devices are offline by command until resumed', () => {
    const c = new CommandedOffline();
    const stop = request({ emergency: 'shutdown', scope: { site: 'building-b' }, confirm: 'shutdown site building-b' });
    c.apply(stop, targets(stop), 5);
    assert.deepEqual(c.get('env_002'), { action: 'shutdown', since: 5, by: 'operator' });
    assert.equal(c.get('env_001'), undefined);
    const resume = request({ emergency: 'resume', scope: 'fleet', confirm: 'resume fleet' });
    c.apply(resume, targets(resume), 6);
    assert.equal(c.size, 0);
  });
});

describe('command: secrets', () => {
  const source = secretSource({ PROD_WIFI_PASSWORD: 'credential-value' }, { PROD_WIFI_PASSWORD: 'env-value', PROD_MQTT_PASSWORD: 'mqtt-secret' });

  it('takes credentials before the environment and ignores names that are not references', () => {
    assert.equal(source.get('PROD_WIFI_PASSWORD'), 'credential-value');
    assert.equal(source.get('PROD_MQTT_PASSWORD'), 'mqtt-secret');
    assert.equal(secretSource({ 'lower-case': 'x', EMPTY: '' }).size, 0);
  });

  it('redacts secret values anywhere and secret-named fields, keeping references readable', () => {
    const r = Redactor.from(source);
    const out = r.value({ log: 'connecting with mqtt-secret now', nested: [{ wifi_password: 'whatever' }], ref: { wifi_password: '${PROD_WIFI_PASSWORD}' }, n: 3, f: () => 1 }) as Record<string, unknown>;
    assert.equal(out.log, `connecting with ${REDACTED} now`);
    assert.deepEqual(out.nested, [{ wifi_password: REDACTED }]);
    assert.deepEqual(out.ref, { wifi_password: '${PROD_WIFI_PASSWORD}' });
    assert.equal(out.n, 3);
    assert.equal(out.f, undefined);
    const cyclic: Record<string, unknown> = { a: 'credential-value' };
    cyclic.self = cyclic;
    assert.deepEqual(r.value(cyclic), { a: REDACTED, self: '[cut]' });
  });

  it('knows an encrypted connection from its URL or TLS flag', () => {
    for (const url of ['mqtts://b:8883', 'ssl://b', 'tls://b', 'wss://b/mqtt']) assert.equal(isEncrypted({ url }), true, url);
    for (const url of ['mqtt://b', 'tcp://b:1883', 'ws://b', 'not a url']) assert.equal(isEncrypted({ url }), false, url);
    assert.equal(cleartextProblem(false, { url: 'mqtt://b' }), null, 'no secret, no problem');
    assert.match(cleartextProblem(true, { url: 'mqtt://user:pw@b:1883' })!, /not encrypted/);
    assert.ok(!cleartextProblem(true, { url: 'mqtt://user:pw@b:1883' })!.includes('pw'), 'the refusal leaks the broker password');
    assert.equal(safeUrl('mqtt://u:p@h:1/'), 'mqtt://h:1/');
  });
});
