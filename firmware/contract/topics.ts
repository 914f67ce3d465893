/**
 * The topic map: every MQTT topic of the fleet, written down once.
 * The decoder matches incoming topics against it and the simulator builds its topics from it.
 *
 * Pattern variables:
 *   {device}   one segment naming the device (checked by deviceIdProblem)
 *   {arch}     sync | async | full (the three ESP32-C3 firmware variants)
 *   {libarch}  sync | async-min | async-full (TI0162-IOT iot-common spelling)
 *   {prefix+}  one or more segments; the device comes from configuration (prefix map) or stays unidentified
 */
import type { SchemaName } from './schemas';

export type ProfileName = 'standard' | 'ti0162' | 'ti0162-lib' | 'whofi';

export type DeviceKind = 'env-sensor' | 'env-monitor' | 'csi-sensor' | 'steel-device' | 'audio-device';

export type MessageKind =
  | 'sensor' | 'heartbeat' | 'status' | 'health' | 'metrics' | 'log' | 'alert' | 'presence'
  | 'ota-command' | 'ota-progress' | 'config-update' | 'command' | 'emergency'
  | 'steel-load' | 'steel-result' | 'csi-data' | 'csi-stats' | 'console';

/**
 * How the payload is read before validation.
 * - json: must be a JSON object
 * - text-or-json: a JSON object, or a bare word that `textForm` turns into one
 * - ping: the bare word `ping` (TI0162-IOT heartbeat)
 */
export type Encoding = 'json' | 'text-or-json' | 'ping';

export interface TopicRoute {
  readonly id: string;
  readonly profile: ProfileName;
  readonly pattern: string;
  readonly kind: MessageKind;
  /** null: the topic does not say what kind of device it is (the registry may know). */
  readonly deviceKind: DeviceKind | null;
  /** Schema checked after the payload is read; null when the route carries no body (ping). */
  readonly schema: SchemaName | null;
  readonly encoding: Encoding;
  /** `up` is device → server; `down` is a command the server sends. */
  readonly direction: 'up' | 'down';
  /** For text-or-json: the object property a bare word stands for. */
  readonly textField?: string;
  /** Allows `broadcast` in place of a device id (steel-programs/broadcast/load). */
  readonly broadcast?: boolean;
  /** Payload field that names the device when the topic does not; `device_id` unless said. */
  readonly payloadIdField?: string;
}

const route = (r: TopicRoute): TopicRoute => r;

