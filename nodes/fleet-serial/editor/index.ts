/**
 * fleet-serial's editor: the port (a fleet-serial-port config node), the mode, and for provisioning the
 * defaults every device gets. Passwords are Node-RED credentials (never in the flow); fields are checked
 * by the runtime's own parsers (parseSerialConfig, checkProvisioningConfig).
 */
import { checkProvisioningConfig, DEFAULT_INTERVALS } from '../../../firmware/contract/provisioning';
import { parseSerialConfig } from '../../../lib/serial/config';
import { isEnvReference, migrateOnOpen, validator } from '../../shared/editor/helpers';
import { FLEET_SERIAL_VERSION, migrations } from '../migrations';

declare global {
  interface EditorNodeDef {
    credentials?: Record<string, { type: 'text' | 'password' }>;
  }
}

const DEFAULTS = ['name', 'serial', 'mode', 'timeoutS', 'broker', 'brokerPort', 'tls', 'username', 'ssid', 'measurementS', 'heartbeatS', 'statusS', 'wifiPasswordEnv', 'mqttPasswordEnv'];

function nodeRule(field: string) {
  return (value: unknown): string | null => {
    const r = parseSerialConfig({ [field]: value });
    return r.ok || r.field !== field ? null : r.reason;
  };
}

/** A device default is optional (a message may give it); when set, the provisioning check must accept it. */
function deviceRule(field: string) {
  return (value: unknown): string | null => {
    if (value === '' || value === undefined || isEnvReference(value)) return null;
    const r = checkProvisioningConfig({ device_id: 'editor-check', broker: '127.0.0.1', wifi_ssid: 'editor-check', [field]: value });
    return r.ok || r.field !== field ? null : r.reason;
  };
}

RED.nodes.registerType('fleet-serial', {
  category: 'ESP32 fleet',
  color: '#c7b89f',
  icon: 'fleet-serial.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    serial: { value: '', type: 'fleet-serial-port', required: true },
    mode: { value: 'console', validate: validator('fleet-serial.errors.mode', nodeRule('mode')) },
    timeoutS: { value: 10, validate: validator('fleet-serial.errors.timeoutS', nodeRule('timeoutS')) },
    broker: { value: '', validate: validator('fleet-serial.errors.broker', deviceRule('broker')) },
    brokerPort: { value: '', validate: validator('fleet-serial.errors.brokerPort', deviceRule('port')) },
    tls: { value: false },
    username: { value: '' },
    ssid: { value: '', validate: validator('fleet-serial.errors.ssid', deviceRule('wifi_ssid')) },
    measurementS: { value: DEFAULT_INTERVALS.measurement_s, validate: validator('fleet-serial.errors.interval', deviceRule('measurement_s')) },
    heartbeatS: { value: DEFAULT_INTERVALS.heartbeat_s, validate: validator('fleet-serial.errors.interval', deviceRule('heartbeat_s')) },
    statusS: { value: DEFAULT_INTERVALS.status_s, validate: validator('fleet-serial.errors.interval', deviceRule('status_s')) },
    wifiPasswordEnv: { value: 'FLEET_WIFI_PASSWORD', validate: validator('fleet-serial.errors.env', nodeRule('wifiPasswordEnv')) },
    mqttPasswordEnv: { value: 'FLEET_MQTT_PASSWORD', validate: validator('fleet-serial.errors.env', nodeRule('mqttPasswordEnv')) },
    configVersion: { value: FLEET_SERIAL_VERSION },
  },
  credentials: { wifiPassword: { type: 'password' }, mqttPassword: { type: 'password' } },
  outputLabels() { return this._(this.mode === 'provision' ? 'fleet-serial.outputs.result' : 'fleet-serial.outputs.line'); },
  label() { return typeof this.name === 'string' && this.name ? this.name : this.mode === 'provision' ? 'serial provision' : 'serial console'; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet serial',
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_SERIAL_VERSION, DEFAULTS);
    const toggle = (): void => { $('.fleet-serial-provision').toggle($('#node-input-mode').val() === 'provision'); };
    $('#node-input-mode').on('change', toggle);
    toggle();
  },
});
