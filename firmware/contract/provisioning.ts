/**
 * Serial provisioning: the one JSON line a host writes to a device's console to configure it, and the
 * acknowledgement line the device answers with. Both are single lines (no newline inside), so they
 * travel through the same line splitter as the console output around them.
 *
 *   host → device  {"provision":1,"seq":7,"device_id":"esp32-c3-101","mqtt":{...},"wifi":{...},"intervals":{...}}
 *   device → host  {"ack":"provision","seq":7,"ok":true,"device_id":"esp32-c3-101"}
 *                  {"ack":"provision","seq":7,"ok":false,"device_id":"esp32-c3-101","reason":"wifi ssid not found"}
 */
import { deviceIdProblem } from './identity';

/** The firmware's line buffer: a provisioning line longer than this is refused before it is written. */
export const PROVISION_LINE_MAX = 1024;
export const PROVISION_VERSION = 1;
export const SSID_MAX_LENGTH = 32;
export const WIFI_PASSWORD_MAX_LENGTH = 64;
export const CLIENT_ID_MAX_LENGTH = 64;
export const HOST_MAX_LENGTH = 253;
export const REASON_MAX_LENGTH = 200;
/** Intervals in seconds, bounded as the firmware's timers are: at least 1 s, at most a day. */
export const INTERVAL_MIN_S = 1;
export const INTERVAL_MAX_S = 86_400;

/** What a flow decides about a device: everything but the secrets. */
export interface ProvisioningConfig {
  readonly device_id: string;
  readonly client_id: string;
  /** Broker host name or address (a `mqtt://`/`mqtts://` URL is read for its host, port and TLS). */
  readonly broker: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username: string | null;
  readonly wifi_ssid: string;
  readonly measurement_s: number;
  readonly heartbeat_s: number;
  readonly status_s: number;
}

/** What never comes from a flow: Node-RED credentials or environment variables. */
export interface ProvisioningSecrets {
  readonly wifi_password: string;
  readonly mqtt_password: string | null;
}

/** The line as the firmware reads it. */
export interface ProvisionLine {
  readonly provision: typeof PROVISION_VERSION;
  readonly seq: number;
  readonly device_id: string;
  readonly mqtt: { readonly client_id: string; readonly broker: string; readonly port: number; readonly tls: boolean; readonly username?: string; readonly password?: string };
  readonly wifi: { readonly ssid: string; readonly password: string };
  readonly intervals: { readonly measurement_s: number; readonly heartbeat_s: number; readonly status_s: number };
}

export type ProvisionAck =
  | { readonly ack: 'provision'; readonly seq: number; readonly ok: true; readonly device_id: string }
  | { readonly ack: 'provision'; readonly seq: number; readonly ok: false; readonly device_id: string | null; readonly reason: string };

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly reason: string };

/** Byte length without Buffer: the editor bundles this file for the browser. */
const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
const CONTROL = /[\u0000-\u001f\u007f]/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

function text(v: unknown, field: string, max: number, { empty = false } = {}): Checked<string> {
  if (typeof v !== 'string') return { ok: false, field, reason: `must be text, got ${v === null ? 'null' : typeof v}` };
  if (!empty && v.length === 0) return { ok: false, field, reason: 'is empty' };
  if (v.length > max) return { ok: false, field, reason: `is longer than ${max} characters` };
  if (CONTROL.test(v)) return { ok: false, field, reason: 'contains a control character' };
  return { ok: true, value: v };
}

function whole(v: unknown, field: string, min: number, max: number): Checked<number> {
  const n = typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return { ok: false, field, reason: `must be a whole number from ${min} to ${max}` };
  return { ok: true, value: n };
}

/** The broker field: a host, or a mqtt(s):// URL whose port and scheme fill in port and TLS. */
function broker(v: unknown): Checked<{ host: string; port: number | null; tls: boolean | null }> {
  const t = text(v, 'broker', HOST_MAX_LENGTH + 16);
  if (!t.ok) return t;
  const url = /^(mqtts?):\/\/([^/:]+|\[[^\]]+\])(?::(\d{1,5}))?\/?$/.exec(t.value);
  const host = url ? url[2] : t.value;
  if (host.length > HOST_MAX_LENGTH || !HOST.test(host)) return { ok: false, field: 'broker', reason: 'must be a host name, an address or a mqtt:// or mqtts:// URL' };
  return { ok: true, value: { host, port: url?.[3] ? Number(url[3]) : null, tls: url ? url[1] === 'mqtts' : null } };
}

export const DEFAULT_INTERVALS = { measurement_s: 30, heartbeat_s: 60, status_s: 120 } as const;

/**
 * Reads a device's configuration from a message or a saved node (strings from form fields accepted),
 * with the guides' intervals as defaults. `client_id` defaults to the device id.
 */
