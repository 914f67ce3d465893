/**
 * A virtual fleet: N devices of mixed kinds publishing the contract's traffic to an MQTT broker,
 * each with its own connection and last will (or one shared connection for load runs).
 */
import mqtt, { type MqttClient } from 'mqtt';

import { ESP32C3_ARCHS, KIND, SIM_FAULT_ALL, SIM_FAULT_FILTER, simFaultTarget, type DeviceKind } from '../contract/topics';
import { acceptCommands, type AckVia, type CommandDevices } from './command-device';
import { FAULTS, GUIDE_INTERVALS, VirtualDevice, type DeviceSpec, type Fault, type Intervals, type Publication } from './device';
import { Random } from './random';

export interface FleetOptions {
  readonly brokerUrl: string;
  /** A number of devices (mixed by `mix`) or explicit specs. */
  readonly devices: number | readonly DeviceSpec[];
  readonly seed?: number;
  /** 1 is real time; 10 sends every message ten times as often. */
  readonly speed?: number;
  readonly mix?: Readonly<Partial<Record<DeviceKind, number>>>;
  /** `per-device`: one MQTT connection and last will per device. `shared`: one connection for all (load runs). */
  readonly connection?: 'per-device' | 'shared';
  readonly tickMs?: number;
  /**
   * Listen on the contract's simulator control topic (simFaultTopic) for {fault, action: inject|clear, durationS?}, so a flow can
   * break a device; {action: "clear"} without a fault clears them all.
   */
  readonly controlTopic?: boolean;
  /** Obey config/update, command and emergency downlinks (firmware/simulator/command-device.ts). */
  readonly commands?: boolean;
  /** With `commands`: answer pushes on config/ack (default), or only report the new version in the next status. */
  readonly commandAck?: AckVia;
  readonly qos?: 0 | 1;
}

export const DEFAULT_MIX: Readonly<Record<DeviceKind, number>> = { [KIND.envSensor]: 0.6, [KIND.envMonitor]: 0.2, [KIND.csiSensor]: 0.1, [KIND.audioDevice]: 0.1, [KIND.steelDevice]: 0 };

const pad = (n: number): string => String(n).padStart(3, '0');

/** Device ids as the deployment guides name such devices. */
const ID_PATTERN: Readonly<Record<DeviceKind, (arch: string, n: string) => string>> = {
  [KIND.envSensor]: (arch, n) => `esp32-c3-${arch}-${n}`,
  [KIND.envMonitor]: (_arch, n) => `esp32c3_${n}`,
  [KIND.csiSensor]: (_arch, n) => `csi-node-${n}`,
  [KIND.audioDevice]: (_arch, n) => `audio-${n}`,
  [KIND.steelDevice]: (_arch, n) => `steel-${n}`,
};

/** Deterministic device specs for a fleet of `count`: same seed, same ids, kinds and values. */
export function fleetSpecs(count: number, seed = 1, mix: Readonly<Partial<Record<DeviceKind, number>>> = DEFAULT_MIX): DeviceSpec[] {
  const rnd = new Random(seed);
  const kinds = (Object.entries(mix) as Array<[DeviceKind, number]>).filter(([, w]) => w > 0);
  const total = kinds.reduce((a, [, w]) => a + w, 0);
  const counters: Partial<Record<DeviceKind, number>> = {};
  const specs: DeviceSpec[] = [];
  for (let i = 0; i < count; i++) {
    // Spread kinds by weight deterministically: the i-th device takes the kind most behind its share.
    let kind = kinds[0][0];
    let worst = -Infinity;
    for (const [k, w] of kinds) {
      const behind = (w / total) * (i + 1) - (counters[k] ?? 0);
      if (behind > worst) { worst = behind; kind = k; }
    }
    const n = (counters[kind] = (counters[kind] ?? 0) + 1);
    const arch = ESP32C3_ARCHS[(n - 1) % ESP32C3_ARCHS.length];
    const id = ID_PATTERN[kind](arch, pad(n));
    specs.push({ id, kind, arch, seed: Math.floor(rnd.next() * 2 ** 31), firmware: '1.2.0' });
  }
  return specs;
}

export function scaledIntervals(speed: number): Intervals {
  const f = 1 / speed;
  return {
    sensor: GUIDE_INTERVALS.sensor * f, heartbeat: GUIDE_INTERVALS.heartbeat * f, status: GUIDE_INTERVALS.status * f,
    health: GUIDE_INTERVALS.health * f, metrics: GUIDE_INTERVALS.metrics * f, csi: GUIDE_INTERVALS.csi * f,
  };
}

export class VirtualFleet {
  readonly devices: VirtualDevice[];
  readonly stats = { published: 0, connects: 0, errors: 0 };
  private readonly byId = new Map<string, VirtualDevice>();
  private readonly clients = new Map<string, MqttClient>();
  private shared: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly faultTimers = new Set<NodeJS.Timeout>();
  private readonly opts: Required<Omit<FleetOptions, 'mix' | 'devices'>>;
  /** The command side of the firmware, when `commands` is set (or one started apart and set here): it annotates each status. */
  commander: CommandDevices | null = null;

  constructor(options: FleetOptions) {
    this.opts = {
      brokerUrl: options.brokerUrl, seed: options.seed ?? 1, speed: options.speed ?? 1, connection: options.connection ?? 'per-device',
      tickMs: options.tickMs ?? 100, controlTopic: options.controlTopic ?? false, qos: options.qos ?? 0, commands: options.commands ?? false,
      commandAck: options.commandAck ?? 'reply',
    };
    const specs = typeof options.devices === 'number' ? fleetSpecs(options.devices, this.opts.seed, options.mix) : options.devices;
    const intervals = scaledIntervals(this.opts.speed);
    this.devices = specs.map((s) => new VirtualDevice(s, intervals));
    for (const d of this.devices) this.byId.set(d.id, d);
  }

