import assert from 'node:assert/strict';
import fc from 'fast-check';

import { parseConfigPatch, parseFleetFile, type FleetModel, type FleetParse } from '../../lib/command/fleet-file';
import { buildPushMessages, diffConfig, planPush, type PushedState } from '../../lib/command/plan';
import { resolveFleet } from '../../lib/command/resolve';
import { Redactor, secretSource } from '../../lib/command/secrets';
import { GUIDE_BASES, GUIDE_FLEET_YAML, PROD_ENV } from './command-guide';

const env = secretSource(PROD_ENV);

function ok(r: FleetParse): FleetModel {
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  return r.fleet;
}

function errorsOf(text: string, bases = GUIDE_BASES) {
  const r = parseFleetFile(text, { bases });
  assert.equal(r.ok, false, 'accepted a bad fleet file');
  return r.ok ? [] : r.errors;
}

const INLINE = `
fleet:
  name: test
  devices:
    - device_id: a1
      site: building-a
      location: "Building A - Room 101"
    - device_id: a2
      site: building-a
      labels: { floor: "2" }
    - device_id: b1
      site: building-b
      overrides:
        log_level: warn
    - device_id: b2
      site: building-b
  configuration:
    base:
      network: { wifi_ssid: Lab, wifi_password: "\${PROD_WIFI_PASSWORD}", mqtt_broker: broker.example.com, mqtt_port: 8883, tls_enabled: true }
      sensor: { measurement_interval_seconds: 300 }
      system: { log_level: info }
    overrides:
      - site: building-a
        measurement_interval: 120
      - device: a1
        measurement_interval: 30
      - labels: { floor: "2" }
        log_level: debug
      - site: building-b
        log_level: error
        sensor: { calibration_offset_temp: -0.5 }
`;

