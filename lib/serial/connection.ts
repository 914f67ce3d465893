/**
 * One serial port, kept open: lines in (bounded), text out, and reconnection with back-off when the
 * device is unplugged. Several nodes share one connection (Node-RED's own serial config node does the
 * same), so a console node and a provisioning node can talk to the same device at once.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

import { identityOf } from '../../firmware/contract/provisioning';
import { LineSplitter } from './line-splitter';
import type { LineChannel } from './provisioning';
import type { PortSettings } from './config';

/** What a connection needs from a port: serialport's SerialPortStream (real or mock binding) is one. */
export interface PortLike extends Duplex {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  drain(cb: (err: Error | null) => void): void;
}

export type PortFactory = (settings: PortSettings) => PortLike;

export type ConnectionState = 'connecting' | 'open' | 'disconnected' | 'closed';

export interface RetryPolicy {
  readonly minMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { minMs: 250, maxMs: 5000 };

export interface ConnectionEvents {
  line: [line: string, at: number];
  state: [state: ConnectionState, reason: string | null];
  'too-long': [droppedBytes: number, limit: number];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** serialport's own constructor, loaded when first needed so a test with a mock never loads the native binding. */
export const defaultFactory: PortFactory = (s) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require('serialport') as typeof import('serialport');
  return new SerialPort({ path: s.path, baudRate: s.baudRate, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits, autoOpen: false }) as unknown as PortLike;
};

export class SerialConnection extends EventEmitter<ConnectionEvents> implements LineChannel {
  state: ConnectionState = 'closed';
  reason: string | null = null;
  /** The device on this port, once its startup lines or a provisioning ack named it. */
  deviceId: string | null = null;
  reconnects = 0;
  private port: PortLike | null = null;
  private splitter: LineSplitter;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private stopped = true;
  private readonly goneListeners = new Set<(reason: string) => void>();

  constructor(readonly settings: PortSettings, private readonly factory: PortFactory = defaultFactory, private readonly retry: RetryPolicy = DEFAULT_RETRY, private readonly now: () => number = Date.now) {
    super();
    this.splitter = new LineSplitter(settings.lineMaxBytes);
  }

  get path(): string {
    return this.settings.path;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.openPort();
  }

  onLine(fn: (line: string) => void): () => void {
    const l = (line: string): void => fn(line);
    this.on('line', l);
    return () => { this.off('line', l); };
  }

  onGone(fn: (reason: string) => void): () => void {
    this.goneListeners.add(fn);
    return () => { this.goneListeners.delete(fn); };
  }

  /** Resolves once the port is open (at once when it is), rejects after `ms` naming why it is not. */
  waitOpen(ms: number): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onState = (state: ConnectionState): void => {
        if (state === 'open') { clearTimeout(t); this.off('state', onState); resolve(); }
      };
      const t = setTimeout(() => {
        this.off('state', onState);
        reject(new Error(`${this.path} did not open within ${ms} ms${this.reason ? ` (${this.reason})` : ''}`));
      }, ms);
      this.on('state', onState);
    });
  }

  write(text: string): Promise<void> {
    const port = this.port;
    if (!port || this.state !== 'open') return Promise.reject(new Error(`${this.path} is not open (${this.state}${this.reason ? `: ${this.reason}` : ''})`));
    return new Promise((resolve, reject) => {
      port.write(text, (err) => {
        if (err) { reject(err); return; }
        port.drain((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    else port?.destroy();
    this.setState('closed', null);
  }

  private setState(state: ConnectionState, reason: string | null): void {
    if (this.state === state && this.reason === reason) return;
    this.state = state;
    this.reason = reason;
    this.emit('state', state, reason);
  }

  private openPort(): void {
    if (this.stopped) return;
    this.setState('connecting', this.reason);
    let port: PortLike;
    try {
      port = this.factory(this.settings);
    } catch (err) {
      this.lost(message(err));
      return;
    }
    this.port = port;
    // Listeners before open: a port that fails emits error asynchronously and must not become uncaught.
    port.on('error', (err: Error) => { if (this.port === port) this.lost(err.message); });
    port.on('close', (err?: Error | null) => { if (this.port === port) this.lost(err?.message ?? 'port closed'); });
    port.on('data', (chunk: Buffer) => { if (this.port === port) this.onData(chunk); });
    port.open((err) => {
      if (this.port !== port) { if (!err) port.close(); return; }
      if (err) { this.lost(err.message); return; }
      if (this.attempts > 0) this.reconnects++;
      this.attempts = 0;
      this.splitter = new LineSplitter(this.settings.lineMaxBytes);
      this.setState('open', null);
    });
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type === 'too-long') { this.emit('too-long', ev.droppedBytes, ev.limit); continue; }
      const id = identityOf(ev.line);
      if (id !== null) this.deviceId = id;
      this.emit('line', ev.line, this.now());
    }
  }

  /** The port went away (unplugged, refused, closed under us): tell the waiting, then retry with back-off. */
  private lost(reason: string): void {
    const port = this.port;
    this.port = null;
    if (port) {
      port.removeAllListeners('data');
      port.on('error', () => undefined);
      if (port.isOpen) port.close(() => undefined);
    }
    for (const fn of [...this.goneListeners]) fn(reason);
    if (this.stopped) return;
    this.setState('disconnected', reason);
    const delay = Math.min(this.retry.maxMs, this.retry.minMs * 2 ** Math.min(this.attempts, 16));
    this.attempts++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.openPort(); }, delay);
  }
}
