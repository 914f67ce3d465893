/**
 * The fleet's device table: one record per device, held in memory, with a dirty set so the
 * persistence layer writes only what changed.
 */
import type { DeviceKind, Esp32c3Arch, MessageKind } from '../../firmware/contract/topics';

export interface DeviceRecord {
  id: string;
  kind: DeviceKind | null;
  arch: Esp32c3Arch | null;
  firmware: string | null;
  firstSeen: number;
  lastSeen: number;
  online: boolean;
  /** Highest presence session seen; an offline from a lower session is a stale last will. */
  session: number | null;
  /** Last reading of each message kind (sensor, heartbeat, status, health, ...). */
  last: Partial<Record<MessageKind, Record<string, unknown>>>;
  /** Free-form labels (site, location) set by flows; carried into alerts. */
  labels: Record<string, string>;
  /** fleet-health's snapshot of this device, opaque to the registry. */
  health?: unknown;
}

export interface Sighting {
  readonly id: string;
  readonly kind: DeviceKind | null;
  readonly arch: Esp32c3Arch | null;
  readonly firmware: string | null;
  readonly messageKind: MessageKind;
  readonly payload: Record<string, unknown>;
  readonly at: number;
  /** Replayed by the broker: updates what we know, but is no sign of life. */
  readonly retained?: boolean;
}

/** Presence is not last-seen: a command we send to a device says nothing about it being up. */
const DOWNLINK_KINDS: ReadonlySet<MessageKind> = new Set(['ota-command', 'config-update', 'command', 'emergency', 'steel-load', 'steel-request']);

export type PresenceChange = 'online' | 'offline' | null;

/**
 * A record with every field in place from the start, `health` included: a field added later moves
 * the record's properties out of the object into a separate store (40 B more a device).
 */
function makeRecord(r: Omit<DeviceRecord, 'health'> & { health?: unknown }): DeviceRecord {
  return {
    id: r.id, kind: r.kind, arch: r.arch, firmware: r.firmware, firstSeen: r.firstSeen, lastSeen: r.lastSeen, online: r.online,
    session: r.session, last: r.last, labels: r.labels, health: r.health,
  };
}

const RECORD_FIELDS: ReadonlySet<string> = new Set(['id', 'kind', 'arch', 'firmware', 'firstSeen', 'lastSeen', 'online', 'session', 'last', 'labels', 'health']);

export class DeviceTable {
  private readonly devices = new Map<string, DeviceRecord>();
  private dirty = new Set<string>();
  /** Readings of new ids refused because the table was full. */
  refused = 0;

  /**
   * `maxDevices` bounds the ids any publisher can create; devices already known are always updated.
   * `trackChanges` false: nothing persists the table, so no dirty set grows to the size of the fleet.
   */
  constructor(readonly maxDevices = Infinity, private readonly trackChanges = true) {}

  get full(): boolean {
    return this.devices.size >= this.maxDevices;
  }

  get size(): number {
    return this.devices.size;
  }

  get(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }

  list(): DeviceRecord[] {
    return [...this.devices.values()];
  }


  /** Records a decoded message; returns the presence change it caused, if any. */
  seen(s: Sighting): PresenceChange {
    if (DOWNLINK_KINDS.has(s.messageKind)) return null;
    // Ids are strings from the decoder; anything else (a function node's object) is no device.
    if (typeof s.id !== 'string' || s.id === '') return null;
    let rec = this.devices.get(s.id);
    if (!rec && this.devices.size >= this.maxDevices) {
      this.refused++;
      return null;
    }
    const wasOnline = rec?.online ?? false;
    // A replayed message was sent before now: its own device time, when it has one, is the better guess.
    const deviceTime = s.payload.time_source === 'device' && typeof s.payload.timestamp === 'number' ? s.payload.timestamp : null;
    const at = s.retained ? Math.min(deviceTime ?? s.at, s.at) : s.at;
    if (!rec) {
      rec = makeRecord({ id: s.id, kind: s.kind, arch: s.arch, firmware: s.firmware, firstSeen: at, lastSeen: at, online: false, session: null, last: {}, labels: {} });
      this.devices.set(s.id, rec);
    }
    if (s.kind) rec.kind = s.kind;
    if (s.arch) rec.arch = s.arch;
    if (s.firmware) rec.firmware = s.firmware;
    if (!s.retained && at > rec.lastSeen) rec.lastSeen = at;
    rec.last[s.messageKind] = s.payload;
    this.changed(s.id);

    if (s.messageKind === 'presence') return this.applyPresence(rec, s.payload, wasOnline);
    if (s.retained) return null;
    rec.online = true;
    return wasOnline ? null : 'online';
  }

