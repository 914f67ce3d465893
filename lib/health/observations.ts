/**
 * What health remembers of a device between messages: the latest value of each measured quantity,
 * and the few timestamps counted factors need. Small and flat, so 100,000 devices fit in memory.
 */
import type { ConsoleEvent } from '../../firmware/contract/console';
import type {
  SteelProgramResult, SteelProgramStatus,
  AudioHealth, Esp32C3Sensor, Esp32C3Status, Esp32Health, Esp32Metrics, OtaProgress, Presence, SteelResult,
} from '../../firmware/contract/generated';
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';

/**
 * The fields read below, checked against the types generated from the schemas (after the normaliser's
 * renames, which are checked the same way): a field renamed in a schema fails the build here.
 */
type Field<T> = keyof T & string;
type Event = ConsoleEvent['event'];
const FAILED_OTA: ReadonlySet<string> = new Set<OtaProgress['state']>(['FAILED', 'ROLLED_BACK', 'REJECTED']);
const FAILED_STEEL: ReadonlySet<string> = new Set<SteelResult['status']>(['failed', 'rejected']);
const OFFLINE: Presence['state'] = 'offline';

export interface DeviceObs {
  kind: DeviceKind | null;
  lastSeen: number;
  freeHeap: number | null;
  memUsedPct: number | null;
  cpuPct: number | null;
  rssi: number | null;
  /** When the last sensor reading arrived (devices that send their readings). */
  lastSensorAt: number | null;
  /** Age of the last reading as of the device's own health report, in seconds (monitors report it). */
  reportedSensorAge: number | null;
  sensorUs: number | null;
  lastUptime: number | null;
  lastRestartCount: number | null;
  /** Recent restart times, newest last, at most MAX_EVENTS. */
  restarts: number[];
  lastErrorCount: number | null;
  /** New errors, decaying with a one-hour time constant: a rate without the jumps of a two-point difference. */
  errorLoad: number | null;
  errorLoadAt: number;
  stuckRun: number;
  lastReading: string | null;
  invalid: number[];
  /** 0 fine, 1 degraded, 2 error, as the device itself says. */
  reported: number | null;
  otaFailures: number[];
  steelFailures: number[];
  /** Seconds between readings the device announced in its status. */
  announcedInterval: number | null;
  presenceOffline: boolean;
}

export const MAX_EVENTS = 20;

/**
 * The event list of a device that had no such event: one frozen array shared by all of them (four
 * empty arrays a device were 100 B of 100,000 devices' memory). pushEvent replaces it on the first event.
 */
const NO_EVENTS: number[] = Object.freeze([]) as unknown as number[];

type EventList = 'restarts' | 'invalid' | 'otaFailures' | 'steelFailures';
const EVENT_LISTS: readonly EventList[] = ['restarts', 'invalid', 'otaFailures', 'steelFailures'];

export function emptyObs(kind: DeviceKind | null, at: number): DeviceObs {
  return {
    kind, lastSeen: at, freeHeap: null, memUsedPct: null, cpuPct: null, rssi: null, lastSensorAt: null, reportedSensorAge: null, sensorUs: null,
    lastUptime: null, lastRestartCount: null, restarts: NO_EVENTS, lastErrorCount: null, errorLoad: null, errorLoadAt: at,
    stuckRun: 0, lastReading: null, invalid: NO_EVENTS, reported: null, otaFailures: NO_EVENTS, steelFailures: NO_EVENTS, announcedInterval: null, presenceOffline: false,
  };
}

const n = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function pushEvent(o: DeviceObs, list: EventList, at: number): void {
  let events = o[list];
  // The shared empty list, or a list someone froze: the device gets its own.
  if (Object.isFrozen(events)) o[list] = events = events.slice();
  events.push(at);
  if (events.length > MAX_EVENTS) events.shift();
}

/** `o` with lists of its own in place of the shared empty ones (for copies that write a shared object once). */
export function ownObs(o: DeviceObs): DeviceObs {
  if (!EVENT_LISTS.some((k) => o[k] === NO_EVENTS)) return o;
  const copy = { ...o };
  for (const k of EVENT_LISTS) if (copy[k] === NO_EVENTS) copy[k] = [];
  return copy;
}

