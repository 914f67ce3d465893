/**
 * The contract's device configuration and `config/update` payload against the environmental
 * monitoring guide (/work/shared/seeds/001_f784f9a6feef567d.txt): "Environment-Specific
 * Configuration" (dev.config.toml, prod.config.toml), "Runtime Configuration" (the flat Rust
 * DeviceConfig) and "Over-the-Air Configuration Updates" (config_update_task reads that struct from
 * config/update/+ with serde_json).
 */
import assert from 'node:assert/strict';

import { DEVICE_CONFIG_FIELDS, deviceConfigErrors, deviceConfigUpdateErrors, type DeviceConfig } from '../../firmware/contract/device-config';
import { SchemaBook } from '../../firmware/contract/schemas';
import { CommandDevices, type CommandableFleet } from '../../firmware/simulator/command-device';
import { VirtualDevice } from '../../firmware/simulator/device';
import { scaledIntervals } from '../../firmware/simulator/fleet';
import { parseFleet, parseFleetFile, type FleetParse } from '../../lib/command/fleet-file';
import { buildPushMessages, planPush } from '../../lib/command/plan';
import { resolveFleet } from '../../lib/command/resolve';
import { secretSource } from '../../lib/command/secrets';
import { DEV_CONFIG, PROD_CONFIG, PROD_ENV } from './command-guide';

const book = new SchemaBook();
const routeSchema = (policy: 'keep' | 'strip' | 'reject') => book.validator('config-update', policy);

/** The guide's TOML, section by section, as the YAML of a fleet file's base (hex written as in the TOML). */
const DEV_TOML_AS_YAML = `fleet:
  devices: [{ device_id: dev_001 }]
  configuration:
    base:
      network:
        wifi_ssid: "DevNetwork"
        wifi_password: "\${DEV_WIFI_PASSWORD}"
        mqtt_broker: "localhost"
        mqtt_port: 1883
        device_id_prefix: "dev_esp32"
      sensor:
        bme280_address: 0x76
        measurement_interval_seconds: 10
        calibration_offset_temp: 0.0
      system:
        log_level: "debug"
        heartbeat_interval_minutes: 1
        status_report_interval_minutes: 2
`;

const PROD_TOML_AS_YAML = `fleet:
  devices: [{ device_id: env_001 }]
  configuration:
    base:
      network:
        wifi_ssid: "\${PROD_WIFI_SSID}"
        wifi_password: "\${PROD_WIFI_PASSWORD}"
        mqtt_broker: "\${PROD_MQTT_BROKER}"
        mqtt_port: 8883  # Secure MQTT
        device_id_prefix: "prod_esp32"
        tls_enabled: true
      sensor:
        bme280_address: 0x76
        measurement_interval_seconds: 300  # 5 minutes
        calibration_offset_temp: 0.0
      system:
        log_level: "info"
        heartbeat_interval_minutes: 15
        status_report_interval_minutes: 60
        watchdog_timeout_seconds: 600
`;

function fleetOf(r: FleetParse) {
  if (!r.ok) assert.fail(r.errors.map((e) => e.message).join('\n'));
  return r.fleet;
}

