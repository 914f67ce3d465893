/**
 * fleet-registry's configuration from a saved flow, and the device list's query: both checked, with the
 * field at fault named, and the same bounds the editor imports (defaults.ts).
 */
import { parseFlushMs, parseMaxDevices } from './defaults';

export interface RegistryConfig {
  readonly persist: boolean;
  /** A named context store, or undefined for the default one. */
  readonly store: string | undefined;
  readonly flushMs: number;
  readonly maxDevices: number;
  /** Names the registry in its RegistryFull alert. */
  readonly name: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly reason: string };

/** `envMaxDevices`: the cap when the node sets none (FLEET_MAX_DEVICES, read by the caller). */
export function parseRegistryConfig(def: Readonly<Record<string, unknown>>, envMaxDevices?: number): Parsed<RegistryConfig> {
  const flush = parseFlushMs(def.flushMs);
  if (!flush.ok) return { ok: false, field: 'flushMs', reason: flush.reason };
  const max = parseMaxDevices(def.maxDevices, envMaxDevices);
  if (!max.ok) return { ok: false, field: 'maxDevices', reason: max.reason };
  if (def.store !== undefined && def.store !== null && typeof def.store !== 'string') return { ok: false, field: 'store', reason: 'must be the name of a context store' };
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    ok: true,
    value: { persist: def.persist !== false, store: text(def.store) || undefined, flushMs: flush.value, maxDevices: max.value, name: text(def.name) || text(def.id) },
  };
}

export const DEVICE_QUERY = { maxLimit: 5000, maxQuery: 64, defaultLimit: 500 } as const;

/** The device list's query string (Express's parsed query): a bad value names the parameter. */
export function parseDeviceQuery(query: Readonly<Record<string, unknown>>): Parsed<{ q: string | undefined; limit: number }> {
  const { maxLimit, maxQuery, defaultLimit } = DEVICE_QUERY;
  const q = query.q;
  if (q !== undefined && typeof q !== 'string') return { ok: false, field: 'q', reason: 'must be given once, as text' };
  if (typeof q === 'string' && q.length > maxQuery) return { ok: false, field: 'q', reason: `must be at most ${maxQuery} characters` };
  const l = query.limit;
  if (l === undefined || l === '') return { ok: true, value: { q, limit: defaultLimit } };
  if (typeof l !== 'string' || !/^\d{1,7}$/.test(l) || Number(l) < 1) return { ok: false, field: 'limit', reason: `must be a whole number from 1 to ${maxLimit}` };
  return { ok: true, value: { q, limit: Math.min(Number(l), maxLimit) } };
}