  private applyPresence(rec: DeviceRecord, p: Record<string, unknown>, wasOnline: boolean): PresenceChange {
    const session = typeof p.session === 'number' ? p.session : null;
    const state = p.state;
    if (state === 'online') {
      if (session !== null && rec.session !== null && session < rec.session) return null; // a retained birth from an older session
      rec.session = session ?? rec.session;
      rec.online = true;
      return wasOnline ? null : 'online';
    }
    if (state === 'offline') {
      if (session !== null && rec.session !== null && session < rec.session) return null; // a late last will
      rec.session = session ?? rec.session;
      rec.online = false;
      return wasOnline ? 'offline' : null;
    }
    return null;
  }

  /** Marks a device offline because it fell silent (health's offline sweep). */
  markOffline(id: string): boolean {
    const rec = this.devices.get(id);
    if (!rec || !rec.online) return false;
    rec.online = false;
    this.changed(id);
    return true;
  }

  setHealth(id: string, health: unknown): boolean {
    const rec = this.devices.get(id);
    if (!rec) return false;
    rec.health = health;
    this.changed(id);
    return true;
  }

  setLabels(id: string, labels: Record<string, string>): boolean {
    const rec = this.devices.get(id);
    if (!rec) return false;
    rec.labels = { ...rec.labels, ...labels };
    this.changed(id);
    return true;
  }


  /** Forgets a device (its key is deleted at the next flush), making room under the cap. */
  remove(id: string): boolean {
    if (!this.devices.delete(id)) return false;
    this.changed(id);
    return true;
  }

  /** Loads a persisted record unless a newer one arrived while loading. */
  restore(rec: DeviceRecord): void {
    const current = this.devices.get(rec.id);
    if (current && current.lastSeen >= rec.lastSeen) {
      current.firstSeen = Math.min(current.firstSeen, rec.firstSeen);
      current.labels = { ...rec.labels, ...current.labels };
      return;
    }
    const restored = makeRecord({ ...rec, last: { ...(current?.last ?? {}), ...rec.last } });
    // Fields this version does not know are kept (as data, "__proto__" included), after the known ones.
    for (const k of Object.keys(rec)) {
      if (!RECORD_FIELDS.has(k)) Object.defineProperty(restored, k, { value: (rec as unknown as Record<string, unknown>)[k], enumerable: true, writable: true, configurable: true });
    }
    this.devices.set(rec.id, restored);
  }

  /**
   * The ids changed since the last call, handed over whole (a new set starts): listing 100,000 of
   * them in one turn was most of a flush's longest hold. Their records are read with get() when
   * written, so a flush writes each device as it is then, or its deletion.
   */
  takeDirty(): Set<string> {
    const out = this.dirty;
    this.dirty = new Set<string>();
    return out;
  }

  /** Puts ids back in the dirty set after a failed write, so the next flush retries them. */
  markDirty(ids: readonly string[]): void {
    for (const id of ids) this.changed(id);
  }

  private changed(id: string): void {
    if (this.trackChanges) this.dirty.add(id);
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }
}

/** A loaded record is checked field by field: a store may hold data from another version or hand. */
export function isDeviceRecord(x: unknown): x is DeviceRecord {
  if (x === null || typeof x !== 'object') return false;
  const r = x as Record<string, unknown>;
  return typeof r.id === 'string' && typeof r.firstSeen === 'number' && typeof r.lastSeen === 'number'
    && typeof r.online === 'boolean' && typeof r.last === 'object' && r.last !== null
    && typeof r.labels === 'object' && r.labels !== null;
}