describe('command: fleet file', () => {
  // from /work/shared/seeds/001_f784f9a6feef567d.txt, "Device Fleet Management" (fleet_config.yaml)
  it('reads the guide fleet_config.yaml as written, with production.toml as its base', () => {
    const fleet = ok(parseFleetFile(GUIDE_FLEET_YAML, { bases: GUIDE_BASES }));
    assert.equal(fleet.name, 'Environmental Monitoring Fleet');
    assert.deepEqual(fleet.devices.map((d) => [d.id, d.labels.get('location')]), [['env_001', 'Building A - Room 101'], ['env_002', 'Building B - Room 201']]);
    const resolved = resolveFleet(fleet, env);
    assert.deepEqual(resolved.map((r) => r.errors), [[], []]);
    assert.deepEqual(resolved.map((r) => r.config?.sensor.measurement_interval_seconds), [60, 300]);
    assert.equal(resolved[0].config?.network.mqtt_broker, 'broker.example.com');
    assert.equal(resolved[0].config?.network.wifi_password, '${PROD_WIFI_PASSWORD}', 'a secret stays a reference in the stored form');
    assert.equal(resolved[0].sources.get('sensor.measurement_interval_seconds'), 'fleet.configuration.overrides[0].measurement_interval');
    assert.equal(resolved[1].sources.get('network.mqtt_port'), 'production.toml.network.mqtt_port');
  });

  it('says when the base_config it names was not loaded', () => {
    const errs = errorsOf(GUIDE_FLEET_YAML, new Map());
    assert.equal(errs[0].path, 'fleet.configuration.base_config');
    assert.equal(errs[0].line, 13);
    assert.match(errs[0].message, /^fleet_config\.yaml:13: fleet\.configuration\.base_config: production\.toml is not loaded/);
  });

  it('applies overrides by precedence: base < label < device rule < device entry < message', () => {
    const fleet = ok(parseFleetFile(INLINE));
    const msg = parseConfigPatch({ heartbeat_interval_minutes: 5 });
    assert.ok(msg.ok);
    const byDevice = parseConfigPatch({ log_level: 'trace' }, 'msg', ['overrides', 'b2']);
    assert.ok(byDevice.ok);
    const r = new Map(resolveFleet(fleet, env, { all: msg.patch, byDevice: new Map([['b2', byDevice.patch]]) }).map((x) => [x.device, x]));
    const get = (d: string) => r.get(d)!.config!;
    assert.equal(get('a1').sensor.measurement_interval_seconds, 30, 'device rule beats site rule');
    assert.equal(get('a2').sensor.measurement_interval_seconds, 120, 'site rule beats base');
    assert.equal(get('a2').system!.log_level, 'debug', 'label rule applies');
    assert.equal(get('b1').system!.log_level, 'warn', "the entry's own overrides beat rules");
    assert.equal(get('b2').system!.log_level, 'trace', 'message overrides beat everything');
    assert.equal(get('b1').sensor.calibration_offset_temp, -0.5, 'sectioned override');
    for (const d of ['a1', 'a2', 'b1', 'b2']) assert.equal(get(d).system!.heartbeat_interval_minutes, 5);
  });

  it('null in an override unsets an optional field', () => {
    const text = INLINE.replace('log_level: warn', 'log_level: null');
    const r = resolveFleet(ok(parseFleetFile(text)), env).find((x) => x.device === 'b1')!;
    assert.equal(r.config!.system?.log_level, undefined);
  });

  it('names the device, field and where the bad value was written', () => {
    const text = INLINE.replace('measurement_interval: 30', 'measurement_interval: 0');
    const r = resolveFleet(ok(parseFleetFile(text)), env);
    const bad = r.filter((x) => x.errors.length);
    assert.deepEqual(bad.map((x) => x.device), ['a1']);
    assert.equal(bad[0].errors[0].field, 'sensor.measurement_interval_seconds');
    assert.equal(bad[0].errors[0].setBy, 'fleet.configuration.overrides[1].measurement_interval');
    assert.match(bad[0].errors[0].message, /^device a1: sensor\.measurement_interval_seconds must be >= 1 \(set at fleet\.configuration\.overrides\[1\]\.measurement_interval\)$/);
  });

  const structural: Array<[string, string, string, RegExp]> = [
    ['an unknown override field', INLINE.replace('log_level: warn', 'measurment_intervall: 5'), 'fleet.devices[2].overrides.measurment_intervall', /is not a configuration field/],
    ['a field in the wrong section', INLINE.replace('sensor: { calibration_offset_temp: -0.5 }', 'system: { calibration_offset_temp: -0.5 }'), 'fleet.configuration.overrides[3].system.calibration_offset_temp', /belongs in \[sensor\]/],
    ['an override for a device not listed', INLINE.replace('device: a1', 'device: a9'), 'fleet.configuration.overrides[1].device', /a9 is not in the device list/],
    ['an override without selector', INLINE.replace('- site: building-a\n', '- \n'), 'fleet.configuration.overrides[0]', /names no device/],
    ['a duplicate device', INLINE.replace('device_id: b2', 'device_id: a1'), 'fleet.devices[3].device_id', /a1 is listed twice/],
    ['a bad device id', INLINE.replace('device_id: b2', 'device_id: "b/2"'), 'fleet.devices[3].device_id', /topic separator/],
    ['a device_id override', INLINE.replace('log_level: warn', 'device_id: other'), 'fleet.devices[2].overrides.device_id', /cannot be overridden/],
    ['a mapping as a value', INLINE.replace('log_level: warn', 'log_level: { a: 1 }'), 'fleet.devices[2].overrides.log_level', /not a mapping/],
    ['a config field on the device entry', INLINE.replace('      site: building-b\n      overrides:', '      site: building-b\n      mqtt_port: 1\n      overrides:'), 'fleet.devices[2].mqtt_port', /put mqtt_port under overrides/],
    ['a device list that is not a list', 'fleet:\n  devices: 3\n  configuration: { base: {} }\n', 'fleet.devices', /must be a list/],
  ];
  for (const [what, text, path, reason] of structural) {
    it(`refuses ${what}, naming ${path}`, () => {
      const errs = errorsOf(text);
      const e = errs.find((x) => x.path === path);
      assert.ok(e, `no error at ${path}: ${errs.map((x) => x.message).join('; ')}`);
      assert.match(e.reason, reason);
      assert.equal(typeof e.line, 'number');
    });
  }

  it('refuses bad YAML, duplicate keys, alias bombs and oversize text without throwing', () => {
    assert.match(errorsOf('fleet: [')[0].reason, /not valid YAML/);
    assert.match(errorsOf('fleet:\n  name: a\n  name: b\n')[0].reason, /not valid YAML/);
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    assert.match(errorsOf(bomb)[0].reason, /not a usable YAML document|not valid YAML/);
    const r = parseFleetFile('x'.repeat(100), { maxBytes: 50 });
    assert.ok(!r.ok && /larger than 50 bytes/.test(r.errors[0].reason));
    assert.match(errorsOf('- 1\n- 2\n')[0].reason, /a fleet file is a mapping/);
  });

  it('warns about a label rule that matches no device', () => {
    const r = parseFleetFile(INLINE.replace('- labels: { floor: "2" }', '- labels: { floor: "9" }'));
    assert.ok(r.ok);
    assert.ok(r.warnings.some((w) => w.path === 'fleet.configuration.overrides[2]' && /matches no device/.test(w.reason)));
  });

  it('warns when the watchdog would fire between readings', () => {
    const text = GUIDE_FLEET_YAML.replace('measurement_interval: 300', 'measurement_interval: 900');
    const r = resolveFleet(ok(parseFleetFile(text, { bases: GUIDE_BASES })), env);
    assert.deepEqual(r[1].warnings.map((w) => w.field), ['system.watchdog_timeout_seconds']);
    assert.deepEqual(r[0].warnings, []);
  });
});

