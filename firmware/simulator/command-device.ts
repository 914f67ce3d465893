/**
 * The virtual firmware's command side: what a device does with `config/update/{device}`,
 * `esp32/{device}/command` and `esp32/{device}/emergency`. A configuration is validated with the
 * contract's schema, applied ("saved to flash"), the device restarts and answers on
 * `config/ack/{device}` with the new version and hash, and its schedules follow the new intervals
 * (a shorter measurement interval means more sensor messages); from then on its status (health for an
 * environmental monitor) carries `config_version` and `config_hash`. With `ackVia: 'status'` it
 * behaves as the guide's config_update_task does: no answer at all, so only that next status
 * (sent right after the restart) tells the push was applied. An invalid one is rejected with the
 * reason and changes nothing. `reset` restarts; an emergency `shutdown` takes the device offline
 * until a `resume` (its radio stays listening, as the guide's watchdog task does).
 *
 * It listens on one connection of its own for the whole fleet, so the fleet's per-device
 * connections (and last wills) behave as before.
 */
import mqtt, { type MqttClient } from 'mqtt';

import { configHash, deviceConfigErrors, deviceConfigUpdateErrors, fromGuideRuntimeUpdate, isGuideRuntimeUpdate, type DeviceConfig } from '../contract/device-config';
import { BROADCAST_TARGET, topicFor } from '../contract/topics';
import { GUIDE_INTERVALS, type Intervals, type Publication, type VirtualDevice } from './device';
import type { VirtualFleet } from './fleet';

export interface AppliedConfig {
  readonly version: number;
  readonly hash: string;
  readonly config: DeviceConfig;
  readonly at: number;
}

/** The fleet operations this needs; VirtualFleet has them. */
export interface CommandableFleet {
  get(id: string): VirtualDevice | undefined;
  readonly devices: readonly VirtualDevice[];
  inject(id: string, fault: 'offline'): boolean;
  clear(id: string, fault: 'offline'): boolean;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** The guides' intervals at the fleet's speed (as VirtualFleet scales them). */
function scaled(speed: number): Intervals {
  const g = GUIDE_INTERVALS;
  return { sensor: g.sensor / speed, heartbeat: g.heartbeat / speed, status: g.status / speed, health: g.health / speed, metrics: g.metrics / speed, csi: g.csi / speed };
}

/** A device's intervals under a configuration, scaled by the fleet's speed like the defaults are. */
export function intervalsFor(config: DeviceConfig, speed: number, base: Intervals = scaled(speed)): Intervals {
  const measurement = Number(config.sensor.measurement_interval_seconds);
  const heartbeat = config.system?.heartbeat_interval_minutes;
  const status = config.system?.status_report_interval_minutes;
  return {
    ...base,
    sensor: measurement / speed,
    metrics: measurement / speed,
    ...(typeof heartbeat === 'number' ? { heartbeat: (heartbeat * 60) / speed } : {}),
    ...(typeof status === 'number' ? { status: (status * 60) / speed, health: (status * 60) / speed } : {}),
  };
}

const SECRET_FIELDS = ['wifi_password', 'mqtt_password'];

function withStandIns(config: Record<string, unknown>): Record<string, unknown> {
  if (!isObj(config.network)) return config;
  const network: Record<string, unknown> = { ...config.network };
  for (const k of SECRET_FIELDS) if (typeof network[k] === 'string') network[k] = '${DEVICE_SECRET}';
  return { ...config, network };
}

/** The hook device.ts gives (VirtualDevice.retime): new intervals, then a restart. */
type Retimable = VirtualDevice & { retime?(intervals: Intervals, now: number): void };

/** How a device tells fleet-command it applied a push: an answer on config/ack (and its status), or its status only. */
export type AckVia = 'reply' | 'status';

export class CommandDevices {
  private readonly applied = new Map<string, AppliedConfig>();
  /** Changeable while running (a test switches a fleet to the guide's silent firmware). */
  ackVia: AckVia;
  /** Devices stopped by an emergency, with the action. */
  readonly stopped = new Map<string, string>();
  readonly stats = { applied: 0, rejected: 0, resets: 0, stops: 0, resumes: 0 };
  private client: MqttClient | null = null;

  constructor(private readonly fleet: CommandableFleet, private readonly speed = 1, options: { ackVia?: AckVia } = {}) {
    this.ackVia = options.ackVia ?? 'reply';
  }

  configOf(id: string): AppliedConfig | undefined {
    return this.applied.get(id);
  }

  /**
   * One downlink; returns what the device publishes in answer. Pure apart from the device state it
   * changes, so it is tested without a broker.
   */
  handle(topic: string, payload: Buffer | string, now: number): Publication[] {
    const parts = topic.split('/');
    let body: unknown;
    try {
      body = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      body = typeof payload === 'string' ? payload : payload.toString('utf8');
    }
    if (parts.length === 3 && parts[0] === 'config' && parts[1] === 'update') return this.configure(parts[2], body, now);
    if (parts.length === 3 && parts[0] === 'esp32' && parts[2] === 'command') return this.command(parts[1], body, now);
    if (parts.length === 3 && parts[0] === 'esp32' && parts[2] === 'emergency') {
      const ids = parts[1] === BROADCAST_TARGET ? this.fleet.devices.map((d) => d.id) : [parts[1]];
      for (const id of ids) this.emergency(id, body);
    }
    return [];
  }

