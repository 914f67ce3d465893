/**
 * A virtual device: firmware behaviour without radio or broker. It produces the publications a
 * real device of its kind would make at a given moment; the fleet sends them. Time is passed in,
 * so a test can step it as fast as it likes and get the same output for the same seed.
 */
import { audioHealthLine, bootLines, perfLines } from '../contract/console';
import type {
  AudioHealth, CsiData, CsiHeartbeat, CsiStats, Esp32Alert, Esp32Health, Esp32Metrics, Esp32C3Heartbeat, Esp32C3Sensor, Esp32C3Status, Presence, Ti0162Sensor, Ti0162Status,
} from '../contract/generated';
import { ARCH, KIND, TI0162_APPS, TI0162_DEFAULT_PREFIX, topicFor, type DeviceKind, type Esp32c3Arch, type ProfileName } from '../contract/topics';
import { Random, round } from './random';

export type Fault =
  | 'offline'        // stops publishing; its connection drops so the broker sends its last will
  | 'low-heap'       // free heap falls under the warning thresholds
  | 'rssi-drop'      // Wi-Fi signal falls to about -85 dBm
  | 'stuck-sensor'   // the BME280 repeats one reading
  | 'out-of-range'   // readings outside the BME280's ranges
  | 'malformed'      // payloads that are not JSON
  | 'reboot-loop';   // restarts every few readings

export const FAULTS: readonly Fault[] = ['offline', 'low-heap', 'rssi-drop', 'stuck-sensor', 'out-of-range', 'malformed', 'reboot-loop'];

/** Which topic layout a device speaks: the guides' (`standard`) or the TI0162-IOT apps' as shipped. */
export type DeviceProfile = Extract<ProfileName, 'standard' | 'ti0162'>;

export interface DeviceSpec {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly arch?: Esp32c3Arch;
  readonly profile?: DeviceProfile;
  /** For the ti0162 profile: the topic prefix (the device's identity comes from configuration). */
  readonly prefix?: string;
  readonly firmware?: string;
  readonly seed: number;
}

export interface Publication {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

/**
 * What a healthy device does at rest, chosen inside the health defaults (lib/health/config.ts) with a
 * margin: signal between -66 and -42 dBm (warning under -70), about one error an hour of wall-clock
 * time whatever the speed (warning at 10/h), heap within a few percent of its working level.
 */
export const IDLE = { rssiMin: -66, rssiMax: -42, errorsPerHour: 1 } as const;

/** Seconds between messages of each kind, as the deployment guides give them. */
export interface Intervals {
  readonly sensor: number;
  readonly heartbeat: number;
  readonly status: number;
  readonly health: number;
  readonly metrics: number;
  readonly csi: number;
}

export const GUIDE_INTERVALS: Intervals = { sensor: 30, heartbeat: 60, status: 120, health: 300, metrics: 60, csi: 5 };

const ARCH_HEAP: Readonly<Record<Esp32c3Arch, number>> = { [ARCH.sync]: 32 * 1024, [ARCH.async]: 64 * 1024, [ARCH.full]: 72 * 1024 };

interface Schedule {
  next: number;
  readonly every: number;
  readonly emit: (now: number) => Publication[];
}

export class VirtualDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly arch: Esp32c3Arch;
  readonly profile: DeviceProfile;
  readonly prefix: string;
  firmware: string;
  readonly faults = new Set<Fault>();
  /** MQTT session number: rises at every (re)connect; carried by birth and last will. */
  session = 0;
  restarts = 0;
  errors = 0;
  readings = 0;
  private bootedAt = 0;
  private temperature: number;
  private humidity: number;
  private pressure: number;
  /** The device's working values; a fault changes what it reports, not these. */
  private restHeap: number;
  private restRssi: number;
  private heap: number;
  private rssi: number;
  private sensorUs: number;
  private readonly rnd: Random;
  private schedules: Schedule[] = [];
  private readingsSinceBoot = 0;

