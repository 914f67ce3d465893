/**
 * The fleet registry: the device table, its persistence, and presence events for the nodes that use it.
 */
import { EventEmitter } from 'node:events';

import type { Decoded } from '../decode/decoder';
import { makeAlert, type FleetAlert } from '../alert-shape';
import { DeviceTable, type DeviceRecord, type PresenceChange } from './device-table';
import { MAX_DEVICES, parseMaxDevices } from './defaults';
import { RegistryPersistence, type KeyValueStore } from './persistence';

export interface PresenceEvent {
  readonly id: string;
  readonly state: 'online' | 'offline';
  readonly at: number;
  readonly cause: 'message' | 'presence' | 'silence';
}

export interface DeviceSummary {
  readonly id: string;
  readonly kind: string | null;
  readonly arch: string | null;
  readonly firmware: string | null;
  readonly online: boolean;
  readonly lastSeen: number;
  /** fleet-health's state of the device, when a health node keeps one. */
  readonly health: string | null;
  readonly score: number | null;
}

export interface RegistryOptions {
  readonly flushMs: number;
  /** Most devices the table holds; readings of further new ids are counted and dropped. Default 10,000. */
  readonly maxDevices?: number;
  /** Names the registry in its RegistryFull alert. */
  readonly name?: string;
}

export const DEFAULT_MAX_DEVICES = MAX_DEVICES.default;
const FULL_META = 'registryFull';

/** The cap from `FLEET_MAX_DEVICES` when set within MAX_DEVICES' bounds, else the default. */
export function maxDevicesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const r = parseMaxDevices(env.FLEET_MAX_DEVICES);
  return r.ok ? r.value : DEFAULT_MAX_DEVICES;
}

export class FleetRegistry extends EventEmitter<{ presence: [PresenceEvent]; error: [Error]; alert: [FleetAlert] }> {
  readonly table: DeviceTable;
  readonly persistence: RegistryPersistence | null;
  /** Resolves once persisted records are loaded; messages arriving earlier are merged, not lost. */
  readonly ready: Promise<number>;
  private readonly name: string;
  /** startsAt of the RegistryFull alert while it fires. */
  private fullSince: number | null = null;

  constructor(store: KeyValueStore | null, options: RegistryOptions) {
    super();
    this.table = new DeviceTable(options.maxDevices ?? DEFAULT_MAX_DEVICES, store !== null);
    this.name = options.name ?? 'fleet-registry';
    this.persistence = store ? new RegistryPersistence(this.table, store, options.flushMs, (err) => this.report(err)) : null;
    this.ready = this.persistence ? this.persistence.load() : Promise.resolve(0);
    this.ready.then(() => this.restoreFullAlert(), (err: Error) => this.report(err)).catch((err: unknown) => this.report(err as Error));
  }

  /**
   * Emits 'error' only to listeners: EventEmitter throws an unheard 'error', and these are raised
   * in timers and promise handlers, where a throw would end Node-RED.
   */
  private report(err: Error): void {
    if (this.listenerCount('error') === 0) return;
    try { this.emit('error', err); } catch { /* a listener's own failure must not stop the flush */ }
  }

  get maxDevices(): number {
    return this.table.maxDevices;
  }

  /** Readings of new ids dropped because the registry was full. */
  get refused(): number {
    return this.table.refused;
  }

  get full(): boolean {
    return this.table.full;
  }

  /** Records a decoded message of an identified device. */
  record(d: Decoded): PresenceChange {
    // Our own command to a device (a decoded downlink) is no sign of life from it.
    if (d.device.id === null || d.direction === 'down') return null;
    const refused = this.table.refused;
    const change = this.table.seen({
      id: d.device.id, kind: d.device.kind, arch: d.device.arch, firmware: d.device.firmware,
      messageKind: d.kind, payload: d.payload, at: d.receivedAt, retained: d.retained,
    });
    if (this.table.refused !== refused && this.fullSince === null) this.fireFull(d.receivedAt);
    this.persistence?.schedule();
    if (change) this.emit('presence', { id: d.device.id, state: change, at: d.receivedAt, cause: d.kind === 'presence' ? 'presence' : 'message' });
    return change;
  }

