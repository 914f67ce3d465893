/**
 * One reading shape per message kind, whatever profile it came in: the names health scoring reads
 * (free_heap, wifi_rssi, uptime in seconds) and `timestamp` in epoch milliseconds.
 */
type Clock =
  | 'epoch-s'   // device sends seconds since the Unix epoch
  | 'boot-ms'   // device sends milliseconds since boot (TI0162-IOT iot-common)
  | 'boot-us'   // microseconds since boot (whofi radio clock)
  | 'us'        // microseconds: since boot, or since the epoch once NTP synced (whofi ESP-IDF)
  | 'none';     // device sends no time: the receive time stands in

interface Shape {
  readonly clock: Clock;
  readonly rename?: Readonly<Record<string, string>>;
  /** Fields holding epoch seconds other than `timestamp`. */
  readonly epochSeconds?: readonly string[];
  /** Object field whose members are lifted to the top level. */
  readonly flatten?: string;
}

/** Microsecond values above this are epoch times (2001-09-09 onward), below it time since boot. */
const EPOCH_US_FLOOR = 1e15;

const SEVERITY: Readonly<Record<string, string>> = {
  Critical: 'critical', ERROR: 'critical', Warning: 'warning', WARNING: 'warning', Info: 'info', INFO: 'info',
};

/** Fields that say who or what sent the message; they go to msg.device, not the reading. */
const IDENTITY_FIELDS = new Set(['device_id', 'app', 'architecture', 'v']);


const SHAPES: Readonly<Record<string, Shape>> = {
  'esp32c3.sensor': { clock: 'epoch-s' },
  'esp32c3.heartbeat': { clock: 'epoch-s' },
  'esp32c3.status': { clock: 'epoch-s' },
  'esp32c3.presence': { clock: 'epoch-s' },
  'esp32.health': { clock: 'none', rename: { free_memory: 'free_heap', temperature: 'chip_temperature' }, epochSeconds: ['last_sensor_reading'] },
  'esp32.metrics': { clock: 'epoch-s', flatten: 'metrics', rename: { wifi_signal_strength_dbm: 'wifi_rssi', uptime_seconds: 'uptime' } },
  'ti0162.sensor': { clock: 'none', rename: { reading: 'reading_count' } },
  'ti0162.heartbeat': { clock: 'none' },
  'ti0162.status': { clock: 'none' },
  'ti0162lib.sensor': { clock: 'boot-ms' },
  'ti0162lib.heartbeat': { clock: 'boot-ms' },
  'ti0162lib.status': { clock: 'boot-ms', rename: { uptime_seconds: 'uptime', free_heap_bytes: 'free_heap', wifi_rssi_dbm: 'wifi_rssi', sensor_readings: 'reading_count' } },
  'audio.health': { clock: 'epoch-s', rename: { heap: 'free_heap' } },
  'csi.data': { clock: 'none' },
  'csi.stats': { clock: 'none' },
  'csi.heartbeat': { clock: 'none', rename: { memoryFree: 'free_heap', rssi: 'wifi_rssi' } },
  'whofi.esphome.data': { clock: 'boot-us' },
  'whofi.esphome.stats': { clock: 'none' },
  'whofi.arduino.data': { clock: 'boot-ms' },
  'whofi.idf.data': { clock: 'us' },
  'whofi.idf.status': { clock: 'us', rename: { version: 'firmware_version' } },
  'whofi.idf.metrics': { clock: 'us', rename: { cpu_usage: 'cpu_usage_percent' } },
  'whofi.idf.alerts': { clock: 'us' },
};

const DEFAULT_SHAPE: Shape = { clock: 'epoch-s' };

export function normalise(routeId: string, raw: Readonly<Record<string, unknown>>, receivedAt: number): Record<string, unknown> {
  const shape = SHAPES[routeId] ?? DEFAULT_SHAPE;
  const out: Record<string, unknown> = {};
  const copy = (src: Readonly<Record<string, unknown>>): void => {
    for (const key of Object.keys(src)) {
      if (IDENTITY_FIELDS.has(key) || key === shape.flatten) continue;
      out[shape.rename?.[key] ?? key] = src[key];
    }
  };
  copy(raw);
  if (shape.flatten && raw[shape.flatten] && typeof raw[shape.flatten] === 'object') {
    copy(raw[shape.flatten] as Record<string, unknown>);
  }
  for (const f of shape.epochSeconds ?? []) {
    if (typeof out[f] === 'number') out[f] = (out[f] as number) * 1000;
  }
  if (typeof out.level === 'string' && SEVERITY[out.level]) out.severity = SEVERITY[out.level];
  const t = raw.timestamp;
  const deviceTime = typeof t === 'number' ? t : null;
  delete out.timestamp;
  if (deviceTime !== null && shape.clock === 'epoch-s') {
    out.timestamp = deviceTime * 1000;
  } else if (deviceTime !== null && shape.clock === 'us' && deviceTime >= EPOCH_US_FLOOR) {
    out.timestamp = Math.round(deviceTime / 1000);
  } else {
    if (deviceTime !== null && shape.clock === 'boot-ms') out.uptime_ms = deviceTime;
    if (deviceTime !== null && (shape.clock === 'boot-us' || shape.clock === 'us')) out.uptime_ms = Math.round(deviceTime / 1000);
    out.timestamp = receivedAt;
    out.time_source = 'received';
    return out;
  }
  out.time_source = 'device';
  return out;
}
