/**
 * Device OTA progress in one shape (the contract's ota-progress), read from our own firmware's
 * ota/progress/{device} and, in steel.ts, from the Steel firmware's topics. Never throws.
 */
import {
  OTA_JOB_ID_MAX_LENGTH, OTA_PROGRESS_STATES, OTA_REASON_MAX_LENGTH, OTA_VERSION_MAX_LENGTH, type OtaProgressState,
} from '../../firmware/contract/ota';
import type { FieldResult } from './manifest';

export interface OtaProgress {
  readonly job_id: string;
  readonly state: OtaProgressState;
  /** Percent downloaded, 0–100. */
  readonly progress?: number;
  /** The version the device reports (running, or being installed). */
  readonly firmware_version?: string;
  readonly reason?: string;
  /** Device time, unix ms, when it said so. */
  readonly timestamp?: number;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const fail = (field: string, reason: string): { ok: false; field: string; reason: string } => ({ ok: false, field, reason });
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isOtaState(x: unknown): x is OtaProgressState {
  return typeof x === 'string' && (OTA_PROGRESS_STATES as readonly string[]).includes(x);
}

/** Checks the parts every source shares and builds the progress record. */
export function progressOf(fields: { job_id: unknown; state: unknown; progress?: unknown; firmware_version?: unknown; reason?: unknown; timestamp?: unknown }, names: Partial<Record<keyof OtaProgress, string>> = {}): FieldResult<OtaProgress> {
  const n = (k: keyof OtaProgress): string => names[k] ?? k;
  const { job_id: job, state } = fields;
  if (typeof job !== 'string' || job.length === 0 || job.length > OTA_JOB_ID_MAX_LENGTH || CONTROL.test(job)) return fail(n('job_id'), `must be a job id of 1 to ${OTA_JOB_ID_MAX_LENGTH} printable characters`);
  if (!isOtaState(state)) return fail(n('state'), `must be one of ${OTA_PROGRESS_STATES.join(', ')}`);
  const out: { -readonly [K in keyof OtaProgress]: OtaProgress[K] } = { job_id: job, state };
  if (fields.progress !== undefined && fields.progress !== null) {
    if (typeof fields.progress !== 'number' || !Number.isFinite(fields.progress) || fields.progress < 0 || fields.progress > 100) return fail(n('progress'), 'must be a percentage from 0 to 100');
    out.progress = fields.progress;
  }
  if (fields.firmware_version !== undefined && fields.firmware_version !== null) {
    if (typeof fields.firmware_version !== 'string' || fields.firmware_version.length === 0 || fields.firmware_version.length > OTA_VERSION_MAX_LENGTH || CONTROL.test(fields.firmware_version)) return fail(n('firmware_version'), `must be a version of 1 to ${OTA_VERSION_MAX_LENGTH} printable characters`);
    out.firmware_version = fields.firmware_version;
  }
  if (fields.reason !== undefined && fields.reason !== null) {
    if (typeof fields.reason !== 'string') return fail(n('reason'), 'must be text');
    // A long device message is cut, not refused: the state matters more than the prose.
    out.reason = fields.reason.slice(0, OTA_REASON_MAX_LENGTH);
  }
  if (fields.timestamp !== undefined && fields.timestamp !== null) {
    if (typeof fields.timestamp !== 'number' || !Number.isInteger(fields.timestamp) || fields.timestamp < 0) return fail(n('timestamp'), 'must be a whole number of milliseconds, at least 0');
    out.timestamp = fields.timestamp;
  }
  return { ok: true, value: out };
}

/** Reads an ota/progress/{device} payload (object or JSON text). */
export function parseProgress(input: unknown): FieldResult<OtaProgress> {
  let raw = input;
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    const text = raw.toString();
    if (text.length > 8192) return fail('payload', 'longer than 8 KiB');
    try { raw = JSON.parse(text); } catch (err) { return fail('payload', `not valid JSON: ${(err as Error).message}`); }
  }
  if (!isObj(raw)) return fail('payload', 'must be a JSON object');
  if (raw.v !== undefined && raw.v !== 1) return fail('v', `contract version ${JSON.stringify(raw.v)} is not 1`);
  return progressOf({ job_id: raw.job_id, state: raw.state, progress: raw.progress, firmware_version: raw.firmware_version, reason: raw.reason, timestamp: raw.timestamp });
}