export function checkProvisioningConfig(raw: unknown): Checked<ProvisioningConfig> {
  if (!isRecord(raw)) return { ok: false, field: 'config', reason: 'must be an object' };
  const idProblem = deviceIdProblem(own(raw, 'device_id'));
  if (idProblem) return { ok: false, field: 'device_id', reason: idProblem };
  const device_id = own(raw, 'device_id') as string;
  const cid = own(raw, 'client_id');
  const client = cid === undefined || cid === null || cid === '' ? { ok: true as const, value: device_id } : text(cid, 'client_id', CLIENT_ID_MAX_LENGTH);
  if (!client.ok) return client;
  const b = broker(own(raw, 'broker'));
  if (!b.ok) return b;
  const rawPort = own(raw, 'port');
  const port = rawPort === undefined || rawPort === '' || rawPort === null ? { ok: true as const, value: b.value.port ?? (b.value.tls ? 8883 : 1883) } : whole(rawPort, 'port', 1, 65535);
  if (!port.ok) return port;
  const rawTls = own(raw, 'tls');
  if (rawTls !== undefined && rawTls !== null && typeof rawTls !== 'boolean') return { ok: false, field: 'tls', reason: 'must be true or false' };
  const tls = typeof rawTls === 'boolean' ? rawTls : b.value.tls ?? false;
  const rawUser = own(raw, 'username');
  const user = rawUser === undefined || rawUser === null || rawUser === '' ? { ok: true as const, value: null } : text(rawUser, 'username', CLIENT_ID_MAX_LENGTH);
  if (!user.ok) return user;
  const ssid = text(own(raw, 'wifi_ssid'), 'wifi_ssid', SSID_MAX_LENGTH);
  if (!ssid.ok) return ssid;
  const iv: Record<keyof typeof DEFAULT_INTERVALS, number> = { ...DEFAULT_INTERVALS };
  for (const k of Object.keys(DEFAULT_INTERVALS) as Array<keyof typeof DEFAULT_INTERVALS>) {
    const v = own(raw, k);
    if (v === undefined || v === null || v === '') continue;
    const n = whole(v, k, INTERVAL_MIN_S, INTERVAL_MAX_S);
    if (!n.ok) return n;
    iv[k] = n.value;
  }
  return { ok: true, value: { device_id, client_id: client.value, broker: b.value.host, port: port.value, tls, username: user.value, wifi_ssid: ssid.value, ...iv } };
}

export function checkSecrets(raw: { wifi_password?: unknown; mqtt_password?: unknown }): Checked<ProvisioningSecrets> {
  const w = text(raw.wifi_password ?? '', 'wifi_password', WIFI_PASSWORD_MAX_LENGTH, { empty: true });
  if (!w.ok) return w;
  const m = raw.mqtt_password === undefined || raw.mqtt_password === null || raw.mqtt_password === '' ? { ok: true as const, value: null } : text(raw.mqtt_password, 'mqtt_password', 256);
  if (!m.ok) return m;
  return { ok: true, value: { wifi_password: w.value, mqtt_password: m.value } };
}

/** The line to write, newline included; refused when it would not fit the firmware's buffer. */
export function provisionLine(config: ProvisioningConfig, secrets: ProvisioningSecrets, seq: number): Checked<string> {
  const mqtt: Record<string, unknown> = { client_id: config.client_id, broker: config.broker, port: config.port, tls: config.tls };
  if (config.username !== null) mqtt.username = config.username;
  if (secrets.mqtt_password !== null) mqtt.password = secrets.mqtt_password;
  const line: ProvisionLine = {
    provision: PROVISION_VERSION, seq, device_id: config.device_id,
    mqtt: mqtt as ProvisionLine['mqtt'],
    wifi: { ssid: config.wifi_ssid, password: secrets.wifi_password },
    intervals: { measurement_s: config.measurement_s, heartbeat_s: config.heartbeat_s, status_s: config.status_s },
  };
  const json = JSON.stringify(line);
  if (utf8Bytes(json) > PROVISION_LINE_MAX) return { ok: false, field: 'config', reason: `the provisioning line is longer than ${PROVISION_LINE_MAX} bytes` };
  return { ok: true, value: `${json}\n` };
}

const tryJson = (line: string): unknown => {
  try { return JSON.parse(line); } catch { return undefined; }
};

