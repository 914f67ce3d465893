/**
 * What health remembers of a device between messages: the latest value of each measured quantity,
 * and the few timestamps counted factors need. Small and flat, so 100,000 devices fit in memory.
 */
import type { DeviceKind, MessageKind } from '../../firmware/contract/topics';

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

export function emptyObs(kind: DeviceKind | null, at: number): DeviceObs {
  return {
    kind, lastSeen: at, freeHeap: null, memUsedPct: null, cpuPct: null, rssi: null, lastSensorAt: null, reportedSensorAge: null, sensorUs: null,
    lastUptime: null, lastRestartCount: null, restarts: [], lastErrorCount: null, errorLoad: null, errorLoadAt: at,
    stuckRun: 0, lastReading: null, invalid: [], reported: null, otaFailures: [], steelFailures: [], announcedInterval: null, presenceOffline: false,
  };
}

const n = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function pushEvent(list: number[], at: number): void {
  list.push(at);
  if (list.length > MAX_EVENTS) list.shift();
}

/** Uptime that went backwards is a restart, whatever else the device says. */
function noteUptime(o: DeviceObs, uptime: number | null, at: number): void {
  if (uptime === null) return;
  if (o.lastUptime !== null && uptime + 1 < o.lastUptime) pushEvent(o.restarts, at);
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
  const heap = n(p.free_heap) ?? n(p.heap_bytes);
  if (heap !== null) o.freeHeap = heap;
  const rssi = n(p.wifi_rssi);
  if (rssi !== null) o.rssi = rssi;
  switch (m.kind) {
    case 'sensor': {
      const key = `${String(p.temperature)}|${String(p.humidity)}|${String(p.pressure)}`;
      o.stuckRun = key === o.lastReading ? o.stuckRun + 1 : 0;
      o.lastReading = key;
      o.lastSensorAt = m.at;
      break;
    }
    case 'heartbeat':
    case 'status':
      noteUptime(o, n(p.uptime), m.at);
      if (m.kind === 'status') {
        const s = p.status;
        o.reported = s === 'error' ? 2 : s === 'degraded' ? 1 : typeof s === 'string' ? 0 : o.reported;
        const interval = n(p.reading_interval);
        if (interval !== null && interval > 0) o.announcedInterval = interval;
      }
      break;
    case 'health': {
      noteUptime(o, n(p.uptime), m.at);
      // Judged as of the report: between reports the device goes on reading its sensor.
      const last = n(p.last_sensor_reading);
      if (last !== null) o.reportedSensorAge = Math.max(0, (m.at - last) / 1000);
      if (typeof p.healthy === 'boolean') o.reported = p.healthy ? 0 : 1;
      break;
    }
    case 'metrics': {
      noteUptime(o, n(p.uptime), m.at);
      o.cpuPct = n(p.cpu_usage_percent) ?? o.cpuPct;
      const used = n(p.memory_usage_bytes);
      if (used !== null && o.freeHeap !== null && used + o.freeHeap > 0) o.memUsedPct = (100 * used) / (used + o.freeHeap);
      const restarts = n(p.restart_count);
      if (restarts !== null) {
        if (o.lastRestartCount !== null && restarts > o.lastRestartCount) {
          for (let i = 0; i < Math.min(restarts - o.lastRestartCount, MAX_EVENTS); i++) pushEvent(o.restarts, m.at);
        }
        o.lastRestartCount = restarts;
      }
      const errors = n(p.error_count);
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
      if (p.event === 'perf-sensor') o.sensorUs = n(p.sensor_avg_us);
      if (p.event === 'reading') { o.sensorUs = n(p.read_time_us) ?? o.sensorUs; o.lastSensorAt = m.at; }
      if (p.event === 'perf-analysis') { o.reported = p.status === 'Degraded' ? 1 : o.reported ?? 0; noteUptime(o, n(p.uptime), m.at); }
      if (p.event === 'audio-health') o.reported = p.healthy === false ? 1 : 0;
      if (p.event === 'boot') pushEvent(o.restarts, m.at);
      break;
    }
    case 'presence':
      o.presenceOffline = m.online !== undefined ? !m.online : p.state === 'offline';
      break;
    case 'ota-progress':
      if (p.state === 'FAILED' || p.state === 'ROLLED_BACK' || p.state === 'REJECTED') pushEvent(o.otaFailures, m.at);
      break;
    case 'steel-result':
      if (p.status === 'failed' || p.status === 'rejected') pushEvent(o.steelFailures, m.at);
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
  pushEvent(o.invalid, at);
}
