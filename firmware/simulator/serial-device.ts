/**
 * A virtual device on a serial port (a pseudo-terminal in tests and demos): it prints the firmware's
 * startup sequence and periodic [PERF] / Health: lines, reads the provisioning line, applies it,
 * acknowledges it, reboots under its new identity and, given a reachable broker, publishes on MQTT
 * through a one-device VirtualFleet.
 */
import { EventEmitter } from 'node:events';

import { audioHealthLine, bootLines } from '../contract/console';
import { ackLine, AWAITING_PROVISIONING, deviceIdLine, parseProvisionLine, type ProvisioningConfig } from '../contract/provisioning';
import { LineSplitter } from '../../lib/serial/line-splitter';
import { GUIDE_INTERVALS, VirtualDevice } from './device';
import { VirtualFleet } from './fleet';

export interface SerialDeviceOptions {
  /** The port the device sits on, e.g. one end of `socat pty,link=/tmp/dev pty,link=/tmp/host`. */
  readonly path: string;
  /** The id it announces before provisioning (a factory id). */
  readonly factoryId?: string;
  readonly kind?: 'env-sensor' | 'audio-device';
  readonly seed?: number;
  /** Milliseconds between [PERF] reports (the firmware's is a minute). */
  readonly perfEveryMs?: number;
  /** SSIDs the device "cannot see": provisioning with one is acknowledged with ok=false and a reason. */
  readonly unknownSsids?: readonly string[];
  /** Echo the received line as `[CONFIG] Received: ...`, as debug builds do (secrets included). */
  readonly echo?: boolean;
  readonly baudRate?: number;
  /** Publish on MQTT after provisioning (the default); off for console-only runs. */
  readonly mqtt?: boolean;
}

interface PortLike {
  readonly isOpen: boolean;
  write(data: string): boolean;
  close(cb?: (err: Error | null) => void): void;
  on(event: 'data', fn: (b: Buffer) => void): unknown;
  on(event: 'close' | 'error', fn: (err?: Error) => void): unknown;
  open(cb: (err: Error | null) => void): void;
}

export interface SerialDeviceEvents {
  provisioned: [config: ProvisioningConfig];
  rejected: [reason: string];
  online: [deviceId: string];
}

export class SerialDevice extends EventEmitter<SerialDeviceEvents> {
  id: string;
  config: ProvisioningConfig | null = null;
  fleet: VirtualFleet | null = null;
  readonly written: string[] = [];
  private port: PortLike | null = null;
  private splitter = new LineSplitter(2048);
  private perfTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private model: VirtualDevice;
  private readonly kind: 'env-sensor' | 'audio-device';

  constructor(private readonly opts: SerialDeviceOptions) {
    super();
    this.kind = opts.kind ?? 'env-sensor';
    this.id = opts.factoryId ?? 'esp32-c3-unprovisioned';
    this.model = new VirtualDevice({ id: this.id, kind: this.kind, arch: 'full', seed: opts.seed ?? 1 });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.openPort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.perfTimer) clearInterval(this.perfTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    await this.fleet?.stop();
    this.fleet = null;
  }