  private ack(id: string, body: Record<string, unknown>): Publication {
    return { topic: topicFor('config.ack', { device: id }), payload: JSON.stringify(body), qos: 1, retain: false };
  }

  private configure(id: string, raw: unknown, now: number): Publication[] {
    const d = this.fleet.get(id) as Retimable | undefined;
    if (!d || this.stopped.has(id)) return [];
    // The guide's own payload (its flat DeviceConfig, no version): laid over what the device runs, as the next version.
    const current = this.applied.get(id);
    let body = raw;
    if (isObj(raw) && isGuideRuntimeUpdate(raw)) {
      const config = fromGuideRuntimeUpdate(raw, current?.config);
      body = { config_version: (current?.version ?? 0) + 1, config_hash: configHash(withStandIns(config) as unknown as DeviceConfig), config };
    }
    const named = isObj(body) ? { ...(typeof body.config_version === 'number' ? { config_version: body.config_version } : {}), ...(typeof body.request_id === 'string' ? { request_id: body.request_id } : {}) } : {};
    const errors = deviceConfigUpdateErrors(body);
    // The device holds secret values where the stored form has references: check it with a stand-in.
    if (errors.length === 0 && isObj(body) && isObj(body.config)) errors.push(...deviceConfigErrors(withStandIns(body.config)));
    const reject = (reason: string): Publication[] => {
      this.stats.rejected++;
      // The guide's firmware only logs a warning: the push times out at the server.
      return this.ackVia === 'status' ? [] : [this.ack(id, { ...named, result: 'rejected', reason })];
    };
    if (!isObj(body) || errors.length) return reject(errors.length ? `${errors[0].field} ${errors[0].reason}` : 'not a configuration update');
    const config = body.config as DeviceConfig;
    if (config.device_id !== id) return reject(`device_id ${config.device_id} is not this device (${id})`);
    // The hash is over the stored form (secret references); the device got values, so it echoes
    // the hash the server sent rather than computing one over its secrets.
    const hash = typeof body.config_hash === 'string' ? body.config_hash : configHash(config);
    const version = body.config_version as number;
    this.applied.set(id, { version, hash, config, at: now });
    this.stats.applied++;
    // Save to flash and restart: schedules start again from now with the new intervals.
    if (d.retime) d.retime(intervalsFor(config, this.speed), now);
    else d.boot(now);
    d.restarts++;
    if (this.ackVia === 'status') {
      // Its first messages after the restart, the status among them, go out at the next tick.
      d.expedite(now);
      return [];
    }
    return [this.ack(id, { ...named, config_hash: hash, result: 'applied' })];
  }

  /** The topics on which a device reports its state: what carries the configuration it runs. */
  private static statusTopics(d: VirtualDevice): string[] {
    return [topicFor('esp32c3.status', { arch: d.arch, device: d.id }), topicFor('esp32.health', { device: d.id }), ...(d.profile === 'ti0162' ? [topicFor('ti0162.status', { prefix: d.prefix })] : [])];
  }

  /**
   * A device's publication as it goes out: once it applied a configuration, its status or health
   * names that configuration's version and hash (the fleet calls this for every message it sends).
   */
  annotate(d: VirtualDevice, p: Publication): Publication {
    const applied = this.applied.get(d.id);
    if (!applied || !CommandDevices.statusTopics(d).includes(p.topic)) return p;
    let body: unknown;
    try { body = JSON.parse(p.payload); } catch { return p; }
    if (!isObj(body)) return p;
    return { ...p, payload: JSON.stringify({ ...body, config_version: applied.version, config_hash: applied.hash }) };
  }

  private command(id: string, body: unknown, now: number): Publication[] {
    const d = this.fleet.get(id);
    if (!d || this.stopped.has(id)) return [];
    const cmd = isObj(body) ? body.command : body;
    if (cmd === 'reset' || cmd === 'restart') {
      this.stats.resets++;
      d.restarts++;
      d.boot(now);
    }
    return [];
  }

  private emergency(id: string, body: unknown): void {
    const action = isObj(body) ? body.action : body;
    if (!this.fleet.get(id)) return;
    if ((action === 'shutdown' || action === 'safe-mode') && !this.stopped.has(id)) {
      this.stopped.set(id, action);
      this.stats.stops++;
      this.fleet.inject(id, 'offline');
    } else if (action === 'resume' && this.stopped.has(id)) {
      this.stopped.delete(id);
      this.stats.resumes++;
      this.fleet.clear(id, 'offline');
    }
  }

  /** Listens for the fleet's downlinks on its own connection. */
  async start(brokerUrl: string): Promise<void> {
    const client = mqtt.connect(brokerUrl, { clientId: `sim-commands-${process.pid}-${Date.now() % 100000}`, reconnectPeriod: 1000 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('message', (topic, payload) => {
      for (const p of this.handle(topic, payload, Date.now())) client.publish(p.topic, p.payload, { qos: p.qos, retain: p.retain });
    });
    await client.subscribeAsync([topicFor('config.update', { device: '+' }), topicFor('esp32.command', { device: '+' }), topicFor('esp32.emergency', { device: '+' })], { qos: 1 });
    this.client = client;
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.endAsync().catch(() => undefined);
  }
}

/** Starts command handling for a running fleet. */
export async function acceptCommands(fleet: VirtualFleet, brokerUrl: string, speed = 1, ackVia: AckVia = 'reply'): Promise<CommandDevices> {
  const c = new CommandDevices(fleet, speed, { ackVia });
  await c.start(brokerUrl);
  return c;
}
