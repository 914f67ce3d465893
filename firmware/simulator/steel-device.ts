/**
 * Virtual Steel devices: the program-delivery side of mparkachov/aws-iot-steel
 * (aws-iot-core/src/program_delivery.rs) without hardware. A device subscribes to what the real
 * one subscribes to, checks a load's checksum and parentheses, stores the program, runs it (auto_start
 * or execute) with a small interpreter of the device API, and reports as the device code does:
 * - load: one status/report (Failed with the validation error; Pending once stored; after an
 *   auto_start run Completed or Failed with execution_time_ms);
 * - execute (action Execute): a result on steel-programs/{id}/result; (action Status) a status/report;
 *   (action Stop) stops it; an unknown program: no answer (the device's handler returns an error);
 * - stop, remove: no answer; status: a full-report of every program.
 * A message that does not parse gets no answer, as on the device. Time is passed in.
 *
 * Faults: `program-fails` (every run fails), `silent` (answers nothing), `checksum-mismatch` (the
 * code is corrupted on the way in, so the checksum check fails).
 */
import mqtt, { type MqttClient } from 'mqtt';

import {
  STEEL_BROADCAST, STEEL_BROADCAST_OPERATIONS, STEEL_OPERATIONS, matchSteelTopic, steelTopic, parseLoadMessage, parseRequest, steelChecksum,
  type SteelFullReport, type SteelLoadMessage, type SteelResult, type SteelStatus, type SteelStatusReport,
} from '../contract/steel';
import { topicFor } from '../contract/topics';
import type { Publication } from './device';
import { Random, round } from './random';
import { Interpreter, SteelRuntimeError, display, type Value } from './steel-interpreter';

export type SteelFault = 'program-fails' | 'silent' | 'checksum-mismatch';
export const STEEL_FAULTS: readonly SteelFault[] = ['program-fails', 'silent', 'checksum-mismatch'];

/** program_delivery.rs ProgramDeliveryManager::new: max_program_size 1 MB. */
const MAX_PROGRAM_BYTES = 1024 * 1024;

interface StoredProgram {
  readonly message: SteelLoadMessage;
  status: SteelStatusReport;
}

export interface SteelDeviceSpec {
  readonly id: string;
  readonly seed?: number;
  readonly faults?: readonly SteelFault[];
  /** The interpreter's step limit (a runaway program fails at it); default 200,000. */
  readonly maxSteps?: number;
}

/** What a program did on its last run, for tests and the demo. */
export interface RunRecord {
  readonly programId: string;
  readonly logs: ReadonlyArray<{ level: string; message: string }>;
  readonly published: readonly Publication[];
  readonly led: boolean;
}

export class SteelDevice {
  readonly id: string;
  readonly faults = new Set<SteelFault>();
  readonly programs = new Map<string, StoredProgram>();
  led = false;
  lastRun: RunRecord | null = null;
  private readonly rnd: Random;
  private readonly bootedAt: number;
  private readonly maxSteps: number;
  private temperature: number;
  private humidity: number;

  constructor(spec: SteelDeviceSpec, now = Date.now()) {
    this.id = spec.id;
    for (const f of spec.faults ?? []) this.faults.add(f);
    this.rnd = new Random(spec.seed ?? 1);
    this.bootedAt = now;
    this.maxSteps = spec.maxSteps ?? 200_000;
    this.temperature = this.rnd.between(20, 26);
    this.humidity = this.rnd.between(35, 60);
  }

  /** The topics the device subscribes to (subscribe_to_program_topics). */
  subscriptions(): string[] {
    return [...STEEL_OPERATIONS.map((op) => steelTopic(op, this.id)), ...STEEL_BROADCAST_OPERATIONS.map((op) => steelTopic(op, STEEL_BROADCAST))];
  }

  /** One incoming message; returns what the device publishes in answer. */
  handle(topic: string, payload: string | Buffer, now: number): Publication[] {
    const m = matchSteelTopic(topic);
    if (!m || m.direction !== 'down' || (m.device !== this.id && !m.broadcast)) return [];
    if (this.faults.has('silent')) return [];
    const text = typeof payload === 'string' ? payload : payload.toString('utf8');
    // The device dispatches on topic.contains("/load"), then /execute, /stop, /remove, /status.
    if (m.route === 'steel.load') return this.load(text, now);
    if (m.route === 'steel.execute') return this.execute(text, now);
    if (m.route === 'steel.stop' || m.route === 'steel.remove') {
      const r = parseRequest(text);
      if (!r.ok) return [];
      if (m.route === 'steel.remove') this.programs.delete(r.value.program_id);
      else this.setStatus(r.value.program_id, 'Stopped', 'Program stopped', null, now);
      return [];
    }
    if (m.route === 'steel.status') return [this.fullReport(now)];
    return [];
  }

