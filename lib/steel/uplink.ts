/**
 * Reads what a Steel device sends, whether it comes straight from `mqtt in` (topic and a Buffer or
 * string) or through fleet-decode (topic kept, payload already an object): the topic says which
 * message it is, the contract's parsers read it. Never throws.
 */
import {
  matchSteelTopic, parseFullReport, parseResult, parseShadowUpdate, parseStatusReport,
  type FieldError, type SteelFullReport, type SteelResult, type SteelShadowUpdate, type SteelStatusReport,
} from '../../firmware/contract/steel';

export type SteelUplink =
  | { readonly kind: 'status'; readonly device: string; readonly value: SteelStatusReport }
  | { readonly kind: 'full-report'; readonly device: string; readonly value: SteelFullReport }
  | { readonly kind: 'result'; readonly device: string; readonly value: SteelResult }
  | { readonly kind: 'shadow'; readonly device: string; readonly value: SteelShadowUpdate }
  | { readonly kind: 'invalid'; readonly device: string; readonly route: string; readonly errors: readonly FieldError[] };

/**
 * fleet-decode writes `timestamp` as epoch milliseconds with a `time_source`; the device's own
 * messages carry RFC 3339 text. Put a decoded object back in the device's spelling.
 */
function asSent(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) return payload;
  const o = payload as Record<string, unknown>;
  if (typeof o.timestamp !== 'number' || !(Math.abs(o.timestamp) <= 8.64e15)) return payload;
  const copy: Record<string, unknown> = { ...o, timestamp: new Date(o.timestamp).toISOString() };
  delete copy.time_source;
  return copy;
}

/** null when the topic is not a Steel device's uplink. */
export function readSteelUplink(topic: unknown, raw: unknown): SteelUplink | null {
  const payload = asSent(raw);
  const m = matchSteelTopic(topic);
  if (!m || m.direction !== 'up' || m.device === null) return null;
  const device = m.device;
  const bad = (errors: readonly FieldError[]): SteelUplink => ({ kind: 'invalid', device, route: m.route, errors });
  switch (m.route) {
    case 'steel.status-report': { const r = parseStatusReport(payload); return r.ok ? { kind: 'status', device, value: r.value } : bad(r.errors); }
    case 'steel.status-full-report': {
      // fleet-decode moves device_id into msg.device; the topic names the same device.
      const body = payload !== null && typeof payload === 'object' && !Buffer.isBuffer(payload) && !Array.isArray(payload) && !Object.hasOwn(payload, 'device_id') ? { ...payload, device_id: device } : payload;
      const r = parseFullReport(body); return r.ok ? { kind: 'full-report', device, value: r.value } : bad(r.errors); }
    case 'steel.result': { const r = parseResult(payload); return r.ok ? { kind: 'result', device, value: r.value } : bad(r.errors); }
    case 'steel.shadow-update': { const r = parseShadowUpdate(payload); return r.ok ? { kind: 'shadow', device, value: r.value } : bad(r.errors); }
    default: return null;
  }
}