  private openPort(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as typeof import('serialport');
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate ?? 115200, autoOpen: false }) as unknown as PortLike;
    return new Promise((resolve) => {
      port.on('error', () => this.lost(port));
      port.on('close', () => this.lost(port));
      port.on('data', (b) => this.onData(b));
      port.open((err) => {
        if (err) { this.lost(port); resolve(); return; }
        this.port = port;
        this.splitter = new LineSplitter(2048);
        this.boot();
        resolve();
      });
    });
  }

  /** Unplugged (socat gone): power is lost with the cable, so the device boots again when it is back. */
  private lost(port: PortLike): void {
    if (this.port === port) this.port = null;
    if (this.perfTimer) { clearInterval(this.perfTimer); this.perfTimer = null; }
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => { this.retryTimer = null; if (!this.stopped) void this.openPort(); }, 250);
  }

  private print(lines: readonly string[]): void {
    for (const l of lines) {
      this.written.push(l);
      this.port?.write(`${l}\r\n`);
    }
  }

  private boot(): void {
    const now = Date.now();
    this.model = new VirtualDevice({ id: this.id, kind: this.kind, arch: 'full', seed: this.opts.seed ?? 1 });
    this.model.boot(now);
    const c = this.config;
    if (c) {
      const all = bootLines(`10.10.10.${20 + ((this.opts.seed ?? 1) % 200)}`, `${c.broker}:${c.port}`);
      this.print([all[0], deviceIdLine(this.id), ...all.slice(1)]);
    } else {
      this.print(['[SYSTEM] ESP32-C3 IoT System Starting', deviceIdLine(this.id), '[SENSOR] BME280 initialized successfully', AWAITING_PROVISIONING]);
    }
    if (this.perfTimer) clearInterval(this.perfTimer);
    const every = this.opts.perfEveryMs ?? 60_000;
    this.perfTimer = setInterval(() => this.perf(), every);
  }

  private perf(): void {
    const now = Date.now();
    // Step the model so heap and timing drift as the firmware's would between reports.
    this.model.expedite(now);
    this.model.due(now);
    if (this.kind === 'audio-device') {
      const l = this.model.consoleLines(now);
      this.print(l.length ? l : [audioHealthLine(230_000, -55, 0, true)]);
      return;
    }
    this.print(this.model.consoleLines(now).filter((l) => l.startsWith('[PERF]')));
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type === 'too-long') { this.print(['[CONFIG] Error: line too long, ignored']); continue; }
      if (ev.line.trimStart().startsWith('{')) this.onProvisionLine(ev.line);
    }
  }

  private onProvisionLine(line: string): void {
    if (this.opts.echo !== false) this.print([`[CONFIG] Received: ${line}`]);
    const parsed = parseProvisionLine(line);
    if (!parsed.ok) {
      const seq = /"seq"\s*:\s*(\d{1,9})/.exec(line);
      this.send({ ack: 'provision', seq: seq ? Number(seq[1]) : 0, ok: false, device_id: this.id, reason: `${parsed.field} ${parsed.reason}` });
      this.emit('rejected', `${parsed.field} ${parsed.reason}`);
      return;
    }
    const { seq, config } = parsed.value;
    if (this.opts.unknownSsids?.includes(config.wifi_ssid)) {
      const reason = `wifi ssid ${config.wifi_ssid} not found`;
      this.send({ ack: 'provision', seq, ok: false, device_id: this.id, reason });
      this.emit('rejected', reason);
      return;
    }
    this.config = config;
    this.id = config.device_id;
    this.send({ ack: 'provision', seq, ok: true, device_id: config.device_id });
    this.emit('provisioned', config);
    // The firmware stores the configuration and restarts with it.
    this.boot();
    if (this.opts.mqtt !== false) void this.goOnline(config);
  }

  private send(ack: Parameters<typeof ackLine>[0]): void {
    const l = ackLine(ack).trimEnd();
    this.written.push(l);
    this.port?.write(`${l}\r\n`);
  }

  private async goOnline(c: ProvisioningConfig): Promise<void> {
    await this.fleet?.stop();
    this.fleet = new VirtualFleet({
      brokerUrl: `${c.tls ? 'mqtts' : 'mqtt'}://${c.broker}:${c.port}`,
      devices: [{ id: c.device_id, kind: this.kind, arch: 'full', seed: this.opts.seed ?? 1, firmware: '1.2.0' }],
      // The fleet scales the guides' intervals; the provisioned measurement interval sets the pace.
      speed: GUIDE_INTERVALS.sensor / c.measurement_s,
    });
    try {
      await this.fleet.start();
      this.emit('online', c.device_id);
    } catch (err) {
      this.print([`[MQTT] Connection failed: ${err instanceof Error ? err.message : String(err)}`]);
    }
  }
}
