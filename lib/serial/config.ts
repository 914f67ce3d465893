/**
 * The saved configuration of fleet-serial-port (a port's settings) and fleet-serial (a mode and the
 * device configuration it provisions), parsed into what the runtime runs.
 */
import { DEFAULT_INTERVALS } from '../../firmware/contract/provisioning';
import { DEFAULT_LINE_MAX_BYTES } from './line-splitter';

export type ConfigResult<C> = { readonly ok: true; readonly value: C } | { readonly ok: false; readonly field: string; readonly reason: string };

export const BAUD_RATES = [300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600] as const;
export const DATA_BITS = [5, 6, 7, 8] as const;
export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
export const STOP_BITS = [1, 1.5, 2] as const;
export const LINE_MAX_LIMIT = 65_536;
export const DEFAULT_BAUD = 115200;

export interface PortSettings {
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  readonly stopBits: 1 | 1.5 | 2;
  readonly lineMaxBytes: number;
}

const blank = (v: unknown): boolean => v === undefined || v === null || v === '';
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);

/** A port path: a device file (/dev/ttyUSB0, /dev/cu.usbserial-1420) or a Windows COM name. */
export function portPathProblem(v: unknown): string | null {
  if (typeof v !== 'string' || v.trim() === '') return 'is empty';
  if (v.length > 256) return 'is longer than 256 characters';
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'contains a control character';
  if (!/^(\/[\w.+@:/-]+|COM\d{1,3}|\\\\\.\\COM\d{1,3})$/i.test(v)) return 'must be a device path (/dev/ttyUSB0) or a COM port (COM3)';
  return null;
}

export function parsePortSettings(def: Record<string, unknown>): ConfigResult<PortSettings> {
  const pathProblem = portPathProblem(def.path);
  if (pathProblem) return { ok: false, field: 'path', reason: pathProblem };
  const baud = blank(def.baudRate) ? DEFAULT_BAUD : num(def.baudRate);
  if (!Number.isInteger(baud) || baud < 50 || baud > 4_000_000) return { ok: false, field: 'baudRate', reason: 'must be a whole number of bits per second from 50 to 4000000' };
  const dataBits = blank(def.dataBits) ? 8 : num(def.dataBits);
  if (!(DATA_BITS as readonly number[]).includes(dataBits)) return { ok: false, field: 'dataBits', reason: 'must be 5, 6, 7 or 8' };
  const parity = blank(def.parity) ? 'none' : def.parity;
  if (typeof parity !== 'string' || !(PARITIES as readonly string[]).includes(parity)) return { ok: false, field: 'parity', reason: `must be one of ${PARITIES.join(', ')}` };
  const stopBits = blank(def.stopBits) ? 1 : num(def.stopBits);
  if (!(STOP_BITS as readonly number[]).includes(stopBits)) return { ok: false, field: 'stopBits', reason: 'must be 1, 1.5 or 2' };
  const lineMax = blank(def.lineMaxBytes) ? DEFAULT_LINE_MAX_BYTES : num(def.lineMaxBytes);
  if (!Number.isInteger(lineMax) || lineMax < 64 || lineMax > LINE_MAX_LIMIT) return { ok: false, field: 'lineMaxBytes', reason: `must be a whole number of bytes from 64 to ${LINE_MAX_LIMIT}` };
  return {
    ok: true,
    value: { path: (def.path as string).trim(), baudRate: baud, dataBits: dataBits as PortSettings['dataBits'], parity: parity as PortSettings['parity'], stopBits: stopBits as PortSettings['stopBits'], lineMaxBytes: lineMax },
  };
}

export type SerialMode = 'console' | 'provision';

export interface SerialNodeConfig {
  readonly mode: SerialMode;
  readonly timeoutMs: number;
  /** Defaults for every device provisioned: broker, port, TLS, SSID, intervals (a message overrides). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Environment variables read for secrets when the node's credentials are empty. */
  readonly wifiPasswordEnv: string;
  readonly mqttPasswordEnv: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const DEVICE_DEFAULT_FIELDS = ['broker', 'port', 'tls', 'username', 'wifi_ssid', 'measurement_s', 'heartbeat_s', 'status_s'] as const;
const SAVED_FIELD: Readonly<Record<(typeof DEVICE_DEFAULT_FIELDS)[number], string>> = {
  broker: 'broker', port: 'brokerPort', tls: 'tls', username: 'username', wifi_ssid: 'ssid', measurement_s: 'measurementS', heartbeat_s: 'heartbeatS', status_s: 'statusS',
};

export function parseSerialConfig(def: Record<string, unknown>): ConfigResult<SerialNodeConfig> {
  const mode = blank(def.mode) ? 'console' : def.mode;
  if (mode !== 'console' && mode !== 'provision') return { ok: false, field: 'mode', reason: 'must be console or provision' };
  const timeoutS = blank(def.timeoutS) ? 10 : num(def.timeoutS);
  if (!(timeoutS >= 1 && timeoutS <= 600)) return { ok: false, field: 'timeoutS', reason: 'must be from 1 to 600 seconds' };
  const envs: Record<'wifiPasswordEnv' | 'mqttPasswordEnv', string> = { wifiPasswordEnv: 'FLEET_WIFI_PASSWORD', mqttPasswordEnv: 'FLEET_MQTT_PASSWORD' };
  for (const k of ['wifiPasswordEnv', 'mqttPasswordEnv'] as const) {
    const v = def[k];
    if (blank(v)) continue;
    if (typeof v !== 'string' || !ENV_NAME.test(v)) return { ok: false, field: k, reason: 'must be an environment variable name (letters, digits, _)' };
    envs[k] = v;
  }
  const defaults: Record<string, unknown> = {};
  for (const f of DEVICE_DEFAULT_FIELDS) {
    const v = def[SAVED_FIELD[f]];
    if (!blank(v)) defaults[f] = v;
  }
  for (const [k, v] of Object.entries(DEFAULT_INTERVALS)) if (defaults[k] === undefined) defaults[k] = v;
  // A password typed into a plain field would be saved in the flow: refuse it where it would land.
  for (const k of ['password', 'wifiPassword', 'mqttPassword']) {
    if (!blank(def[k])) return { ok: false, field: k, reason: 'secrets go in the node\'s credentials or an environment variable, never in the flow' };
  }
  return { ok: true, value: { mode, timeoutMs: Math.round(timeoutS * 1000), defaults, ...envs } };
}