describe('command: push plan and dry run', () => {
  const fleet = ok(parseFleetFile(GUIDE_FLEET_YAML, { bases: GUIDE_BASES }));
  const resolved = resolveFleet(fleet, env);
  const byId = new Map(resolved.map((r) => [r.device, r]));

  it('pushes every device the first time, then only the one whose override changed', () => {
    const first = planPush(resolved, new Map());
    assert.deepEqual(first.summary, { devices: 2, push: 2, unchanged: 0, invalid: 0, removed: 0 });
    assert.deepEqual(first.entries.map((e) => e.version), [1, 1]);
    const last = new Map<string, PushedState>(resolved.map((r) => [r.device, { version: 1, hash: r.hash!, config: r.config! }]));
    const edited = resolveFleet(ok(parseFleetFile(GUIDE_FLEET_YAML.replace('measurement_interval: 60', 'measurement_interval: 30'), { bases: GUIDE_BASES })), env);
    const plan = planPush(edited, last);
    assert.deepEqual(plan.entries.map((e) => [e.device, e.action, e.version]), [['env_001', 'push', 2], ['env_002', 'unchanged', 1]]);
    assert.deepEqual(plan.entries[0].changes, [{ field: 'sensor.measurement_interval_seconds', from: 60, to: 30 }]);
    assert.deepEqual(planPush(edited, last, { force: new Set(['env_002']) }).summary.push, 2);
  });

  it('reports an invalid device and a device gone from the file, sending them nothing', () => {
    const bad = resolveFleet(ok(parseFleetFile(GUIDE_FLEET_YAML.replace('measurement_interval: 60', 'measurement_interval: -1'), { bases: GUIDE_BASES })), env);
    const last = new Map<string, PushedState>([['env_009', { version: 4, hash: 'ffffffffffffffff', config: resolved[0].config! }]]);
    const plan = planPush(bad, last);
    assert.deepEqual(plan.entries.map((e) => [e.device, e.action]), [['env_001', 'invalid'], ['env_002', 'push'], ['env_009', 'removed']]);
    const built = buildPushMessages(plan, new Map(bad.map((r) => [r.device, r])), env, { broker: { url: 'mqtts://broker:8883' } });
    assert.deepEqual(built.messages.map((m) => m.device), ['env_002']);
  });

  it('builds config/update/{device} with the secret filled in, and a dry-run view without it', () => {
    const plan = planPush(resolved, new Map());
    const { messages, refused } = buildPushMessages(plan, byId, env, { broker: { url: 'mqtts://broker.example.com:8883' } });
    assert.deepEqual(refused, []);
    assert.deepEqual(messages.map((m) => m.topic), ['config/update/env_001', 'config/update/env_002']);
    const p = messages[0].payload as { config: { network: Record<string, unknown> }; config_hash: string; config_version: number };
    assert.equal(p.config.network.wifi_password, PROD_ENV.PROD_WIFI_PASSWORD);
    assert.equal(p.config_hash, resolved[0].hash);
    const shown = JSON.stringify(new Redactor(env.values()).value({ plan, messages }));
    assert.ok(!shown.includes(PROD_ENV.PROD_WIFI_PASSWORD), 'the redacted view still holds the password');
    assert.ok(!JSON.stringify(plan).includes(PROD_ENV.PROD_WIFI_PASSWORD), 'the plan itself holds the password');
  });

  it('refuses to send a secret over an unencrypted broker connection unless allowed', () => {
    const plan = planPush(resolved, new Map());
    const plain = buildPushMessages(plan, byId, env, { broker: { url: 'mqtt://localhost:1883' } });
    assert.equal(plain.messages.length, 0);
    assert.deepEqual(plain.refused.map((r) => [r.device, r.field]), [['env_001', 'network.wifi_password'], ['env_002', 'network.wifi_password']]);
    assert.match(plain.refused[0].reason, /not encrypted/);
    assert.equal(buildPushMessages(plan, byId, env, { broker: { url: 'mqtt://localhost:1883' }, allowCleartextSecrets: true }).messages.length, 2);
    assert.equal(buildPushMessages(plan, byId, env, { broker: { url: 'mqtt://localhost:1883', tls: true } }).messages.length, 2);
  });

  it('refuses a device whose secret is missing, naming the reference and not any value', () => {
    const noPassword = secretSource({ ...PROD_ENV, PROD_WIFI_PASSWORD: undefined });
    const built = buildPushMessages(planPush(resolved, new Map()), byId, noPassword, { broker: { url: 'mqtts://b' } });
    assert.equal(built.messages.length, 0);
    assert.match(built.refused[0].reason, /\$\{PROD_WIFI_PASSWORD\}, which is neither/);
    const short = buildPushMessages(planPush(resolved, new Map()), byId, secretSource({ ...PROD_ENV, PROD_WIFI_PASSWORD: 'short' }), { broker: { url: 'mqtts://b' } });
    assert.match(short.refused[0].reason, /8 to 63 characters/);
    assert.ok(!JSON.stringify(short.refused).includes('short"'));
  });

  it('a missing plain reference is a device error naming the variable', () => {
    const r = resolveFleet(fleet, secretSource({ PROD_WIFI_SSID: 'x' }));
    assert.deepEqual(r[0].errors.map((e) => e.field), ['network.mqtt_broker']);
    assert.match(r[0].errors[0].reason, /PROD_MQTT_BROKER/);
  });

  it('refuses a secret-named reference in a plain field, which would be stored and shown', () => {
    const text = GUIDE_FLEET_YAML.replace('measurement_interval: 300', 'measurement_interval: 300\n        wifi_ssid: "${PROD_WIFI_PASSWORD}"');
    const r = resolveFleet(ok(parseFleetFile(text, { bases: GUIDE_BASES })), env);
    assert.deepEqual(r[1].errors.map((e) => e.field), ['network.wifi_ssid']);
    assert.match(r[1].errors[0].reason, /names a secret/);
    assert.ok(!JSON.stringify(r[1]).includes(PROD_ENV.PROD_WIFI_PASSWORD));
  });

  it('diffs fields added and removed', () => {
    const a = resolved[0].config!;
    const b = { ...a, system: { log_level: 'info' } };
    assert.deepEqual(diffConfig(a, b).map((c) => c.field), ['system.heartbeat_interval_minutes', 'system.status_report_interval_minutes', 'system.watchdog_timeout_seconds']);
  });
});

