/**
 * The fleet registry: the device table, its persistence, and presence events for the nodes that use it.
 */
import { EventEmitter } from 'node:events';

import type { Decoded } from '../decode/decoder';
import { DeviceTable, type DeviceRecord, type PresenceChange } from './device-table';
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
}

export class FleetRegistry extends EventEmitter<{ presence: [PresenceEvent]; error: [Error] }> {
  readonly table = new DeviceTable();
  readonly persistence: RegistryPersistence | null;
  /** Resolves once persisted records are loaded; messages arriving earlier are merged, not lost. */
  readonly ready: Promise<number>;

  constructor(store: KeyValueStore | null, options: RegistryOptions) {
    super();
    this.persistence = store ? new RegistryPersistence(this.table, store, options.flushMs, (err) => this.emit('error', err)) : null;
    this.ready = this.persistence ? this.persistence.load() : Promise.resolve(0);
    this.ready.catch((err: Error) => this.emit('error', err));
  }

  /** Records a decoded message of an identified device. */
  record(d: Decoded): PresenceChange {
    if (d.device.id === null) return null;
    const change = this.table.seen({
      id: d.device.id, kind: d.device.kind, arch: d.device.arch, firmware: d.device.firmware,
      messageKind: d.kind, payload: d.payload, at: d.receivedAt, retained: d.retained,
    });
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