/** The device's side: reads a provisioning line (what the simulator and firmware accept). */
export function parseProvisionLine(line: string): Checked<{ readonly seq: number; readonly config: ProvisioningConfig; readonly secrets: ProvisioningSecrets }> {
  const trimmed = line.replace(/\r?\n$/, '');
  if (utf8Bytes(trimmed) > PROVISION_LINE_MAX) return { ok: false, field: 'line', reason: `is longer than ${PROVISION_LINE_MAX} bytes` };
  const v = tryJson(trimmed);
  if (!isRecord(v)) return { ok: false, field: 'line', reason: 'is not a JSON object' };
  if (own(v, 'provision') !== PROVISION_VERSION) return { ok: false, field: 'provision', reason: `must be ${PROVISION_VERSION}` };
  const seq = whole(own(v, 'seq'), 'seq', 0, 2 ** 31 - 1);
  if (!seq.ok) return seq;
  const mqtt = own(v, 'mqtt');
  const wifi = own(v, 'wifi');
  const intervals = own(v, 'intervals');
  if (!isRecord(mqtt)) return { ok: false, field: 'mqtt', reason: 'must be an object' };
  if (!isRecord(wifi)) return { ok: false, field: 'wifi', reason: 'must be an object' };
  if (!isRecord(intervals)) return { ok: false, field: 'intervals', reason: 'must be an object' };
  const tls = own(mqtt, 'tls');
  if (typeof tls !== 'boolean') return { ok: false, field: 'tls', reason: 'must be true or false' };
  const config = checkProvisioningConfig({
    device_id: own(v, 'device_id'), client_id: own(mqtt, 'client_id'), broker: own(mqtt, 'broker'), port: own(mqtt, 'port') ?? null, tls,
    username: own(mqtt, 'username'), wifi_ssid: own(wifi, 'ssid'),
    measurement_s: own(intervals, 'measurement_s') ?? null, heartbeat_s: own(intervals, 'heartbeat_s') ?? null, status_s: own(intervals, 'status_s') ?? null,
  });
  if (!config.ok) return config;
  const secrets = checkSecrets({ wifi_password: own(wifi, 'password'), mqtt_password: own(mqtt, 'password') });
  if (!secrets.ok) return secrets;
  return { ok: true, value: { seq: seq.value, config: config.value, secrets: secrets.value } };
}

export function ackLine(ack: ProvisionAck): string {
  return `${JSON.stringify(ack)}\n`;
}

/**
 * The host's side: null when the line is not an acknowledgement (ordinary console output), else the
 * ack or, for a line that claims to be one but is malformed, the reason.
 */
export function parseAckLine(line: string): null | { readonly ok: true; readonly value: ProvisionAck } | { readonly ok: false; readonly reason: string } {
  const trimmed = line.replace(/\r?\n$/, '').trim();
  if (!trimmed.startsWith('{') || !trimmed.includes('"ack"') || trimmed.length > PROVISION_LINE_MAX) return null;
  const v = tryJson(trimmed);
  if (!isRecord(v) || own(v, 'ack') !== 'provision') return null;
  const seq = whole(own(v, 'seq'), 'seq', 0, 2 ** 31 - 1);
  if (!seq.ok) return { ok: false, reason: `acknowledgement seq ${seq.reason}` };
  const ok = own(v, 'ok');
  const rawId = own(v, 'device_id');
  const device_id = typeof rawId === 'string' && deviceIdProblem(rawId) === null ? rawId : null;
  if (ok === true) {
    if (device_id === null) return { ok: false, reason: 'acknowledgement lacks a valid device_id' };
    return { ok: true, value: { ack: 'provision', seq: seq.value, ok: true, device_id } };
  }
  if (ok === false) {
    const r = own(v, 'reason');
    const reason = typeof r === 'string' && r.length > 0 ? r.slice(0, REASON_MAX_LENGTH).replace(/[\u0000-\u001f\u007f]/g, ' ') : 'no reason given';
    return { ok: true, value: { ack: 'provision', seq: seq.value, ok: false, device_id, reason } };
  }
  return { ok: false, reason: 'acknowledgement ok must be true or false' };
}

/**
 * Identity lines a device prints at boot, before or after provisioning: `[SYSTEM] Device ID: <id>`
 * (printed by the serial simulator and the provisioning-aware firmware) and the ack above.
 */
export function deviceIdLine(id: string): string {
  return `[SYSTEM] Device ID: ${id}`;
}

const ID_LINE = /^\[SYSTEM\] Device ID: (\S{1,64})\s*$/;

/** The device id a console line announces, or null. */
export function identityOf(line: string): string | null {
  const m = ID_LINE.exec(line.replace(/\r?\n$/, ''));
  if (m && deviceIdProblem(m[1]) === null) return m[1];
  const ack = parseAckLine(line);
  return ack?.ok && ack.value.ok ? ack.value.device_id : null;
}

/** Printed by a device that has no configuration yet and waits for the provisioning line. */
export const AWAITING_PROVISIONING = '[SYSTEM] Not provisioned: waiting for configuration on serial';
