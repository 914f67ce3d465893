/**
 * One reading shape per message kind, whatever profile it came in: the names health scoring reads
 * (free_heap, wifi_rssi, uptime in seconds) and `timestamp` in epoch milliseconds.
 * Input is plain data (see plain-data.ts) that passed its schema; every table here is a Map, so no
 * wire value can reach a member of Object.prototype.
 */
import type {
  AudioHealth, CsiHeartbeat, Esp32C3Heartbeat, Esp32C3Status, Esp32Health, Esp32Metrics, Ti0162LibStatus, Ti0162Sensor, WhofiIdfMetrics, WhofiIdfStatus,
} from '../../firmware/contract/generated';
import { STEEL_OTA_READINGS } from '../ota/steel';

type Clock =
  | 'epoch-s'   // device sends seconds since the Unix epoch
  | 'epoch-ms'  // milliseconds since the Unix epoch (our OTA progress, as lib/ota reads it)
  | 'guide'     // the guide's layout: epoch seconds in our richer messages, ms since boot in iot-common's
                //   (told apart by `bootMarkers`, or for readings, which share every field name, by EPOCH_S_FLOOR)
  | 'boot-ms'   // device sends milliseconds since boot (TI0162-IOT iot-common)
  | 'boot-us'   // microseconds since boot (whofi radio clock)
  | 'us'        // microseconds: since boot, or since the epoch once NTP synced (whofi ESP-IDF)
  | 'none';     // device sends no time: the receive time stands in

interface Shape {
  readonly clock: Clock;
  readonly rename?: ReadonlyMap<string, string>;
  /** Fields holding epoch seconds other than `timestamp`. */
  readonly epochSeconds?: readonly string[];
  /** Object field whose members are lifted to the top level. */
  readonly flatten?: string;
  /** Fields only iot-common's Standard* messages carry: their `timestamp` is ms since boot. */
  readonly bootMarkers?: readonly string[];
  /** No field tells the two forms apart: a timestamp below EPOCH_S_FLOOR is ms since boot. */
  readonly epochFloor?: boolean;
  /** `level` → `severity` (device alerts). */
  readonly severity?: boolean;
  /** `level` in lower case (Rust's `log` crate prints WARN, ERROR, ...). */
  readonly lowerLevel?: boolean;
  /** `status: "ping"` only says what the message is (StandardHeartbeat); it is not kept. */
  readonly dropPing?: boolean;
}

/** Microsecond values above this are epoch times (2001-09-09 onward), below it time since boot. */
const EPOCH_US_FLOOR = 1e15;
/**
 * On the guide's layout a `timestamp` below this (2017-07-14 in epoch seconds) is read as ms since
 * boot: iot-common's StandardSensorReading has the guide's field names but a boot clock.
 */
export const EPOCH_S_FLOOR = 1_500_000_000;
/** The largest time a JS Date holds, in ms either side of the epoch. */
const MAX_DATE_MS = 8.64e15;

const SEVERITY: ReadonlyMap<string, string> = new Map([
  ['Critical', 'critical'], ['ERROR', 'critical'], ['Warning', 'warning'], ['WARNING', 'warning'], ['Info', 'info'], ['INFO', 'info'],
]);

/**
 * Field names below are checked against the types generated from the route's schema
 * (firmware/contract/generated): a field renamed in a schema fails the build here.
 */