const numberOrNull = (x: unknown, fallback: number | null): number | null => (x === null || typeof x === 'number' ? x : fallback);

/**
 * What is known of a device, read back from a snapshot (plain data from the journal or the registry),
 * with `lastSeen`; in the same shape as emptyObs makes, so a restored device costs what a live one does.
 * A field of the wrong type (a snapshot written by hand) reads as unknown.
 */
export function restoredObs(s: Readonly<DeviceObs>, lastSeen: number): DeviceObs {
  const o = emptyObs(typeof s.kind === 'string' ? s.kind : null, lastSeen);
  o.freeHeap = numberOrNull(s.freeHeap, null);
  o.memUsedPct = numberOrNull(s.memUsedPct, null);
  o.cpuPct = numberOrNull(s.cpuPct, null);
  o.rssi = numberOrNull(s.rssi, null);
  o.lastSensorAt = numberOrNull(s.lastSensorAt, null);
  o.reportedSensorAge = numberOrNull(s.reportedSensorAge, null);
  o.sensorUs = numberOrNull(s.sensorUs, null);
  o.lastUptime = numberOrNull(s.lastUptime, null);
  o.lastRestartCount = numberOrNull(s.lastRestartCount, null);
  o.lastErrorCount = numberOrNull(s.lastErrorCount, null);
  o.errorLoad = numberOrNull(s.errorLoad, null);
  o.errorLoadAt = typeof s.errorLoadAt === 'number' ? s.errorLoadAt : lastSeen;
  o.stuckRun = typeof s.stuckRun === 'number' ? s.stuckRun : 0;
  o.lastReading = typeof s.lastReading === 'string' ? s.lastReading : null;
  o.reported = numberOrNull(s.reported, null);
  o.announcedInterval = numberOrNull(s.announcedInterval, null);
  o.presenceOffline = s.presenceOffline === true;
  for (const k of EVENT_LISTS) {
    const events = s[k];
    if (Array.isArray(events) && events.length > 0) o[k] = events.filter((t): t is number => typeof t === 'number').slice(-MAX_EVENTS);
  }
  return o;
}

/** Uptime that went backwards is a restart, whatever else the device says. */
function noteUptime(o: DeviceObs, uptime: number | null, at: number): void {
  if (uptime === null) return;
  if (o.lastUptime !== null && uptime + 1 < o.lastUptime) pushEvent(o, 'restarts', at);
  o.lastUptime = uptime;
}

export interface Observation {
  readonly kind: MessageKind;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly at: number;
  /** From the registry, which applies presence sessions; undefined without a registry. */
  readonly online?: boolean;
}

