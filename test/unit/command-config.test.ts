import assert from 'node:assert/strict';

import { configField, configHash, deviceConfigErrors, parseDeviceConfigAck, type DeviceConfig } from '../../firmware/contract/device-config';
import { SchemaBook } from '../../firmware/contract/schemas';
import deviceConfigSchema from '../../firmware/contract/schemas/v1/device-config.json';
import { DEV_CONFIG, PROD_CONFIG } from './command-guide';

const withId = (c: object, id = 'env_001') => ({ device_id: id, ...c });
const fieldsOf = (v: unknown) => deviceConfigErrors(v).map((e) => e.field);

describe('command: device configuration schema', () => {
  it('its own example is valid', () => {
    assert.deepEqual(deviceConfigErrors(deviceConfigSchema.examples[0]), []);
  });

  // from /work/shared/seeds/001_f784f9a6feef567d.txt, prod.config.toml (references resolved by the caller)
  it('accepts the guide production configuration once its plain references are resolved', () => {
    const c = withId({ ...PROD_CONFIG, network: { ...PROD_CONFIG.network, wifi_ssid: 'IoT_Production', mqtt_broker: 'broker.example.com' } });
    assert.deepEqual(deviceConfigErrors(c), []);
  });

  // from /work/shared/seeds/001_f784f9a6feef567d.txt, dev.config.toml: wifi_password = "dev_password"
  it('refuses the guide development configuration because its Wi-Fi password is written in clear', () => {
    const errs = deviceConfigErrors(withId(DEV_CONFIG));
    assert.equal(errs.length, 1);
    assert.equal(errs[0].field, 'network.wifi_password');
    assert.match(errs[0].reason, /\$\{NAME\} reference/);
    const fixed = withId({ ...DEV_CONFIG, network: { ...DEV_CONFIG.network, wifi_password: '${DEV_WIFI_PASSWORD}' } });
    assert.deepEqual(deviceConfigErrors(fixed), []);
  });

  const prod = () => JSON.parse(JSON.stringify(withId({ ...PROD_CONFIG, network: { ...PROD_CONFIG.network, wifi_ssid: 'x', mqtt_broker: 'b' } }))) as Record<string, Record<string, unknown>>;
  const cases: Array<[string, string, unknown]> = [
    ['sensor', 'measurement_interval_seconds', 0], ['sensor', 'measurement_interval_seconds', 86401], ['sensor', 'measurement_interval_seconds', 1.5],
    ['sensor', 'bme280_address', 0x75], ['sensor', 'bme280_address', '0x76'], ['sensor', 'calibration_offset_temp', 10.5],
    ['network', 'mqtt_port', 0], ['network', 'mqtt_port', 65536], ['network', 'wifi_ssid', 'x'.repeat(33)], ['network', 'wifi_ssid', ''],
    ['network', 'tls_enabled', 'yes'], ['network', 'device_id_prefix', 'a/b'], ['network', 'mqtt_broker', 'bad host'],
    ['system', 'log_level', 'verbose'], ['system', 'heartbeat_interval_minutes', 0], ['system', 'status_report_interval_minutes', 1441],
    ['system', 'watchdog_timeout_seconds', 5], ['sensor', 'calibration_offset_temp', Number.NaN],
  ];
  for (const [section, leaf, bad] of cases) {
    it(`refuses ${section}.${leaf} = ${String(JSON.stringify(bad) ?? bad)}, naming the field`, () => {
      const c = prod();
      c[section][leaf] = bad;
      assert.deepEqual(fieldsOf(c), [`${section}.${leaf}`]);
    });
  }

  it('names a missing required field and an unknown one', () => {
    const c = prod();
    delete c.sensor.measurement_interval_seconds;
    c.system.colour = 'red';
    assert.deepEqual(fieldsOf(c).sort(), ['sensor.measurement_interval_seconds', 'system.colour']);
  });

  it('refuses an invalid device id', () => {
    const c = prod();
    (c as Record<string, unknown>).device_id = 'a/+';
    assert.deepEqual(fieldsOf(c), ['device_id']);
  });

  it('hashes the stored form: key order does not matter, a value does', () => {
    const a = prod() as unknown as DeviceConfig;
    const b = JSON.parse(JSON.stringify({ system: a.system, sensor: a.sensor, network: a.network, device_id: a.device_id })) as DeviceConfig;
    assert.equal(configHash(a), configHash(b));
    assert.match(configHash(a), /^[0-9a-f]{16}$/);
    const c = { ...a, sensor: { ...a.sensor, measurement_interval_seconds: 60 } };
    assert.notEqual(configHash(a), configHash(c));
  });

  it('maps the guide override name measurement_interval to its field', () => {
    assert.equal(configField('measurement_interval')?.name, 'measurement_interval_seconds');
    assert.equal(configField('measurement_interval')?.section, 'sensor');
    assert.equal(configField('nonsense'), undefined);
    assert.equal(configField('__proto__'), undefined);
  });

  it('reads a device acknowledgement and refuses a malformed one', () => {
    assert.deepEqual(parseDeviceConfigAck({ config_version: 3, result: 'applied' }), { ok: true, value: { config_version: 3, result: 'applied' } });
    assert.equal(parseDeviceConfigAck({ config_version: 3 }).ok, false);
    assert.equal(parseDeviceConfigAck({ result: 'maybe' }).ok, false);
  });

  it('the route\'s config-update schema accepts what fleet-command sends under every policy; device-config-update is the stricter form it checks against', () => {
    const book = new SchemaBook();
    const payload = { config_version: 2, config_hash: '0123456789abcdef', request_id: 'r', config: prod() };
    for (const policy of ['keep', 'strip', 'reject'] as const) assert.equal(book.validator('config-update', policy)(payload), null, policy);
    assert.equal(book.validator('device-config-update', 'reject')(payload), null);
    const { config_hash: _h, ...unhashed } = payload;
    assert.equal(book.validator('config-update', 'reject')(unhashed), null, 'the route takes a push without a hash');
    assert.notEqual(book.validator('device-config-update', 'keep')(unhashed), null, 'fleet-command always sends one');
  });
});