type Field<T> = keyof T & string;
/** Renames of one schema's fields to the names health reads (`free_heap`, `wifi_rssi`, `uptime`, ...). */
const renames = <T>(m: { readonly [K in Field<T>]?: string }): ReadonlyMap<string, string> =>
  new Map(Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string'));
const fields = <T>(...names: Array<Field<T>>): readonly string[] => names;

/** Fields that say who or what sent the message; they go to msg.device, not the reading. */
const IDENTITY_FIELDS: ReadonlySet<string> = new Set([
  ...fields<Esp32C3Status>('device_id', 'architecture', 'v'), ...fields<Ti0162Sensor>('app'),
]);

const IOT_COMMON_STATUS = renames<Ti0162LibStatus>({ uptime_seconds: 'uptime', free_heap_bytes: 'free_heap', wifi_rssi_dbm: 'wifi_rssi', sensor_readings: 'reading_count' });
const STATUS_MARKERS = fields<Esp32C3Status>('uptime_seconds', 'free_heap_bytes', 'wifi_rssi_dbm', 'sensor_readings');

const SHAPES: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  ['esp32c3.sensor', { clock: 'guide', epochFloor: true }],
  ['esp32c3.heartbeat', { clock: 'guide', bootMarkers: fields<Esp32C3Heartbeat>('status'), dropPing: true }],
  ['esp32c3.status', { clock: 'guide', rename: IOT_COMMON_STATUS, bootMarkers: STATUS_MARKERS }],
  ['esp32c3.presence', { clock: 'epoch-s' }],
  ['esp32.health', { clock: 'none', rename: renames<Esp32Health>({ free_memory: 'free_heap', temperature: 'chip_temperature' }), epochSeconds: fields<Esp32Health>('last_sensor_reading') }],
  ['esp32.metrics', { clock: 'epoch-s', flatten: fields<Esp32Metrics>('metrics')[0], rename: renames<Esp32Metrics['metrics']>({ wifi_signal_strength_dbm: 'wifi_rssi', uptime_seconds: 'uptime' }) }],
  ['esp32.logs', { clock: 'epoch-s', lowerLevel: true }],
  ['esp32.alerts', { clock: 'epoch-s', severity: true }],
  ['ti0162.sensor', { clock: 'none', rename: renames<Ti0162Sensor>({ reading: 'reading_count' }) }],
  ['ti0162.heartbeat', { clock: 'none' }],
  ['ti0162.status', { clock: 'none' }],
  ['ti0162lib.sensor', { clock: 'boot-ms' }],
  ['ti0162lib.heartbeat', { clock: 'boot-ms', dropPing: true }],
  ['ti0162lib.status', { clock: 'boot-ms', rename: IOT_COMMON_STATUS }],
  ['audio.health', { clock: 'epoch-s', rename: renames<AudioHealth>({ heap: 'free_heap' }) }],
  ['csi.data', { clock: 'none' }],
  ['csi.stats', { clock: 'none' }],
  ['csi.heartbeat', { clock: 'none', rename: renames<CsiHeartbeat>({ memoryFree: 'free_heap', rssi: 'wifi_rssi' }) }],
  ['csi.config', { clock: 'none' }],
  ['whofi.esphome.data', { clock: 'boot-us' }],
  ['whofi.esphome.stats', { clock: 'none' }],
  ['whofi.arduino.data', { clock: 'boot-ms' }],
  ['whofi.practical.data', { clock: 'none' }],
  ['whofi.presence', { clock: 'none' }],
  ['whofi.idf.data', { clock: 'us' }],
  ['whofi.idf.status', { clock: 'us', rename: renames<WhofiIdfStatus>({ version: 'firmware_version' }) }],
  ['whofi.idf.metrics', { clock: 'us', rename: renames<WhofiIdfMetrics>({ cpu_usage: 'cpu_usage_percent' }) }],
  ['whofi.idf.alerts', { clock: 'us', severity: true }],
  ['whofi.idf.config', { clock: 'none' }],
  ['whofi.idf.config-prefix', { clock: 'none' }],
  ['whofi.idf.command', { clock: 'none' }],
  ['ota.progress', { clock: 'epoch-ms' }],
]);

const DEFAULT_SHAPE: Shape = { clock: 'epoch-s' };
const NONE: readonly string[] = [];

export type Normalised =
  | { readonly ok: true; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly path: string; readonly reason: string };

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const badTime = (path: string, value: number, unit: string): Normalised =>
  ({ ok: false, path, reason: `${value} ${unit} is not a time a date can hold (more than 275,000 years from 1970)` });