/** Ordered most specific first; the first route that matches wins. */
export const TOPIC_ROUTES: readonly TopicRoute[] = [
  // ESP32-C3 environmental sensors, three firmware variants (deployment guide layout)
  route({ id: 'esp32c3.sensor', profile: 'standard', pattern: 'esp32c3/{arch}/{device}/sensor', kind: 'sensor', deviceKind: 'env-sensor', schema: 'esp32c3-sensor', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32c3.heartbeat', profile: 'standard', pattern: 'esp32c3/{arch}/{device}/heartbeat', kind: 'heartbeat', deviceKind: 'env-sensor', schema: 'esp32c3-heartbeat', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32c3.status', profile: 'standard', pattern: 'esp32c3/{arch}/{device}/status', kind: 'status', deviceKind: 'env-sensor', schema: 'esp32c3-status', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32c3.presence', profile: 'standard', pattern: 'esp32c3/{arch}/{device}/presence', kind: 'presence', deviceKind: 'env-sensor', schema: 'presence', encoding: 'json', direction: 'up' }),

  // Environmental monitoring system
  route({ id: 'esp32.health', profile: 'standard', pattern: 'esp32/{device}/health', kind: 'health', deviceKind: 'env-monitor', schema: 'esp32-health', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32.metrics', profile: 'standard', pattern: 'esp32/{device}/metrics', kind: 'metrics', deviceKind: 'env-monitor', schema: 'esp32-metrics', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32.logs', profile: 'standard', pattern: 'esp32/{device}/logs', kind: 'log', deviceKind: 'env-monitor', schema: 'esp32-log', encoding: 'text-or-json', textField: 'message', direction: 'up' }),
  route({ id: 'esp32.alerts', profile: 'standard', pattern: 'esp32/{device}/alerts', kind: 'alert', deviceKind: 'env-monitor', schema: 'esp32-alert', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32.presence', profile: 'standard', pattern: 'esp32/{device}/presence', kind: 'presence', deviceKind: 'env-monitor', schema: 'presence', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32.command', profile: 'standard', pattern: 'esp32/{device}/command', kind: 'command', deviceKind: 'env-monitor', schema: 'command', encoding: 'text-or-json', textField: 'command', direction: 'down' }),
  route({ id: 'esp32.emergency', profile: 'standard', pattern: 'esp32/{device}/emergency', kind: 'emergency', deviceKind: 'env-monitor', schema: 'emergency', encoding: 'text-or-json', textField: 'action', direction: 'down' }),

  // CSI sensors
  route({ id: 'csi.data', profile: 'standard', pattern: 'csi/{device}/data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'csi-data', encoding: 'json', direction: 'up' }),
  route({ id: 'csi.stats', profile: 'standard', pattern: 'csi/{device}/stats', kind: 'csi-stats', deviceKind: 'csi-sensor', schema: 'csi-stats', encoding: 'json', direction: 'up' }),
  route({ id: 'csi.heartbeat', profile: 'standard', pattern: 'csi/{device}/heartbeat', kind: 'heartbeat', deviceKind: 'csi-sensor', schema: 'csi-heartbeat', encoding: 'json', direction: 'up' }),
  route({ id: 'csi.presence', profile: 'standard', pattern: 'csi/{device}/presence', kind: 'presence', deviceKind: 'csi-sensor', schema: 'presence', encoding: 'json', direction: 'up' }),

  // Audio devices (their health line, bridged to MQTT)
  route({ id: 'audio.health', profile: 'standard', pattern: 'audio/{device}/health', kind: 'health', deviceKind: 'audio-device', schema: 'audio-health', encoding: 'json', direction: 'up' }),
  route({ id: 'audio.presence', profile: 'standard', pattern: 'audio/{device}/presence', kind: 'presence', deviceKind: 'audio-device', schema: 'presence', encoding: 'json', direction: 'up' }),

  // Fleet operations: OTA, configuration, Steel programs
  route({ id: 'ota.update', profile: 'standard', pattern: 'ota/update/{device}', kind: 'ota-command', deviceKind: null, schema: 'ota-update', encoding: 'json', direction: 'down' }),
  route({ id: 'ota.progress', profile: 'standard', pattern: 'ota/progress/{device}', kind: 'ota-progress', deviceKind: null, schema: 'ota-progress', encoding: 'json', direction: 'up' }),
  route({ id: 'config.update', profile: 'standard', pattern: 'config/update/{device}', kind: 'config-update', deviceKind: null, schema: 'config-update', encoding: 'json', direction: 'down' }),
  route({ id: 'steel.load', profile: 'standard', pattern: 'steel-programs/{device}/load', kind: 'steel-load', deviceKind: 'steel-device', schema: 'steel-load', encoding: 'json', direction: 'down', broadcast: true }),
  route({ id: 'steel.result', profile: 'standard', pattern: 'steel-programs/{device}/result', kind: 'steel-result', deviceKind: 'steel-device', schema: 'steel-result', encoding: 'json', direction: 'up' }),

  // TI0162-IOT iot-common layout: the device id travels in the payload
  route({ id: 'ti0162lib.sensor', profile: 'ti0162-lib', pattern: 'esp32c3/sensor/bme280/{libarch}', kind: 'sensor', deviceKind: 'env-sensor', schema: 'ti0162lib-sensor', encoding: 'json', direction: 'up' }),
  route({ id: 'ti0162lib.heartbeat', profile: 'ti0162-lib', pattern: 'esp32c3/heartbeat/{libarch}', kind: 'heartbeat', deviceKind: 'env-sensor', schema: 'ti0162lib-heartbeat', encoding: 'json', direction: 'up' }),
  route({ id: 'ti0162lib.status', profile: 'ti0162-lib', pattern: 'esp32c3/status/{libarch}', kind: 'status', deviceKind: 'env-sensor', schema: 'ti0162lib-status', encoding: 'json', direction: 'up' }),

  // jedarden/whofi CSI firmware variants
  route({ id: 'whofi.esphome.data', profile: 'whofi', pattern: 'whofi/csi/{device}/data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'whofi-esphome-data', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.esphome.stats', profile: 'whofi', pattern: 'whofi/csi/{device}/stats', kind: 'csi-stats', deviceKind: 'csi-sensor', schema: 'csi-stats', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.arduino.data', profile: 'whofi', pattern: 'whofi/csi/data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'whofi-arduino-data', encoding: 'json', direction: 'up', payloadIdField: 'mac' }),
  route({ id: 'whofi.idf.status', profile: 'whofi', pattern: 'devices/{device}/status', kind: 'status', deviceKind: 'csi-sensor', schema: 'whofi-idf-status', encoding: 'text-or-json', textField: 'status', direction: 'up' }),
  route({ id: 'whofi.idf.metrics', profile: 'whofi', pattern: 'devices/{device}/metrics', kind: 'metrics', deviceKind: 'csi-sensor', schema: 'whofi-idf-metrics', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.idf.alerts', profile: 'whofi', pattern: 'devices/{device}/alerts', kind: 'alert', deviceKind: 'csi-sensor', schema: 'whofi-idf-alert', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.idf.data', profile: 'whofi', pattern: '{prefix+}/csi_data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'whofi-idf-data', encoding: 'json', direction: 'up' }),

  // TI0162-IOT apps as shipped: a per-device prefix, `esp32` by default, and no id on the wire.
  // Last because {prefix+} would otherwise swallow the literal layouts above.
  route({ id: 'ti0162.sensor', profile: 'ti0162', pattern: '{prefix+}/sensor/bme280', kind: 'sensor', deviceKind: 'env-sensor', schema: 'ti0162-sensor', encoding: 'json', direction: 'up' }),
  route({ id: 'ti0162.heartbeat', profile: 'ti0162', pattern: '{prefix+}/heartbeat', kind: 'heartbeat', deviceKind: 'env-sensor', schema: null, encoding: 'ping', direction: 'up' }),
  // A bare `online` (whofi ESP-IDF's retained birth on {prefix}/status) reads as {status: "online"}.
  route({ id: 'ti0162.status', profile: 'ti0162', pattern: '{prefix+}/status', kind: 'status', deviceKind: 'env-sensor', schema: 'ti0162-status', encoding: 'text-or-json', textField: 'status', direction: 'up' }),
];

export const ESP32C3_ARCHS = ['sync', 'async', 'full'] as const;
export type Esp32c3Arch = (typeof ESP32C3_ARCHS)[number];

/** TI0162-IOT names the variants by app or by its own architecture strings; both map onto ours. */
export const ARCH_ALIASES: Readonly<Record<string, Esp32c3Arch>> = {
  sync: 'sync', async: 'async', full: 'full',
  'async-min': 'async', 'async-full': 'full',
  'main-nodeps': 'sync', 'main-min': 'async', 'main-app': 'full',
};

export const PROFILES: readonly ProfileName[] = ['standard', 'ti0162', 'ti0162-lib', 'whofi'];

export const BROADCAST_TARGET = 'broadcast';

/** Fills a route's pattern; used by the simulator and by nodes that publish commands. */
export function topicFor(routeId: string, vars: { device?: string; arch?: string; prefix?: string }): string {
  const r = TOPIC_ROUTES.find((x) => x.id === routeId);
  if (!r) throw new Error(`unknown topic route ${routeId}`);
  return r.pattern.replace(/\{(device|arch|libarch|prefix\+)\}/g, (_m, name: string) => {
    const key = name === 'prefix+' ? 'prefix' : name === 'libarch' ? 'arch' : name;
    const value = (vars as Record<string, string | undefined>)[key];
    if (value === undefined) throw new Error(`topic ${routeId} needs ${key}`);
    return value;
  });
}