  private pub(suffix: 'status/report' | 'status/full-report' | 'result', body: unknown): Publication {
    const route = suffix === 'result' ? 'steel.result' : suffix === 'status/report' ? 'steel.status-report' : 'steel.status-full-report';
    return { topic: topicFor(route, { device: this.id }), payload: JSON.stringify(body), qos: 1, retain: false };
  }

  private setStatus(id: string, status: SteelStatus, message: string | null, ms: number | null, now: number): SteelStatusReport {
    const report: SteelStatusReport = { program_id: id, status, message, timestamp: new Date(now).toISOString(), execution_time_ms: ms };
    const p = this.programs.get(id);
    if (p) p.status = report;
    return report;
  }

  private load(text: string, now: number): Publication[] {
    let raw: unknown;
    try { raw = JSON.parse(text); } catch { return []; }
    const parsed = parseLoadMessage(raw);
    if (!parsed.ok) return [];
    const msg = parsed.value;
    const code = this.faults.has('checksum-mismatch') ? `${msg.steel_code} ` : msg.steel_code;
    const fail = (message: string): Publication[] => [this.pub('status/report', { program_id: msg.program_id, status: 'Failed', message, timestamp: new Date(now).toISOString(), execution_time_ms: null })];
    if (Buffer.byteLength(code, 'utf8') > MAX_PROGRAM_BYTES) return fail(`Program too large: ${Buffer.byteLength(code, 'utf8')} bytes (max: ${MAX_PROGRAM_BYTES} bytes)`);
    const sum = steelChecksum(code);
    if (sum !== msg.checksum) return fail(`Checksum mismatch: expected ${msg.checksum}, got ${sum}`);
    let depth = 0;
    for (const ch of code) { if (ch === '(') depth++; else if (ch === ')' && --depth < 0) break; }
    if (depth !== 0) return fail('Unbalanced parentheses in Steel code');
    this.programs.set(msg.program_id, { message: msg, status: { program_id: msg.program_id, status: 'Pending', message: 'Program loaded successfully', timestamp: new Date(now).toISOString(), execution_time_ms: null } });
    if (msg.auto_start) {
      const r = this.run(msg.program_id, now);
      this.setStatus(msg.program_id, r.success ? 'Completed' : 'Failed', r.error ?? 'Execution completed', r.execution_time_ms, now);
    }
    return [this.pub('status/report', (this.programs.get(msg.program_id) as StoredProgram).status), ...(this.lastRun?.programId === msg.program_id && msg.auto_start ? this.lastRun.published : [])];
  }

  private execute(text: string, now: number): Publication[] {
    const r = parseRequest(text);
    if (!r.ok) return [];
    const id = r.value.program_id;
    if (!this.programs.has(id)) return []; // execute_program returns an error; nothing is published
    switch (r.value.action) {
      case 'Execute': {
        const result = this.run(id, now);
        this.setStatus(id, result.success ? 'Completed' : 'Failed', result.error ?? 'Execution completed', result.execution_time_ms, now);
        return [this.pub('result', result), ...(this.lastRun?.published ?? [])];
      }
      case 'Stop': this.setStatus(id, 'Stopped', 'Program stopped', null, now); return [];
      case 'Status': return [this.pub('status/report', (this.programs.get(id) as StoredProgram).status)];
      default: return [];
    }
  }

  private fullReport(now: number): Publication {
    const report: SteelFullReport = { device_id: this.id, programs: [...this.programs.values()].map((p) => p.status), timestamp: new Date(now).toISOString() };
    return this.pub('status/full-report', report);
  }

  /** Runs a stored program: its device calls act on this device; its mqtt-publish calls are returned in lastRun. */
  run(id: string, now: number): SteelResult {
    const p = this.programs.get(id) as StoredProgram;
    const logs: Array<{ level: string; message: string }> = [];
    const published: Publication[] = [];
    const map = (o: Record<string, Value>): Map<string, Value> => new Map(Object.entries(o));
    this.temperature = this.rnd.walk(this.temperature, 0.2, 15, 35);
    this.humidity = this.rnd.walk(this.humidity, 0.8, 20, 80);
    const interp = new Interpreter({
      log: (level, message) => { logs.push({ level, message }); },
      led: (on) => { this.led = on; },
      ledState: () => this.led,
      sleep: () => undefined,
      readSensors: () => map({ temperature: round(this.temperature, 2), humidity: round(this.humidity, 2), pressure: 1013.25 }),
      publish: (topic, payload) => { published.push({ topic, payload, qos: 0, retain: false }); },
      shadowUpdate: () => undefined,
      now: () => now,
      uptime: () => Math.floor((now - this.bootedAt) / 1000),
      memory: () => map({ total_bytes: 327_680, free_bytes: 180_000, used_bytes: 147_680, largest_free_block: 110_000 }),
      deviceInfo: () => map({ device_id: this.id, platform: 'esp32-c3 (simulated)', firmware_version: '1.0.0' }),
    }, this.maxSteps);
    let success = true;
    let result: string | null = null;
    let error: string | null = null;
    let ms = 1;
    try {
      if (this.faults.has('program-fails')) throw new SteelRuntimeError('simulated failure: the program raised an error');
      const out = interp.run(p.message.steel_code);
      result = display(out.value);
      ms = Math.max(1, Math.round(out.slept * 1000 + out.steps / 100));
    } catch (err) {
      success = false;
      error = err instanceof RangeError ? 'stack overflow' : (err as Error).message;
    }
    this.lastRun = { programId: id, logs, published, led: this.led };
    return { program_id: id, success, result, error, execution_time_ms: ms, timestamp: new Date(now).toISOString() };
  }
}

