/**
 * The topic map: every MQTT topic of the fleet, written down once.
 * The decoder matches incoming topics against it and the simulator builds its topics from it.
 *
 * Pattern variables:
 *   {device}   one segment naming the device (checked by deviceIdProblem)
 *   {arch}     sync | async | full (the three ESP32-C3 firmware variants; TI0162-IOT's
 *              `get_topic_suffix()` spells them the same way)
 *   {prefix+}  one or more segments; the device comes from configuration (prefix map), from the
 *              prefix itself where the firmware names itself by it (`prefixIsId`), or stays unidentified
 */
import type { Ti0162Sensor } from './generated';
import type { SchemaName } from './schemas';
import { OTA_ROUTES } from './ota';
import { STEEL_ROUTES } from './steel';

export const PROFILES = ['standard', 'ti0162', 'ti0162-lib', 'whofi'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** The device kinds by name, for code that means one kind (the simulator, health defaults). */
export const KIND = {
  envSensor: 'env-sensor', envMonitor: 'env-monitor', csiSensor: 'csi-sensor', steelDevice: 'steel-device', audioDevice: 'audio-device',
} as const;
export const DEVICE_KINDS = [KIND.envSensor, KIND.envMonitor, KIND.csiSensor, KIND.steelDevice, KIND.audioDevice] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const MESSAGE_KINDS = [
  'sensor', 'heartbeat', 'status', 'health', 'metrics', 'log', 'alert', 'presence',
  'ota-command', 'ota-progress', 'config-update', 'config-ack', 'command', 'emergency',
  'steel-load', 'steel-result', 'steel-status', 'steel-report', 'steel-request', 'steel-shadow', 'csi-data', 'csi-stats', 'console',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/**
 * How the payload is read before validation.
 * - json: must be a JSON object
 * - text-or-json: a JSON object, or a bare word that `textField` turns into one
 * - ping: the bare word `ping` (TI0162-IOT apps' heartbeat); read as an empty body
 * - ping-or-json: a JSON object, or the bare word `ping` (iot-common's legacy heartbeat,
 *   `StandardHeartbeat::to_legacy_simple`)
 * - word: one of `words`, bare, which `textField` turns into an object; anything else is left to
 *   the next route with the same topic (whofi's bare `online` birth beside TI0162-IOT's JSON status)
 */
/** TI0162-IOT apps publish under `esp32` unless their configuration names another prefix. */
export const TI0162_DEFAULT_PREFIX = 'esp32';
/** whofi's ESP-IDF firmware: `topic_prefix` is `csi-device` unless configured. */
export const WHOFI_IDF_DEFAULT_PREFIX = 'csi-device';

export type Encoding = 'json' | 'text-or-json' | 'ping' | 'ping-or-json' | 'word';

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
  /** For `word`: the bare words this route reads. */
  readonly words?: readonly string[];
  /** The {prefix+} names the device (a prefix the firmware or its configuration gives itself). */
  readonly prefixIsId?: boolean;
  /** For {prefix+}: the prefix the firmware uses unless configured (what a subscription listens on by default). */
  readonly defaultPrefix?: string;
}

/** Checks a route at the type level; files that contribute routes (steel.ts, ota.ts, ...) use it too. */
export const route = (r: TopicRoute): TopicRoute => r;

const isPrefixed = (r: TopicRoute): boolean => r.pattern.startsWith('{prefix+}');

/**
 * Joins groups of routes into one map: literal layouts first, {prefix+} layouts last (a prefix would
 * otherwise swallow the literal ones), each group's order kept. A duplicate id is a programming error.
 */
export function composeRoutes(...groups: ReadonlyArray<readonly TopicRoute[]>): readonly TopicRoute[] {
  const all = groups.flat();
  const ids = new Set<string>();
  for (const r of all) {
    if (ids.has(r.id)) throw new Error(`topic route ${r.id} is defined twice`);
    ids.add(r.id);
  }
  return Object.freeze([...all.filter((r) => !isPrefixed(r)), ...all.filter(isPrefixed)]);
}

/** The core map, ordered most specific first; the first route that matches wins. */
const CORE_ROUTES: readonly TopicRoute[] = [
  // ESP32-C3 environmental sensors, three firmware variants (deployment guide layout)
  route({ id: 'esp32c3.sensor', profile: 'standard', pattern: 'esp32c3/{arch}/{device}/sensor', kind: 'sensor', deviceKind: 'env-sensor', schema: 'esp32c3-sensor', encoding: 'json', direction: 'up' }),
  route({ id: 'esp32c3.heartbeat', profile: 'standard', pattern: 'esp32c3/{arch}/{device}/heartbeat', kind: 'heartbeat', deviceKind: 'env-sensor', schema: 'esp32c3-heartbeat', encoding: 'ping-or-json', direction: 'up' }),
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
  // The CSI server's downlink (whofi csi-server/backend/server.js publishNodeConfig)
  route({ id: 'csi.config', profile: 'standard', pattern: 'csi/{device}/config', kind: 'config-update', deviceKind: 'csi-sensor', schema: 'csi-config', encoding: 'json', direction: 'down' }),
  route({ id: 'csi.presence', profile: 'standard', pattern: 'csi/{device}/presence', kind: 'presence', deviceKind: 'csi-sensor', schema: 'presence', encoding: 'json', direction: 'up' }),

  // Audio devices (their health line, bridged to MQTT)
  route({ id: 'audio.health', profile: 'standard', pattern: 'audio/{device}/health', kind: 'health', deviceKind: 'audio-device', schema: 'audio-health', encoding: 'json', direction: 'up' }),
  route({ id: 'audio.presence', profile: 'standard', pattern: 'audio/{device}/presence', kind: 'presence', deviceKind: 'audio-device', schema: 'presence', encoding: 'json', direction: 'up' }),

  // Fleet operations: OTA, configuration, Steel programs
  route({ id: 'ota.update', profile: 'standard', pattern: 'ota/update/{device}', kind: 'ota-command', deviceKind: null, schema: 'ota-update', encoding: 'json', direction: 'down' }),
  // A rollout's abort to the devices still working on it (lib/ota/controller.ts)
  route({ id: 'ota.cancel', profile: 'standard', pattern: 'ota/cancel/{device}', kind: 'ota-command', deviceKind: null, schema: 'ota-cancel', encoding: 'json', direction: 'down' }),
  route({ id: 'ota.progress', profile: 'standard', pattern: 'ota/progress/{device}', kind: 'ota-progress', deviceKind: null, schema: 'ota-progress', encoding: 'json', direction: 'up' }),
  route({ id: 'config.update', profile: 'standard', pattern: 'config/update/{device}', kind: 'config-update', deviceKind: null, schema: 'config-update', encoding: 'json', direction: 'down' }),
  // The device's answer to a fleet-command push (applied or rejected, with the reason)
  route({ id: 'config.ack', profile: 'standard', pattern: 'config/ack/{device}', kind: 'config-ack', deviceKind: null, schema: 'device-config-ack', encoding: 'json', direction: 'up' }),

  // TI0162-IOT iot-common layout (StandardTopics::for_architecture): the topic ends in
  // get_topic_suffix() = sync|async|full, the device id travels in the payload
  route({ id: 'ti0162lib.sensor', profile: 'ti0162-lib', pattern: 'esp32c3/sensor/bme280/{arch}', kind: 'sensor', deviceKind: 'env-sensor', schema: 'ti0162lib-sensor', encoding: 'json', direction: 'up' }),
  route({ id: 'ti0162lib.heartbeat', profile: 'ti0162-lib', pattern: 'esp32c3/heartbeat/{arch}', kind: 'heartbeat', deviceKind: 'env-sensor', schema: 'ti0162lib-heartbeat', encoding: 'ping-or-json', direction: 'up' }),
  route({ id: 'ti0162lib.status', profile: 'ti0162-lib', pattern: 'esp32c3/status/{arch}', kind: 'status', deviceKind: 'env-sensor', schema: 'ti0162lib-status', encoding: 'json', direction: 'up' }),

  // jedarden/whofi CSI firmware variants
  route({ id: 'whofi.esphome.data', profile: 'whofi', pattern: 'whofi/csi/{device}/data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'whofi-esphome-data', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.esphome.stats', profile: 'whofi', pattern: 'whofi/csi/{device}/stats', kind: 'csi-stats', deviceKind: 'csi-sensor', schema: 'csi-stats', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.arduino.data', profile: 'whofi', pattern: 'whofi/csi/data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'whofi-arduino-data', encoding: 'json', direction: 'up', payloadIdField: 'mac' }),
  route({ id: 'whofi.idf.status', profile: 'whofi', pattern: 'devices/{device}/status', kind: 'status', deviceKind: 'csi-sensor', schema: 'whofi-idf-status', encoding: 'text-or-json', textField: 'status', direction: 'up' }),
  route({ id: 'whofi.idf.metrics', profile: 'whofi', pattern: 'devices/{device}/metrics', kind: 'metrics', deviceKind: 'csi-sensor', schema: 'whofi-idf-metrics', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.idf.alerts', profile: 'whofi', pattern: 'devices/{device}/alerts', kind: 'alert', deviceKind: 'csi-sensor', schema: 'whofi-idf-alert', encoding: 'json', direction: 'up' }),
  route({ id: 'whofi.idf.config', profile: 'whofi', pattern: 'devices/{device}/config', kind: 'config-update', deviceKind: 'csi-sensor', schema: 'csi-config', encoding: 'json', direction: 'down' }),
  route({ id: 'whofi.idf.command', profile: 'whofi', pattern: 'devices/{device}/command', kind: 'command', deviceKind: 'csi-sensor', schema: 'whofi-idf-command', encoding: 'json', direction: 'down' }),
  // practical_csi_wifi_example.ino: a fixed topic that names no device (the prefix map can)
  route({ id: 'whofi.practical.data', profile: 'whofi', pattern: 'home/sensor/data', kind: 'sensor', deviceKind: 'csi-sensor', schema: 'whofi-practical-data', encoding: 'json', direction: 'up' }),
  // ESP-IDF firmware: {topic_prefix}/csi_data, prefix `csi-device` unless configured; the prefix names the node
  route({ id: 'whofi.idf.data', profile: 'whofi', pattern: '{prefix+}/csi_data', kind: 'csi-data', deviceKind: 'csi-sensor', schema: 'whofi-idf-data', encoding: 'json', direction: 'up', prefixIsId: true, defaultPrefix: WHOFI_IDF_DEFAULT_PREFIX }),
  route({ id: 'whofi.idf.config-prefix', profile: 'whofi', pattern: '{prefix+}/config', kind: 'config-update', deviceKind: 'csi-sensor', schema: 'csi-config', encoding: 'json', direction: 'down', prefixIsId: true, defaultPrefix: WHOFI_IDF_DEFAULT_PREFIX }),
  // Its retained birth, the bare word `online` on {topic_prefix}/status (mqtt_client_wrapper.c), and
  // ESPHome's default birth and will (`online` / `offline` on {node name}/status): presence, named by the prefix.
  route({ id: 'whofi.presence', profile: 'whofi', pattern: '{prefix+}/status', kind: 'presence', deviceKind: 'csi-sensor', schema: 'whofi-presence', encoding: 'word', words: ['online', 'offline'], textField: 'state', direction: 'up', prefixIsId: true, defaultPrefix: WHOFI_IDF_DEFAULT_PREFIX }),

  // TI0162-IOT apps as shipped: a per-device prefix, `esp32` by default, and no id on the wire.
  // Last because {prefix+} would otherwise swallow the literal layouts above.
  route({ id: 'ti0162.sensor', profile: 'ti0162', pattern: '{prefix+}/sensor/bme280', kind: 'sensor', deviceKind: 'env-sensor', schema: 'ti0162-sensor', encoding: 'json', direction: 'up', defaultPrefix: TI0162_DEFAULT_PREFIX }),
  route({ id: 'ti0162.heartbeat', profile: 'ti0162', pattern: '{prefix+}/heartbeat', kind: 'heartbeat', deviceKind: 'env-sensor', schema: null, encoding: 'ping', direction: 'up', defaultPrefix: TI0162_DEFAULT_PREFIX }),
  route({ id: 'ti0162.status', profile: 'ti0162', pattern: '{prefix+}/status', kind: 'status', deviceKind: 'env-sensor', schema: 'ti0162-status', encoding: 'json', direction: 'up', defaultPrefix: TI0162_DEFAULT_PREFIX }),
];

/**
 * Every route of the contract. A file that adds routes (steel.ts, ota.ts, device-config.ts) exports
 * its list and is named here: `composeRoutes(CORE_ROUTES, STEEL_ROUTES, ...)`.
 */
export const TOPIC_ROUTES: readonly TopicRoute[] = composeRoutes(CORE_ROUTES, STEEL_ROUTES, OTA_ROUTES);

export const ARCH = { sync: 'sync', async: 'async', full: 'full' } as const;
export const ESP32C3_ARCHS = [ARCH.sync, ARCH.async, ARCH.full] as const;
export type Esp32c3Arch = (typeof ESP32C3_ARCHS)[number];

/** The TI0162-IOT application that builds each variant (its `app` field). */
export type Ti0162App = NonNullable<Ti0162Sensor['app']>;
export const TI0162_APPS: ReadonlyMap<Esp32c3Arch, Ti0162App> = new Map<Esp32c3Arch, Ti0162App>([['sync', 'main-nodeps'], ['async', 'main-min'], ['full', 'main-app']]);
/** iot-common's get_architecture_string() for each variant (StandardDeviceStatus.architecture). */
export const IOT_COMMON_ARCHS: ReadonlyMap<Esp32c3Arch, string> = new Map<Esp32c3Arch, string>([['sync', 'sync'], ['async', 'async-min'], ['full', 'async-full']]);

/**
 * TI0162-IOT names the variants by app (`app`) or by get_architecture_string() (`architecture`);
 * both map onto ours. A Map, because the names come off the wire.
 */
export const ARCH_ALIASES: ReadonlyMap<string, Esp32c3Arch> = new Map<string, Esp32c3Arch>([
  ...ESP32C3_ARCHS.map((a): [string, Esp32c3Arch] => [a, a]),
  ...[...IOT_COMMON_ARCHS].map(([a, name]): [string, Esp32c3Arch] => [name, a]),
  ...[...TI0162_APPS].map(([a, name]): [string, Esp32c3Arch] => [name, a]),
]);

/** The arch a wire value names, or null; never a member of Object.prototype. */
export function archOf(name: unknown): Esp32c3Arch | null {
  return typeof name === 'string' ? ARCH_ALIASES.get(name) ?? null : null;
}

const KIND_SET: ReadonlySet<string> = new Set(DEVICE_KINDS);
export function isDeviceKind(x: unknown): x is DeviceKind {
  return typeof x === 'string' && KIND_SET.has(x);
}

export const BROADCAST_TARGET = 'broadcast';

/** Fills a route's pattern; used by the simulator and by nodes that publish commands. */
export function topicFor(routeId: string, vars: { device?: string; arch?: string; prefix?: string }): string {
  const r = TOPIC_ROUTES.find((x) => x.id === routeId);
  if (!r) throw new Error(`unknown topic route ${routeId}`);
  return r.pattern.replace(/\{(device|arch|prefix\+)\}/g, (_m, name: string) => {
    const value = name === 'prefix+' ? vars.prefix : name === 'arch' ? vars.arch : vars.device;
    const key = name === 'prefix+' ? 'prefix' : name;
    if (value === undefined) throw new Error(`topic ${routeId} needs ${key}`);
    return value;
  });
}

/**
 * Serial console lines: `console/{device}` (or `console` and msg.deviceId, or no topic at all) carries
 * one line as the device printed it. Not a route: the line is text the console grammar reads.
 */
export const CONSOLE_TOPIC = 'console';

export function consoleTopic(device: string): string {
  return `${CONSOLE_TOPIC}/${device}`;
}

/** Whether a topic carries console lines: absent, empty, `console` or under `console/`. */
export function isConsoleTopic(topic: unknown): boolean {
  return topic === undefined || topic === null || topic === '' || topic === CONSOLE_TOPIC || (typeof topic === 'string' && topic.startsWith(`${CONSOLE_TOPIC}/`));
}

/** The device a console topic names (`console/{device}`), or null when it names none. */
export function consoleTopicDevice(topic: string): string | null {
  return topic.startsWith(`${CONSOLE_TOPIC}/`) ? topic.slice(CONSOLE_TOPIC.length + 1) : null;
}

/**
 * The simulator's control topic, `sim/fault/{device|all}`: {fault, action: inject|clear, durationS?}
 * breaks or mends a virtual device. Only the simulator listens; no real device does.
 */
export const SIM_FAULT_ALL = 'all';
export const SIM_FAULT_FILTER = 'sim/fault/+';

export function simFaultTopic(target: string): string {
  return `sim/fault/${target}`;
}

/** The device (or SIM_FAULT_ALL) a control topic names, or null when the topic is not one. */
export function simFaultTarget(topic: string): string | null {
  const parts = topic.split('/');
  return parts.length === 3 && parts[0] === 'sim' && parts[1] === 'fault' && parts[2] !== '' ? parts[2] : null;
}