  markSilent(id: string, at: number): boolean {
    const changed = this.table.markOffline(id);
    if (changed) {
      this.persistence?.schedule();
      this.emit('presence', { id, state: 'offline', at, cause: 'silence' });
    }
    return changed;
  }

  /** Keeps another node's per-device state (health) with the device, so it persists with it. */
  setHealth(id: string, health: unknown): boolean {
    const ok = this.table.setHealth(id, health);
    if (ok) this.persistence?.schedule();
    return ok;
  }

  /** Forgets a device; when that makes room under the cap, RegistryFull resolves. */
  remove(id: string, at = Date.now()): boolean {
    const ok = this.table.remove(id);
    if (ok) {
      this.persistence?.schedule();
      if (this.fullSince !== null && !this.table.full) this.resolveFull(at);
    }
    return ok;
  }

  /** Raises last-seen to a time another node kept durably (fleet-health's journal); never lowers it. */
  noteLastSeen(id: string, at: number): boolean {
    const rec = this.table.get(id);
    if (!rec || !(at > rec.lastSeen)) return false;
    rec.lastSeen = at;
    this.table.markDirty([id]);
    this.persistence?.schedule();
    return true;
  }

  private fullAlert(startsAt: number, endsAt: number | null): FleetAlert {
    const max = this.table.maxDevices;
    return makeAlert({
      name: 'RegistryFull', severity: 'major', device: null, labels: { registry: this.name }, source: 'fleet-registry',
      summary: endsAt === null
        ? `registry ${this.name} is full (${max} devices): readings of new device ids are dropped`
        : `registry ${this.name} has room again (${this.table.size} of ${max} devices)`,
      startsAt, endsAt, details: { maxDevices: max, devices: this.table.size, refused: this.table.refused },
    });
  }

  private fireFull(at: number): void {
    this.fullSince = at;
    void this.persistence?.setMeta(FULL_META, { startsAt: at }); // setMeta reports its own failures, never rejects
    this.emit('alert', this.fullAlert(at, null));
  }

  private resolveFull(at: number): void {
    const startsAt = this.fullSince ?? at;
    this.fullSince = null;
    void this.persistence?.setMeta(FULL_META, undefined);
    this.emit('alert', this.fullAlert(startsAt, at));
  }

  /** After a restart: a RegistryFull that fired stays firing (not sent again), or resolves if the cap was raised. */
  private restoreFullAlert(): void {
    const saved = this.persistence?.meta.get(FULL_META) as { startsAt?: unknown } | undefined;
    if (!saved || typeof saved.startsAt !== 'number') return;
    this.fullSince = saved.startsAt;
    if (!this.table.full) this.resolveFull(Date.now());
  }

  records(): IterableIterator<DeviceRecord> {
    return this.table.list().values();
  }

  setLabels(id: string, labels: Record<string, string>): boolean {
    const ok = this.table.setLabels(id, labels);
    if (ok) this.persistence?.schedule();
    return ok;
  }

  get(id: string): DeviceRecord | undefined {
    return this.table.get(id);
  }

  summaries(filter?: { query?: string; limit?: number }): DeviceSummary[] {
    const q = filter?.query?.toLowerCase() ?? '';
    const limit = filter?.limit ?? Infinity;
    const out: DeviceSummary[] = [];
    for (const r of this.table.list()) {
      if (q && !r.id.toLowerCase().includes(q)) continue;
      const h = r.health as { state?: unknown; score?: unknown } | undefined;
      out.push({
        id: r.id, kind: r.kind, arch: r.arch, firmware: r.firmware, online: r.online, lastSeen: r.lastSeen,
        health: typeof h?.state === 'string' ? h.state : null, score: typeof h?.score === 'number' ? h.score : null,
      });
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out.length > limit ? out.slice(0, limit) : out;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => 0);
    await this.persistence?.close();
    this.removeAllListeners();
  }
}