describe('command: the configuration schema against the guide', () => {
  it('every field of dev.config.toml and prod.config.toml is a contract field of the same section, and nothing else is', () => {
    const guide = new Set<string>();
    for (const c of [DEV_CONFIG, PROD_CONFIG]) for (const [section, fields] of Object.entries(c)) for (const k of Object.keys(fields)) guide.add(`${section}.${k}`);
    const contract = new Set(DEVICE_CONFIG_FIELDS.map((f) => `${f.section}.${f.name}`));
    for (const f of guide) assert.ok(contract.has(f), `${f} is in the guide but not the contract`);
    // The contract adds only the broker login the guide keeps in its SecureCredentials (mqtt_password) and its user name.
    assert.deepEqual([...contract].filter((f) => !guide.has(f)).sort(), ['network.mqtt_password', 'network.mqtt_username']);
  });

  it('reads both configurations as the guide writes them (0x76 in hex) into exactly its values', () => {
    const dev = resolveFleet(fleetOf(parseFleetFile(DEV_TOML_AS_YAML)), secretSource({ DEV_WIFI_PASSWORD: 'dev_password' }))[0];
    assert.deepEqual(dev.errors, []);
    assert.deepEqual(dev.config, { device_id: 'dev_001', ...DEV_CONFIG, network: { ...DEV_CONFIG.network, wifi_password: '${DEV_WIFI_PASSWORD}' } });
    const prod = resolveFleet(fleetOf(parseFleetFile(PROD_TOML_AS_YAML)), secretSource(PROD_ENV))[0];
    assert.deepEqual(prod.errors, []);
    assert.deepEqual(prod.config, {
      device_id: 'env_001', ...PROD_CONFIG,
      network: { ...PROD_CONFIG.network, wifi_ssid: PROD_ENV.PROD_WIFI_SSID, mqtt_broker: PROD_ENV.PROD_MQTT_BROKER },
    });
    assert.equal(prod.config!.sensor.bme280_address, 0x76);
  });

  it('takes the BME280 address as the TOML writes it when the fleet file cannot write hex (JSON, a quoted YAML value)', () => {
    const base = { network: { wifi_ssid: 'Lab', mqtt_broker: 'localhost', mqtt_port: 1883 }, sensor: { bme280_address: '0x77', measurement_interval_seconds: 10 } };
    const r = resolveFleet(fleetOf(parseFleet({ fleet: { devices: [{ device_id: 'a' }], configuration: { base } } })), new Map())[0];
    assert.equal(r.config?.sensor.bme280_address, 119);
    const bad = resolveFleet(fleetOf(parseFleet({ fleet: { devices: [{ device_id: 'a' }], configuration: { base: { ...base, sensor: { ...base.sensor, bme280_address: '0x75' } } } } })), new Map())[0];
    assert.deepEqual(bad.errors.map((e) => e.field), ['sensor.bme280_address']);
  });

  it('refuses heartbeat_interval: the first contract meant seconds where the guide\'s field is minutes', () => {
    const r = parseFleetFile(PROD_TOML_AS_YAML.replace('heartbeat_interval_minutes: 15', 'heartbeat_interval: 15'));
    assert.ok(!r.ok);
    assert.match(r.errors[0].message, /system\.heartbeat_interval: is not a configuration field of \[system\] \(did you mean heartbeat_interval_minutes\?\)/);
    // The guide's own short name (fleet_config.yaml's overrides) stays.
    assert.ok(parseFleetFile(PROD_TOML_AS_YAML.replace('measurement_interval_seconds: 300', 'measurement_interval: 300')).ok);
  });

  it('a push carries the guide\'s runtime DeviceConfig beside `config`, and the route\'s schema accepts it closed', () => {
    const resolved = resolveFleet(fleetOf(parseFleetFile(PROD_TOML_AS_YAML)), secretSource(PROD_ENV));
    const built = buildPushMessages(planPush(resolved, new Map()), new Map(resolved.map((r) => [r.device, r])), secretSource(PROD_ENV), { broker: { url: 'mqtts://broker.example.com:8883' } });
    const payload = built.messages[0].payload as Record<string, unknown>;
    // struct DeviceConfig { device_id: String, wifi_ssid: String, wifi_password: String, mqtt_broker: String, measurement_interval: u32 }
    assert.deepEqual(
      { device_id: payload.device_id, wifi_ssid: payload.wifi_ssid, wifi_password: payload.wifi_password, mqtt_broker: payload.mqtt_broker, measurement_interval: payload.measurement_interval },
      { device_id: 'env_001', wifi_ssid: 'IoT_Production', wifi_password: PROD_ENV.PROD_WIFI_PASSWORD, mqtt_broker: 'broker.example.com', measurement_interval: 300 },
    );
    assert.ok(Number.isInteger(payload.measurement_interval) && (payload.measurement_interval as number) >= 0, 'a u32');
    assert.deepEqual(deviceConfigUpdateErrors(payload), []);
    for (const policy of ['keep', 'strip', 'reject'] as const) assert.equal(routeSchema(policy)(payload), null, policy);
  });

  it('the route still accepts the older forms: the guide\'s flat DeviceConfig alone and the first contract\'s intervals', () => {
    const flat = { device_id: 'env_001', wifi_ssid: 'DevNetwork', wifi_password: 'dev_password', mqtt_broker: 'localhost', measurement_interval: 60 };
    for (const policy of ['keep', 'strip', 'reject'] as const) {
      assert.equal(routeSchema(policy)(flat), null, policy);
      assert.equal(routeSchema(policy)({ config_version: 4, config: { reading_interval: 30, log_level: 'info' } }), null, policy);
    }
    const { measurement_interval: _m, ...missing } = flat;
    assert.notEqual(routeSchema('keep')(missing), null, 'the flat form needs every field of the struct');
    assert.equal(routeSchema('reject')({ ...flat, colour: 'red' })?.path, '/colour');
  });

  it('the virtual device applies the guide\'s flat payload over the configuration it runs, as the next version', () => {
    const d = new VirtualDevice({ id: 'env_001', kind: 'env-sensor', arch: 'full', seed: 1 }, scaledIntervals(10));
    d.boot(0);
    const fleet: CommandableFleet = { devices: [d], get: (id) => (id === d.id ? d : undefined), inject: () => true, clear: () => true };
    const c = new CommandDevices(fleet, 10);
    const first = { device_id: 'env_001', wifi_ssid: 'DevNetwork', wifi_password: 'dev_password', mqtt_broker: 'localhost', measurement_interval: 10 };
    const ack1 = JSON.parse(c.handle('config/update/env_001', JSON.stringify(first), 1)[0].payload) as Record<string, unknown>;
    assert.deepEqual([ack1.result, ack1.config_version], ['applied', 1]);
    assert.deepEqual(c.configOf('env_001')!.config, { device_id: 'env_001', network: { mqtt_port: 1883, wifi_ssid: 'DevNetwork', wifi_password: 'dev_password', mqtt_broker: 'localhost' }, sensor: { measurement_interval_seconds: 10 } } as unknown as DeviceConfig);
    const ack2 = JSON.parse(c.handle('config/update/env_001', JSON.stringify({ ...first, measurement_interval: 60 }), 2)[0].payload) as Record<string, unknown>;
    assert.deepEqual([ack2.result, ack2.config_version], ['applied', 2]);
    assert.equal(c.configOf('env_001')!.config.sensor.measurement_interval_seconds, 60);
    assert.notEqual(ack2.config_hash, ack1.config_hash);
    const rejected = JSON.parse(c.handle('config/update/env_001', JSON.stringify({ ...first, measurement_interval: 0 }), 3)[0].payload) as Record<string, unknown>;
    assert.match(String(rejected.reason), /measurement_interval/);
    assert.deepEqual(deviceConfigErrors({ ...c.configOf('env_001')!.config, network: { ...c.configOf('env_001')!.config.network, wifi_password: '${X}' } }), []);
  });
});