/**
 * Copies the fields kept, renamed. Fields that are not kept are never written rather than deleted
 * afterwards: deleting a property other than the last one turns the object into a dictionary (a
 * sensor reading held by the registry took 530 B instead of 130 B). The device's `timestamp` is
 * written last, converted, by normalise.
 */
function copyFields(out: Record<string, unknown>, src: Readonly<Record<string, unknown>>, shape: Shape): void {
  const dropPing = shape.dropPing === true && shape.flatten === undefined;
  for (const key of Object.keys(src)) {
    if (IDENTITY_FIELDS.has(key) || key === shape.flatten || key === '__proto__') continue;
    const name = shape.rename?.get(key) ?? key;
    if (name === 'timestamp' || (dropPing && name === 'status' && src[key] === 'ping')) continue;
    out[name] = src[key];
  }
}

export function normalise(routeId: string, raw: Readonly<Record<string, unknown>>, receivedAt: number): Normalised {
  // The Steel firmware's OTA records read as our ota-progress (lib/ota/steel.ts): one shape for fleet-ota.
  const ota = STEEL_OTA_READINGS.get(routeId);
  if (ota) return ota(raw, receivedAt);
  const shape = SHAPES.get(routeId) ?? DEFAULT_SHAPE;
  const out: Record<string, unknown> = {};
  copyFields(out, raw, shape);
  const nested = shape.flatten !== undefined && has(raw, shape.flatten) ? raw[shape.flatten] : undefined;
  if (nested !== null && typeof nested === 'object' && !Array.isArray(nested)) copyFields(out, nested as Record<string, unknown>, shape);
  for (const f of shape.epochSeconds ?? NONE) {
    const v = out[f];
    if (typeof v === 'number') {
      if (Math.abs(v * 1000) > MAX_DATE_MS) return badTime(`/${f}`, v, 'seconds');
      out[f] = v * 1000;
    }
  }
  if (typeof out.level === 'string') {
    if (shape.severity) {
      const severity = SEVERITY.get(out.level);
      if (severity !== undefined) out.severity = severity;
    }
    if (shape.lowerLevel) out.level = out.level.toLowerCase();
  }
  if (shape.dropPing && out.status === 'ping') delete out.status;

  const t = has(raw, 'timestamp') ? raw.timestamp : undefined;
  const deviceTime = typeof t === 'number' ? t : null;
  let clock = shape.clock;
  if (clock === 'guide') {
    let iotCommon = false;
    for (const k of shape.bootMarkers ?? NONE) if (has(raw, k)) { iotCommon = true; break; }
    const belowFloor = shape.epochFloor === true && deviceTime !== null && deviceTime < EPOCH_S_FLOOR;
    clock = iotCommon || belowFloor ? 'boot-ms' : 'epoch-s';
  }
  if (deviceTime !== null && clock === 'epoch-s') {
    if (Math.abs(deviceTime * 1000) > MAX_DATE_MS) return badTime('/timestamp', deviceTime, 'seconds');
    out.timestamp = deviceTime * 1000;
  } else if (deviceTime !== null && clock === 'epoch-ms') {
    if (Math.abs(deviceTime) > MAX_DATE_MS) return badTime('/timestamp', deviceTime, 'milliseconds');
    out.timestamp = deviceTime;
  } else if (deviceTime !== null && clock === 'us' && deviceTime >= EPOCH_US_FLOOR) {
    const ms = Math.round(deviceTime / 1000);
    if (Math.abs(ms) > MAX_DATE_MS) return badTime('/timestamp', deviceTime, 'microseconds');
    out.timestamp = ms;
  } else {
    if (deviceTime !== null && clock === 'boot-ms') {
      out.uptime_ms = deviceTime;
      if (out.uptime === undefined) out.uptime = Math.floor(deviceTime / 1000);
    }
    if (deviceTime !== null && (clock === 'boot-us' || clock === 'us')) out.uptime_ms = Math.round(deviceTime / 1000);
    out.timestamp = receivedAt;
    out.time_source = 'received';
    return { ok: true, payload: out };
  }
  out.time_source = 'device';
  return { ok: true, payload: out };
}
