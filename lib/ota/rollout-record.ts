/**
 * What a rollout keeps durable, one journal key per device plus one for the rollout, and how those
 * records are read back (checked, not cast: a damaged journal must not become a TypeError later).
 */
import { OTA_PROGRESS_STATES } from '../../firmware/contract/ota';
import { parsePlan, type RolloutPlan } from './plan';

/** Where a device is in the rollout. In flight: SENT and the contract's states up to UPDATING. */
export type DevicePhase =
  | 'PENDING' | 'SENT' | 'QUEUED' | 'DOWNLOADING' | 'DOWNLOADED' | 'VERIFIED' | 'UPDATING'
  /** Reported the new version running and valid; in the health gate window. */
  | 'UPDATED'
  /** Passed the health gate. */
  | 'SUCCEEDED'
  | 'FAILED' | 'ROLLED_BACK' | 'REJECTED' | 'TIMED_OUT'
  /** In flight when the rollout was aborted; told to cancel. */
  | 'CANCELED';

export const IN_FLIGHT: ReadonlySet<DevicePhase> = new Set<DevicePhase>(['SENT', 'QUEUED', 'DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING']);
export const FINAL: ReadonlySet<DevicePhase> = new Set<DevicePhase>(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'TIMED_OUT', 'CANCELED']);
const PHASES = new Set<string>(['PENDING', 'SENT', ...OTA_PROGRESS_STATES, 'SUCCEEDED', 'TIMED_OUT', 'CANCELED']);

export interface DeviceRecord {
  readonly id: string;
  readonly kind: string;
  /** Wave index; -1 when refused before planning (kind, architecture or version). */
  readonly wave: number;
  /** Position in the send order: planned order first, retries appended. */
  q: number;
  phase: DevicePhase;
  /** Commands sent so far; the job id of attempt n is `<rollout>-a<n>`. */
  attempt: number;
  /** When the current phase began (unix ms). */
  since: number;
  sentAt: number | null;
  failedRetries: number;
  timedOutRetries: number;
  reason: string | null;
}

export type RolloutStatus = 'running' | 'paused' | 'aborted' | 'completed';
export type WaveState = 'updating' | 'held' | 'soaking';

export interface RolloutImage {
  readonly name: string;
  readonly kind: string;
  readonly arch?: string;
  readonly version: string;
  readonly size: number;
  readonly sha256: string;
  readonly signature: string;
}

export interface RolloutMeta {
  readonly v: 1;
  readonly id: string;
  readonly image: RolloutImage;
  readonly plan: RolloutPlan;
  readonly waves: ReadonlyArray<{ readonly name: string; readonly size: number }>;
  status: RolloutStatus;
  wave: number;
  waveState: WaveState;
  soakUntil: number | null;
  /** Why the wave holds, is paused or the rollout was aborted. */
  note: string | null;
  /** A wave whose failures the operator accepted by resuming after the group error threshold paused it. */
  acknowledged: number;
  nextQ: number;
  /** Send times within the last minute, for maximumPerMinute. */
  recentSends: number[];
  readonly startedAt: number;
  endedAt: number | null;
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const strOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
const numOrNull = (x: unknown): x is number | null => x === null || isNum(x);

export function readDeviceRecord(x: unknown): DeviceRecord | string {
  if (!isObj(x)) return 'not an object';
  if (typeof x.id !== 'string' || typeof x.kind !== 'string') return 'id and kind must be text';
  if (!isInt(x.wave) || !isInt(x.q) || !isInt(x.attempt) || x.attempt < 0) return 'wave, q and attempt must be whole numbers';
  if (typeof x.phase !== 'string' || !PHASES.has(x.phase)) return `phase ${String(x.phase)} is not a device phase`;
  if (!isNum(x.since) || !numOrNull(x.sentAt) || !isInt(x.failedRetries) || !isInt(x.timedOutRetries) || !strOrNull(x.reason)) return 'since, sentAt, retries or reason malformed';
  return { id: x.id, kind: x.kind, wave: x.wave, q: x.q, phase: x.phase as DevicePhase, attempt: x.attempt, since: x.since, sentAt: x.sentAt, failedRetries: x.failedRetries, timedOutRetries: x.timedOutRetries, reason: x.reason };
}

export function readMeta(x: unknown): RolloutMeta | string {
  if (!isObj(x) || x.v !== 1) return 'not a version 1 rollout record';
  if (typeof x.id !== 'string') return 'id must be text';
  const img = x.image;
  if (!isObj(img) || typeof img.name !== 'string' || typeof img.kind !== 'string' || typeof img.version !== 'string' || !isInt(img.size) || typeof img.sha256 !== 'string' || typeof img.signature !== 'string' || (img.arch !== undefined && typeof img.arch !== 'string')) return 'image malformed';
  const plan = parsePlan(x.plan);
  if (!plan.ok) return `plan ${plan.field} ${plan.reason}`;
  if (!Array.isArray(x.waves) || !x.waves.every((w) => isObj(w) && typeof w.name === 'string' && isInt(w.size))) return 'waves malformed';
  if (!['running', 'paused', 'aborted', 'completed'].includes(x.status as string)) return 'status malformed';
  if (!['updating', 'held', 'soaking'].includes(x.waveState as string)) return 'wave state malformed';
  if (!isInt(x.wave) || !isInt(x.acknowledged) || !numOrNull(x.soakUntil) || !strOrNull(x.note) || !isInt(x.nextQ) || !isNum(x.startedAt) || !numOrNull(x.endedAt)) return 'counters malformed';
  if (!Array.isArray(x.recentSends) || !x.recentSends.every(isNum)) return 'recentSends malformed';
  return {
    v: 1, id: x.id,
    image: { name: img.name, kind: img.kind, ...(img.arch !== undefined ? { arch: img.arch as string } : {}), version: img.version, size: img.size, sha256: img.sha256, signature: img.signature },
    plan: plan.value, waves: (x.waves as Array<{ name: string; size: number }>).map((w) => ({ name: w.name, size: w.size })),
    status: x.status as RolloutStatus, wave: x.wave, waveState: x.waveState as WaveState, soakUntil: x.soakUntil, note: x.note, acknowledged: x.acknowledged,
    nextQ: x.nextQ, recentSends: [...x.recentSends as number[]], startedAt: x.startedAt, endedAt: x.endedAt,
  };
}