describe('command: a secret value never reaches anything but the payload', () => {
  it('for any password, plans, refusals, errors, warnings and redacted views hold no trace of it', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9 !#%&*+,.:;=?@^_~-]{8,63}$/), fc.boolean(), (password, encrypted) => {
      const source = secretSource({ ...PROD_ENV, PROD_WIFI_PASSWORD: password });
      const fleet = ok(parseFleetFile(GUIDE_FLEET_YAML.replace('measurement_interval: 60', 'measurement_interval: 0'), { bases: GUIDE_BASES }));
      const resolved = resolveFleet(fleet, source);
      const plan = planPush(resolved, new Map());
      const built = buildPushMessages(plan, new Map(resolved.map((r) => [r.device, r])), source, { broker: { url: encrypted ? 'mqtts://b' : 'mqtt://b' } });
      const loggable = JSON.stringify({ resolved: resolved.map((r) => ({ ...r, labels: [...r.labels], sources: [...r.sources] })), plan, refused: built.refused, state: built.messages.map((m) => m.config) });
      assert.ok(!loggable.includes(password), 'a loggable output holds the password');
      assert.ok(!JSON.stringify(new Redactor(source.values()).value(built.messages)).includes(password));
      assert.equal(built.messages.length, encrypted ? 1 : 0);
      if (encrypted) assert.equal((built.messages[0].payload.config as { network: { wifi_password: string } }).network.wifi_password, password);
    }), { numRuns: 300, seed: 20261202 });
  });
});
