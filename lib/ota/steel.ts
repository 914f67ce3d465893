/**
 * The Steel devices' OTA traffic (mparkachov/aws-iot-steel, aws-iot-core/src/ota_manager.rs) in our
 * progress shape. `ota/{id}/status` carries the whole FirmwareUpdateResult record
 * (request_id, status, current_version, target_version, progress_percent, error_message, started_at,
 * completed_at) with `status` as serde writes the enum: a bare "Downloaded", or a tagged
 * {"Downloading":{"progress_percent":42.0}} / {"Failed":{"error":"..."}} / {"RolledBack":{"reason":"..."}}.
 * `downloads/{id}/firmware-request` (request_id, firmware_version, device_id, requested_at) is the
 * device asking for a download URL: it has started on the download.
 *
 * Both are routes of the topic map; fleet-decode reads them, through `STEEL_OTA_READINGS`, into the
 * reading our own ota/progress/{device} gives, so fleet-ota takes one shape from either firmware.
 */
import { STEEL_OTA_ROUTE, STEEL_STATUS_MAP } from '../../firmware/contract/ota';
import type { FieldResult } from './manifest';
import { progressOf, type OtaProgress } from './progress';

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const fail = (field: string, reason: string): { ok: false; field: string; reason: string } => ({ ok: false, field, reason });

function readJson(input: unknown): FieldResult<Record<string, unknown>> {
  let raw = input;
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    const text = raw.toString();
    if (text.length > 16_384) return fail('payload', 'longer than 16 KiB');
    try { raw = JSON.parse(text); } catch (err) { return fail('payload', `not valid JSON: ${(err as Error).message}`); }
  }
  return isObj(raw) ? { ok: true, value: raw } : fail('payload', 'must be a JSON object');
}

function millis(x: unknown): number | undefined {
  if (typeof x !== 'string' || x.length > 64) return undefined;
  const t = Date.parse(x);
  return Number.isFinite(t) && t >= 0 ? t : undefined;
}

/** Reads an `ota/{id}/status` payload. */
export function parseSteelStatus(input: unknown): FieldResult<OtaProgress> {
  const r = readJson(input);
  if (!r.ok) return r;
  const p = r.value;
  let variant: string;
  let body: Record<string, unknown> = {};
  if (typeof p.status === 'string') variant = p.status;
  else if (isObj(p.status) && Object.keys(p.status).length === 1) {
    variant = Object.keys(p.status)[0];
    const inner = p.status[variant];
    if (!isObj(inner)) return fail(`status.${variant}`, 'must be an object (a tagged status)');
    body = inner;
  } else return fail('status', 'must be a status name or a one-key tagged status object');
  const state = STEEL_STATUS_MAP.get(variant);
  if (state === undefined) return fail('status', `${JSON.stringify(variant.slice(0, 40))} is not a FirmwareUpdateStatus (${[...STEEL_STATUS_MAP.keys()].join(', ')})`);

  const progress = variant === 'Downloading' ? body.progress_percent : state === 'DOWNLOADED' || state === 'UPDATED' ? 100 : p.progress_percent;
  const reason = variant === 'Failed' ? body.error : variant === 'RolledBack' ? body.reason : p.error_message;
  // Installed means the target runs; before that the device still runs current_version.
  const version = state === 'UPDATED' ? p.target_version : state === 'ROLLED_BACK' ? p.current_version : p.target_version;
  const when = millis(p.completed_at) ?? millis(p.started_at);
  return progressOf(
    { job_id: p.request_id, state, progress, firmware_version: version, reason, timestamp: when },
    { job_id: 'request_id', progress: variant === 'Downloading' ? 'status.Downloading.progress_percent' : 'progress_percent', firmware_version: state === 'ROLLED_BACK' ? 'current_version' : 'target_version', reason: variant === 'Failed' ? 'status.Failed.error' : variant === 'RolledBack' ? 'status.RolledBack.reason' : 'error_message' },
  );
}

/** Reads a `downloads/{id}/firmware-request` payload: the device is starting its download. */
export function parseSteelFirmwareRequest(input: unknown): FieldResult<OtaProgress> {
  const r = readJson(input);
  if (!r.ok) return r;
  const p = r.value;
  return progressOf(
    { job_id: p.request_id, state: 'DOWNLOADING', progress: 0, firmware_version: p.firmware_version, timestamp: millis(p.requested_at) },
    { job_id: 'request_id' },
  );
}

/** What fleet-decode's normaliser returns (lib/decode/normalise.ts `Normalised`). */
export type SteelOtaReading =
  | { readonly ok: true; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly path: string; readonly reason: string };

function reading(r: FieldResult<OtaProgress>, receivedAt: number): SteelOtaReading {
  if (!r.ok) return { ok: false, path: r.field === 'payload' ? '' : `/${r.field.replace(/\./g, '/')}`, reason: r.reason };
  const { timestamp, ...rest } = r.value;
  // The same fields as a decoded ota/progress reading: timestamp in epoch ms, and where it came from.
  return { ok: true, payload: { ...rest, timestamp: timestamp ?? receivedAt, time_source: timestamp === undefined ? 'received' : 'device' } };
}

/**
 * fleet-decode's reading of each Steel OTA route, from a body its schema passed: the ota-progress
 * shape (job_id, state, progress, firmware_version, reason, timestamp, time_source).
 */
export const STEEL_OTA_READINGS: ReadonlyMap<string, (body: Readonly<Record<string, unknown>>, receivedAt: number) => SteelOtaReading> = new Map([
  [STEEL_OTA_ROUTE.status, (body: Readonly<Record<string, unknown>>, at: number) => reading(parseSteelStatus(body), at)],
  [STEEL_OTA_ROUTE.firmwareRequest, (body: Readonly<Record<string, unknown>>, at: number) => reading(parseSteelFirmwareRequest(body), at)],
]);