  constructor(spec: DeviceSpec, private intervals: Intervals = GUIDE_INTERVALS) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.arch = spec.arch ?? ARCH.full;
    this.profile = spec.profile ?? 'standard';
    this.prefix = spec.prefix ?? TI0162_DEFAULT_PREFIX;
    this.firmware = spec.firmware ?? '1.2.0';
    this.rnd = new Random(spec.seed);
    this.temperature = this.rnd.between(19, 25);
    this.humidity = this.rnd.between(35, 60);
    this.pressure = this.rnd.between(1005, 1020);
    this.restHeap = this.heap = this.baseHeap();
    this.restRssi = this.rssi = this.rnd.between(IDLE.rssiMin + 4, IDLE.rssiMax - 4);
    this.sensorUs = this.rnd.between(380, 460);
  }

  private baseHeap(): number {
    if (this.kind === KIND.audioDevice) return 230_000;
    if (this.kind === KIND.csiSensor) return 180_000;
    if (this.kind === KIND.envMonitor) return 28_000;
    return ARCH_HEAP[this.arch] * 0.7;
  }

  /** Topic and payload of the retained birth; the fleet registers `lastWill()` with the broker first. */
  birth(now: number): Publication {
    return this.presence('online', now);
  }

  lastWill(): Publication {
    const will: Presence = { state: 'offline', session: this.session, reason: 'last-will' };
    return { topic: this.presenceTopic(), payload: JSON.stringify(will), qos: 1, retain: true };
  }

  /** Starts (or restarts) the firmware: a new session, uptime from zero, schedules from now. */
  boot(now: number): void {
    this.session++;
    this.bootedAt = now;
    this.readingsSinceBoot = 0;
    const s = (sec: number): number => sec * 1000;
    const offset = (every: number): number => now + Math.floor(this.rnd.next() * every);
    const plan: Array<[number, (t: number) => Publication[]]> = [];
    switch (this.kind) {
      case KIND.envSensor:
        plan.push([s(this.intervals.sensor), (t) => this.sensor(t)], [s(this.intervals.heartbeat), (t) => this.heartbeat(t)], [s(this.intervals.status), (t) => this.status(t)]);
        break;
      case KIND.envMonitor:
        plan.push([s(this.intervals.health), (t) => this.health(t)], [s(this.intervals.metrics), (t) => this.metrics(t)]);
        break;
      case KIND.csiSensor:
        plan.push([s(this.intervals.csi), (t) => this.csiData(t)], [s(this.intervals.heartbeat), (t) => this.csiHeartbeat(t)], [s(this.intervals.status), (t) => this.csiStats(t)]);
        break;
      case KIND.audioDevice:
        plan.push([s(this.intervals.sensor), (t) => this.audioHealth(t)]);
        break;
      case KIND.steelDevice:
        plan.push([s(this.intervals.health), (t) => this.health(t)]);
        break;
    }
    this.schedules = plan.map(([every, emit]) => ({ every, emit, next: offset(every) }));
  }

  /** A configuration push (command-device.ts): new intervals, then a restart with schedules from `now`. */
  retime(intervals: Intervals, now: number): void {
    this.intervals = intervals;
    this.boot(now);
  }

  /** First moment any schedule is due. */
  nextDue(): number {
    let min = Infinity;
    for (const s of this.schedules) if (s.next < min) min = s.next;
    return min;
  }

  /**
   * Makes every schedule due at `now`: firmware reports a changed condition in its next messages,
   * so a fault injected (or cleared) shows at once instead of at the next five-minute report.
   */
  expedite(now: number): void {
    for (const s of this.schedules) if (s.next > now) s.next = now;
  }

  /** Everything due up to `now`, in time order per schedule. */
  due(now: number): Publication[] {
    if (this.faults.has('offline')) {
      for (const s of this.schedules) while (s.next <= now) s.next += s.every;
      return [];
    }
    const out: Publication[] = [];
    for (const s of this.schedules) {
      while (s.next <= now) {
        this.driftSystem();
        out.push(...s.emit(s.next));
        s.next += s.every;
      }
    }
    return out;
  }

  /** Status lines a serial console would print right after boot and on a performance report. */
  consoleLines(now: number): string[] {
    if (this.kind === KIND.audioDevice) return [audioHealthLine(Math.round(this.heap), Math.round(this.rssi), this.rnd.int(0, 20), this.healthy())];
    const lines = this.readings === 0 ? bootLines(`10.10.10.${this.rnd.int(20, 250)}`, '127.0.0.1:1883') : [];
    lines.push(...perfLines(Math.max(1, Math.floor(this.readings / 4)), this.uptime(now), this.healthy() ? 'Normal' : 'Degraded', Math.round(this.heap / 1024), Math.round(this.sensorUs)));
    return lines;
  }

  private uptime(now: number): number {
    return Math.max(0, Math.floor((now - this.bootedAt) / 1000));
  }

  private healthy(): boolean {
    return !this.faults.has('low-heap') && !this.faults.has('rssi-drop');
  }

  /** Environment values move only when the sensor is read (a stuck sensor skips this). */
  private drift(): void {
    this.temperature = this.rnd.walk(this.temperature, 0.15, 15, 30);
    this.humidity = this.rnd.walk(this.humidity, 0.6, 25, 75);
    this.pressure = this.rnd.walk(this.pressure, 0.3, 990, 1030);
  }

  /** Heap, signal and timing move with every message, so a fault shows in the next one. */
  private driftSystem(): void {
    const base = this.baseHeap();
    this.restHeap = this.rnd.walk(this.restHeap, base * 0.01, base * 0.9, base * 1.05);
    this.restRssi = this.rnd.walk(this.restRssi, 1.5, IDLE.rssiMin, IDLE.rssiMax);
    this.heap = this.faults.has('low-heap') ? (this.kind === KIND.audioDevice ? 30_000 : 3_500) + this.rnd.between(-300, 300) : this.restHeap;
    this.rssi = this.faults.has('rssi-drop') ? this.rnd.between(-88, -82) : this.restRssi;
    this.sensorUs = this.rnd.walk(this.sensorUs, 10, 350, 480);
  }

  /** `body` is typed by the caller with the route's generated schema type: a renamed field fails the build. */
  private json(topic: string, body: object, qos: 0 | 1 = 0): Publication {
    return { topic, payload: this.faults.has('malformed') ? `{"broken": ${this.rnd.int(0, 9)}` : JSON.stringify(body), qos, retain: false };
  }

  private rebootIfLooping(now: number): boolean {
    if (this.faults.has('reboot-loop') && this.readingsSinceBoot >= 2) {
      this.restarts++;
      this.boot(now);
      return true;
    }
    return false;
  }

  private presenceTopic(): string {
    const family: Readonly<Record<DeviceKind, string>> = {
      [KIND.envSensor]: 'esp32c3.presence', [KIND.envMonitor]: 'esp32.presence', [KIND.csiSensor]: 'csi.presence', [KIND.audioDevice]: 'audio.presence', [KIND.steelDevice]: 'esp32.presence',
    };
    return topicFor(family[this.kind], { device: this.id, arch: this.arch });
  }

  private presence(state: 'online' | 'offline', now: number): Publication {
    const body: Presence = { state, session: this.session, kind: this.kind, firmware_version: this.firmware, timestamp: Math.floor(now / 1000) };
    return {
      topic: this.presenceTopic(),
      payload: JSON.stringify(body),
      qos: 1,
      retain: true,
    };
  }

  private sensor(now: number): Publication[] {
    if (this.rebootIfLooping(now)) return [this.birth(now), ...this.status(now)];
    if (!this.faults.has('stuck-sensor')) this.drift();
    this.readings++;
    this.readingsSinceBoot++;
    const outOfRange = this.faults.has('out-of-range');
    const t = round(outOfRange ? 97.5 : this.temperature, 2);
    const h = round(outOfRange ? 104 : this.humidity, 2);
    const p = round(this.pressure, 2);
    if (this.profile === 'ti0162') {
      const body: Ti0162Sensor = { temperature: t, pressure: p, humidity: h, reading: this.readings, app: this.app() };
      return [this.json(topicFor('ti0162.sensor', { prefix: this.prefix }), body)];
    }
    const body: Esp32C3Sensor = { temperature: t, humidity: h, pressure: p, timestamp: Math.floor(now / 1000), device_id: this.id, reading_count: this.readings };
    return [this.json(topicFor('esp32c3.sensor', { arch: this.arch, device: this.id }), body)];
  }

  /** The TI0162-IOT application that builds this variant (its `app` field). */
  private app(): Ti0162Sensor['app'] {
    return TI0162_APPS.get(this.arch);
  }

  private heartbeat(now: number): Publication[] {
    if (this.profile === 'ti0162') return [{ topic: topicFor('ti0162.heartbeat', { prefix: this.prefix }), payload: 'ping', qos: 0, retain: false }];
    const body: Esp32C3Heartbeat = {
      device_id: this.id, uptime: this.uptime(now), free_heap: Math.round(this.heap), wifi_rssi: Math.round(this.rssi), sequence: this.readings, timestamp: Math.floor(now / 1000),
    };
    return [this.json(topicFor('esp32c3.heartbeat', { arch: this.arch, device: this.id }), body)];
  }

  private status(now: number): Publication[] {
    if (this.profile === 'ti0162') {
      const body: Ti0162Status = { status: 'online', uptime: this.uptime(now), free_heap: Math.round(this.heap), wifi_rssi: Math.round(this.rssi), app: this.app() };
      return [this.json(topicFor('ti0162.status', { prefix: this.prefix }), body)];
    }
    const body: Esp32C3Status = {
      device_id: this.id, status: this.healthy() ? 'online' : 'degraded', firmware_version: this.firmware, architecture: this.arch,
      uptime: this.uptime(now), free_heap: Math.round(this.heap), wifi_rssi: Math.round(this.rssi), reading_interval: this.intervals.sensor, timestamp: Math.floor(now / 1000),
    };
    return [this.json(topicFor('esp32c3.status', { arch: this.arch, device: this.id }), body)];
  }

  private health(now: number): Publication[] {
    if (this.rebootIfLooping(now)) return [this.birth(now)];
    this.drift();
    this.readings++;
    this.readingsSinceBoot++;
    const body: Esp32Health = {
      uptime: this.uptime(now), free_memory: Math.round(this.heap), wifi_rssi: Math.round(this.rssi),
      temperature: round(this.temperature + 18, 1),
      last_sensor_reading: Math.floor((this.faults.has('stuck-sensor') ? this.bootedAt : now) / 1000),
    };
    const out = [this.json(topicFor('esp32.health', { device: this.id }), body)];
    if (this.heap < 5000) {
      const alert: Esp32Alert = { level: 'Warning', message: 'Low memory warning', device_id: this.id, timestamp: Math.floor(now / 1000) };
      out.push(this.json(topicFor('esp32.alerts', { device: this.id }), alert, 1));
    }
    return out;
  }

  private metrics(now: number): Publication[] {
    // Errors per hour of wall-clock time, not per message: at 5x speed the device reports five times as
    // often, and health judges the rate per real hour.
    if (this.rnd.next() < IDLE.errorsPerHour * this.intervals.metrics / 3600) this.errors++;
    const body: Esp32Metrics = {
      device_id: this.id, timestamp: Math.floor(now / 1000),
      metrics: {
        cpu_usage_percent: round(this.rnd.between(12, 35), 1), memory_usage_bytes: Math.max(0, Math.round(this.baseHeap() * 1.4 - this.heap)),
        network_latency_ms: this.rnd.int(20, 80), sensor_read_time_ms: this.rnd.int(90, 140), mqtt_publish_time_ms: this.rnd.int(120, 240),
        wifi_signal_strength_dbm: Math.round(this.rssi), uptime_seconds: this.uptime(now), restart_count: this.restarts, error_count: this.errors,
      },
    };
    return [this.json(topicFor('esp32.metrics', { device: this.id }), body)];
  }

  private csiData(now: number): Publication[] {
    this.readings++;
    const csi = Array.from({ length: 16 }, () => this.rnd.int(-40, 40));
    const body: CsiData = { timestamp: now - this.bootedAt, rssi: Math.round(this.rssi), channel: 6, rate: 11, csi_data: csi };
    return [this.json(topicFor('csi.data', { device: this.id }), body)];
  }

  private csiHeartbeat(now: number): Publication[] {
    const body: CsiHeartbeat = { uptime: this.uptime(now), memoryFree: Math.round(this.heap), rssi: Math.round(this.rssi) };
    return [this.json(topicFor('csi.heartbeat', { device: this.id }), body)];
  }

  private csiStats(now: number): Publication[] {
    const body: CsiStats = { packets: this.readings, packets_dropped: 0, enabled: true, uptime: this.uptime(now) };
    return [this.json(topicFor('csi.stats', { device: this.id }), body)];
  }

  private audioHealth(now: number): Publication[] {
    if (this.rebootIfLooping(now)) return [this.birth(now)];
    this.readings++;
    this.readingsSinceBoot++;
    const body: AudioHealth = { heap: Math.round(this.heap), wifi_rssi: Math.round(this.rssi), sessions: this.rnd.int(0, 20), healthy: this.healthy(), timestamp: Math.floor(now / 1000) };
    return [this.json(topicFor('audio.health', { device: this.id }), body)];
  }
}