  get(id: string): VirtualDevice | undefined {
    return this.byId.get(id);
  }

  async start(): Promise<void> {
    const now = Date.now();
    for (const d of this.devices) d.boot(now);
    this.shared = await this.connect(`sim-fleet-${process.pid}-${this.opts.seed}`, undefined);
    if (this.opts.controlTopic) {
      this.shared.on('message', (topic, payload) => this.onControl(topic, payload));
      await this.shared.subscribeAsync(SIM_FAULT_FILTER, { qos: 1 });
    }
    if (this.opts.connection === 'per-device') {
      // Connect in small batches: a broker rightly throttles a thundering herd of CONNECTs.
      for (let i = 0; i < this.devices.length; i += 50) {
        await Promise.all(this.devices.slice(i, i + 50).map((d) => this.connectDevice(d)));
      }
    } else {
      for (const d of this.devices) this.publish(d, d.birth(Date.now()));
    }
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
    if (this.opts.commands) this.commander = await acceptCommands(this, this.opts.brokerUrl, this.opts.speed, this.opts.commandAck);
  }

  private async connect(clientId: string, will: Publication | undefined): Promise<MqttClient> {
    const client = mqtt.connect(this.opts.brokerUrl, {
      clientId, reconnectPeriod: 1000, connectTimeout: 5000,
      will: will ? { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain } : undefined,
    });
    client.on('error', () => { this.stats.errors++; });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => { client.end(true); reject(err); };
      client.once('connect', () => { client.off('error', onError); resolve(); });
      client.once('error', onError);
    });
    this.stats.connects++;
    return client;
  }

  private async connectDevice(d: VirtualDevice): Promise<void> {
    const client = await this.connect(`sim-${d.id}-${d.session}`, d.lastWill());
    this.clients.set(d.id, client);
    this.publish(d, d.birth(Date.now()));
  }

  private clientFor(d: VirtualDevice): MqttClient | null {
    return this.opts.connection === 'per-device' ? this.clients.get(d.id) ?? null : this.shared;
  }

  private publish(d: VirtualDevice, raw: Publication): void {
    const client = this.clientFor(d);
    if (!client || !client.connected) return;
    const p = this.commander ? this.commander.annotate(d, raw) : raw;
    client.publish(p.topic, p.payload, { qos: p.retain ? p.qos : this.opts.qos, retain: p.retain });
    this.stats.published++;
  }

  private tick(): void {
    const now = Date.now();
    for (const d of this.devices) {
      if (d.nextDue() > now) continue;
      for (const p of d.due(now)) this.publish(d, p);
    }
  }

  /** Breaks a device; `offline` also drops its connection so the broker publishes its last will. */
  inject(id: string, fault: Fault, durationMs?: number): boolean {
    const d = this.byId.get(id);
    if (!d || !FAULTS.includes(fault)) return false;
    d.faults.add(fault);
    d.expedite(Date.now());
    if (fault === 'offline') {
      const client = this.clients.get(id);
      if (client) {
        this.clients.delete(id);
        // Destroying the socket without DISCONNECT is what makes the broker send the will.
        client.stream?.destroy();
        client.end(true);
      }
    }
    if (durationMs !== undefined) {
      const t = setTimeout(() => { this.faultTimers.delete(t); this.clear(id, fault); }, durationMs);
      this.faultTimers.add(t);
    }
    return true;
  }

  clear(id: string, fault: Fault): boolean {
    const d = this.byId.get(id);
    if (!d || !d.faults.delete(fault)) return false;
    d.expedite(Date.now());
    if (fault === 'offline') {
      d.session++;
      if (this.opts.connection === 'per-device' && this.timer) {
        this.connectDevice(d).catch(() => { this.stats.errors++; });
      } else {
        this.publish(d, d.birth(Date.now()));
      }
    }
    return true;
  }

  /** Clears every fault of every device (or of one); returns how many were cleared. */
  clearAll(id?: string): number {
    let n = 0;
    for (const d of id === undefined ? this.devices : [this.byId.get(id)].filter((x): x is VirtualDevice => x !== undefined)) {
      for (const f of [...d.faults]) if (this.clear(d.id, f)) n++;
    }
    return n;
  }

  private onControl(topic: string, payload: Buffer): void {
    const target = simFaultTarget(topic);
    if (target === null) return;
    let cmd: { fault?: unknown; action?: unknown; durationS?: unknown };
    try {
      cmd = JSON.parse(payload.toString('utf8')) as typeof cmd;
    } catch {
      return;
    }
    if (cmd.action === 'clear' && (cmd.fault === undefined || cmd.fault === 'all')) {
      this.clearAll(target === SIM_FAULT_ALL ? undefined : target);
      return;
    }
    const fault = cmd.fault as Fault;
    const ids = target === SIM_FAULT_ALL ? [...this.byId.keys()] : [target];
    const duration = typeof cmd.durationS === 'number' && cmd.durationS > 0 ? cmd.durationS * 1000 : undefined;
    for (const id of ids) {
      if (cmd.action === 'clear') this.clear(id, fault);
      else this.inject(id, fault, duration);
    }
  }

  async stop(): Promise<void> {
    await this.commander?.stop();
    this.commander = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.faultTimers) clearTimeout(t);
    this.faultTimers.clear();
    const all = [...this.clients.values(), ...(this.shared ? [this.shared] : [])];
    this.clients.clear();
    this.shared = null;
    // A clean DISCONNECT: a stopped simulator is not a fleet-wide outage, so no last wills.
    await Promise.all(all.map((c) => c.endAsync().catch(() => undefined)));
  }
}