/** Folds one decoded message into what we know of the device. */
export function observe(o: DeviceObs, m: Observation): void {
  const p = m.payload;
  o.lastSeen = Math.max(o.lastSeen, m.at);
  if (m.kind !== 'presence') o.presenceOffline = false;
  const heap = n(p['free_heap' satisfies Field<Esp32C3Status>]) ?? n(p['heap_bytes' satisfies Field<Extract<ConsoleEvent, { event: 'perf-memory' }>>]);
  if (heap !== null) o.freeHeap = heap;
  const rssi = n(p['wifi_rssi' satisfies Field<Esp32C3Status>]);
  if (rssi !== null) o.rssi = rssi;
  switch (m.kind) {
    case 'sensor': {
      const key = `${String(p['temperature' satisfies Field<Esp32C3Sensor>])}|${String(p['humidity' satisfies Field<Esp32C3Sensor>])}|${String(p['pressure' satisfies Field<Esp32C3Sensor>])}`;
      o.stuckRun = key === o.lastReading ? o.stuckRun + 1 : 0;
      o.lastReading = key;
      o.lastSensorAt = m.at;
      break;
    }
    case 'heartbeat':
    case 'status':
      noteUptime(o, n(p['uptime' satisfies Field<Esp32C3Status>]), m.at);
      if (m.kind === 'status') {
        const s = p['status' satisfies Field<Esp32C3Status>];
        o.reported = s === ('error' satisfies Esp32C3Status['status']) ? 2 : s === ('degraded' satisfies Esp32C3Status['status']) ? 1 : typeof s === 'string' ? 0 : o.reported;
        const interval = n(p['reading_interval' satisfies Field<Esp32C3Status>]);
        if (interval !== null && interval > 0) o.announcedInterval = interval;
      }
      break;
    case 'health': {
      noteUptime(o, n(p['uptime' satisfies Field<Esp32Health>]), m.at);
      // Judged as of the report: between reports the device goes on reading its sensor.
      const last = n(p['last_sensor_reading' satisfies Field<Esp32Health>]);
      if (last !== null) o.reportedSensorAge = Math.max(0, (m.at - last) / 1000);
      const healthy = p['healthy' satisfies Field<AudioHealth>];
      if (typeof healthy === 'boolean') o.reported = healthy ? 0 : 1;
      break;
    }
    case 'metrics': {
      type M = Esp32Metrics['metrics'];
      noteUptime(o, n(p.uptime), m.at);
      o.cpuPct = n(p['cpu_usage_percent' satisfies Field<M>]) ?? o.cpuPct;
      const used = n(p['memory_usage_bytes' satisfies Field<M>]);
      if (used !== null && o.freeHeap !== null && used + o.freeHeap > 0) o.memUsedPct = (100 * used) / (used + o.freeHeap);
      const restarts = n(p['restart_count' satisfies Field<M>]);
      if (restarts !== null) {
        if (o.lastRestartCount !== null && restarts > o.lastRestartCount) {
          for (let i = 0; i < Math.min(restarts - o.lastRestartCount, MAX_EVENTS); i++) pushEvent(o, 'restarts', m.at);
        }
        o.lastRestartCount = restarts;
      }
      const errors = n(p['error_count' satisfies Field<M>]);
      if (errors !== null) {
        // A counter that went down was reset by a restart: everything it shows now is new.
        const fresh = o.lastErrorCount === null ? 0 : errors >= o.lastErrorCount ? errors - o.lastErrorCount : errors;
        o.errorLoad = errorLoadAt(o, m.at) + fresh;
        o.errorLoadAt = m.at;
        o.lastErrorCount = errors;
      }
      break;
    }
    case 'console': {
      const event = p['event' satisfies Field<ConsoleEvent>];
      if (event === ('perf-sensor' satisfies Event)) o.sensorUs = n(p.sensor_avg_us);
      if (event === ('reading' satisfies Event)) { o.sensorUs = n(p.read_time_us) ?? o.sensorUs; o.lastSensorAt = m.at; }
      if (event === ('perf-analysis' satisfies Event)) { o.reported = p.status === 'Degraded' ? 1 : o.reported ?? 0; noteUptime(o, n(p.uptime), m.at); }
      if (event === ('audio-health' satisfies Event)) o.reported = p.healthy === false ? 1 : 0;
      if (event === ('boot' satisfies Event)) pushEvent(o, 'restarts', m.at);
      break;
    }
    case 'presence':
      o.presenceOffline = m.online !== undefined ? !m.online : p['state' satisfies Field<Presence>] === OFFLINE;
      break;
    case 'ota-progress': {
      const state = p['state' satisfies Field<OtaProgress>];
      if (typeof state === 'string' && FAILED_OTA.has(state)) pushEvent(o, 'otaFailures', m.at);
      break;
    }
    case 'steel-result': {
      // The older result shape says status "failed"; aws-iot-steel's ProgramResult says success: false.
      const status = p['status' satisfies Field<SteelResult>];
      if ((typeof status === 'string' && FAILED_STEEL.has(status)) || p['success' satisfies Field<SteelProgramResult>] === false) pushEvent(o, 'steelFailures', m.at);
      break;
    }
    case 'steel-status':
      if (p['status' satisfies Field<SteelProgramStatus>] === 'Failed') pushEvent(o, 'steelFailures', m.at);
      break;
    default:
      break;
  }
}

export const ERROR_TAU_MS = 3_600_000;

/** The decayed error count at a time; divided by the time constant in hours it is a rate per hour. */
export function errorLoadAt(o: DeviceObs, at: number): number {
  if (o.errorLoad === null) return 0;
  return o.errorLoad * Math.exp(-Math.max(0, at - o.errorLoadAt) / ERROR_TAU_MS);
}

export function observeInvalid(o: DeviceObs, at: number): void {
  o.lastSeen = Math.max(o.lastSeen, at);
  pushEvent(o, 'invalid', at);
}