export interface SteelFleetOptions {
  readonly brokerUrl: string;
  /** Ids, or a count: steel-001 … */
  readonly devices: number | readonly (string | SteelDeviceSpec)[];
  readonly seed?: number;
  /** Listen on sim/steel-fault/{device|all} for {fault, action: inject|clear}. */
  readonly controlTopic?: boolean;
}

const pad = (n: number): string => String(n).padStart(3, '0');

/** Steel devices on an MQTT broker, one connection each (the device's own session). */
export class SteelFleet {
  readonly devices: SteelDevice[];
  readonly stats = { received: 0, published: 0, errors: 0 };
  private readonly clients = new Map<string, MqttClient>();
  private control: MqttClient | null = null;

  constructor(private readonly options: SteelFleetOptions) {
    const seed = options.seed ?? 1;
    const specs: SteelDeviceSpec[] = typeof options.devices === 'number'
      ? Array.from({ length: options.devices }, (_x, i) => ({ id: `steel-${pad(i + 1)}`, seed: seed + i }))
      : options.devices.map((d, i) => (typeof d === 'string' ? { id: d, seed: seed + i } : d));
    this.devices = specs.map((s) => new SteelDevice(s));
  }

  get(id: string): SteelDevice | undefined { return this.devices.find((d) => d.id === id); }

  async start(): Promise<void> {
    for (const d of this.devices) {
      const client = mqtt.connect(this.options.brokerUrl, { clientId: `sim-steel-${d.id}-${process.pid}`, reconnectPeriod: 1000, connectTimeout: 5000 });
      client.on('error', () => { this.stats.errors++; });
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', (e) => { client.end(true); reject(e); });
      });
      client.on('message', (topic, payload) => {
        this.stats.received++;
        for (const p of d.handle(topic, payload, Date.now())) {
          client.publish(p.topic, p.payload, { qos: p.qos, retain: p.retain });
          this.stats.published++;
        }
      });
      await client.subscribeAsync(d.subscriptions(), { qos: 1 });
      this.clients.set(d.id, client);
    }
    if (this.options.controlTopic) {
      const c = mqtt.connect(this.options.brokerUrl, { clientId: `sim-steel-control-${process.pid}`, reconnectPeriod: 1000 });
      c.on('error', () => { this.stats.errors++; });
      c.on('message', (topic, payload) => this.onControl(topic, payload));
      await c.subscribeAsync('sim/steel-fault/+', { qos: 1 });
      this.control = c;
    }
  }

  inject(id: string, fault: SteelFault): boolean {
    const d = this.get(id);
    if (!d || !STEEL_FAULTS.includes(fault)) return false;
    d.faults.add(fault);
    return true;
  }

  clear(id: string, fault?: SteelFault): boolean {
    const d = this.get(id);
    if (!d) return false;
    if (fault) return d.faults.delete(fault);
    d.faults.clear();
    return true;
  }

  private onControl(topic: string, payload: Buffer): void {
    const target = topic.split('/')[2];
    let cmd: { fault?: unknown; action?: unknown };
    try { cmd = JSON.parse(payload.toString('utf8')) as typeof cmd; } catch { return; }
    const ids = target === 'all' ? this.devices.map((d) => d.id) : [target];
    for (const id of ids) {
      if (cmd.action === 'clear') this.clear(id, typeof cmd.fault === 'string' && (STEEL_FAULTS as readonly string[]).includes(cmd.fault) ? cmd.fault as SteelFault : undefined);
      else if (typeof cmd.fault === 'string') this.inject(id, cmd.fault as SteelFault);
    }
  }

  async stop(): Promise<void> {
    const all = [...this.clients.values(), ...(this.control ? [this.control] : [])];
    this.clients.clear();
    this.control = null;
    await Promise.all(all.map((c) => c.endAsync().catch(() => undefined)));
  }
}
