/**
 * Rollout plans: waves by cumulative percentage with an optional named canary group first, a
 * concurrency limit, soak time, per-device timeout and retries, abort criteria as AWS IoT Jobs has
 * them, hawkBit's per-group error threshold, and the health gate. Parsed without throwing (field
 * errors name the field), and exported to / imported from AWS IoT Jobs' rollout, abort, timeout and
 * retry configuration.
 */
import { deviceIdProblem } from '../../firmware/contract/identity';
import type { FieldResult } from './manifest';

export const PLAN_VERSION = 1;

/** AWS IoT Jobs' job execution failure types (AbortCriteria.failureType). */
export type FailureType = 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';
export const FAILURE_TYPES: readonly FailureType[] = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'];

export interface AbortCriterion {
  readonly failureType: FailureType;
  /** Abort when at least this percentage of the executed devices failed this way (0–100). */
  readonly thresholdPercentage: number;
  /** ... and at least this many devices were sent the update. */
  readonly minNumberOfExecutedThings: number;
}

export interface RolloutPlan {
  readonly v: number;
  /** Cumulative percentages of the targets (after the canary group), strictly rising, the last 100. */
  readonly waves: readonly number[];
  /** A named group updated before the first wave. */
  readonly canary: { readonly name: string; readonly devices: readonly string[] } | null;
  /** Devices updating at once. */
  readonly concurrency: number;
  /** At most this many commands per minute (AWS maximumPerMinute); null: no rate limit. */
  readonly maximumPerMinute: number | null;
  /** Wait after a wave passed its gates before the next starts. */
  readonly soakSeconds: number;
  /** A device that has not reported UPDATED this long after its command times out. */
  readonly deviceTimeoutSeconds: number;
  /** Retries after a failure (FAILED, ROLLED_BACK) and after a timeout. */
  readonly retries: { readonly failed: number; readonly timedOut: number };
  readonly abort: readonly AbortCriterion[];
  /** hawkBit's error threshold per group: a wave with this percentage failed stops the rollout. */
  readonly groupErrorThreshold: { readonly percentage: number; readonly action: 'pause' | 'abort' } | null;
  readonly healthGate: {
    /** After reporting the new version running and valid, a device must stay out of critical/offline this long. */
    readonly windowSeconds: number;
    /** A wave holds while its updated devices score this many points worse than not-yet-updated ones of the same kind. */
    readonly margin: number;
  };
  readonly allowDowngrade: boolean;
}

export function defaultPlan(): RolloutPlan {
  return {
    v: PLAN_VERSION,
    waves: [10, 50, 100],
    canary: null,
    concurrency: 5,
    maximumPerMinute: null,
    soakSeconds: 0,
    deviceTimeoutSeconds: 1800,
    retries: { failed: 3, timedOut: 3 },
    abort: [],
    groupErrorThreshold: null,
    healthGate: { windowSeconds: 1800, margin: 10 },
    allowDowngrade: false,
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const fail = (field: string, reason: string): { ok: false; field: string; reason: string } => ({ ok: false, field, reason });
const MAX_WAVES = 20;
const MAX_CANARY = 10_000;
const WEEK = 7 * 24 * 3600;

function int(x: unknown, min: number, max: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
}
function num(x: unknown, min: number, max: number): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max;
}

const PLAN_FIELDS = new Set(['v', 'waves', 'canary', 'concurrency', 'maximumPerMinute', 'soakSeconds', 'deviceTimeoutSeconds', 'retries', 'abort', 'groupErrorThreshold', 'healthGate', 'allowDowngrade']);

function parseAbort(x: unknown, field: string): FieldResult<AbortCriterion> {
  if (!isObj(x)) return fail(field, 'must be an object {failureType, thresholdPercentage, minNumberOfExecutedThings}');
  for (const k of Object.keys(x)) if (!['failureType', 'thresholdPercentage', 'minNumberOfExecutedThings', 'action'].includes(k)) return fail(`${field}.${k}`, 'is not an abort criterion field');
  if (x.action !== undefined && x.action !== 'CANCEL') return fail(`${field}.action`, 'must be CANCEL (the only abort action AWS IoT Jobs has)');
  if (typeof x.failureType !== 'string' || !(FAILURE_TYPES as readonly string[]).includes(x.failureType)) return fail(`${field}.failureType`, `must be one of ${FAILURE_TYPES.join(', ')}`);
  if (!num(x.thresholdPercentage, 0, 100)) return fail(`${field}.thresholdPercentage`, 'must be a number from 0 to 100');
  const min = x.minNumberOfExecutedThings ?? 1;
  if (!int(min, 1, 1_000_000)) return fail(`${field}.minNumberOfExecutedThings`, 'must be a whole number, at least 1');
  return { ok: true, value: { failureType: x.failureType as FailureType, thresholdPercentage: x.thresholdPercentage, minNumberOfExecutedThings: min } };
}

/** Reads a plan (object or JSON text; missing fields take the defaults). Never throws. */
export function parsePlan(input: unknown): FieldResult<RolloutPlan> {
  let raw = input;
  if (raw === undefined || raw === null || raw === '') return { ok: true, value: defaultPlan() };
  if (typeof raw === 'string') {
    if (raw.length > 1_000_000) return fail('plan', 'longer than 1 MB');
    try { raw = JSON.parse(raw); } catch (err) { return fail('plan', `not valid JSON: ${(err as Error).message}`); }
  }
  if (!isObj(raw)) return fail('plan', 'must be an object');
  for (const k of Object.keys(raw)) if (!PLAN_FIELDS.has(k)) return fail(k === '' ? '""' : k, 'is not a plan field');
  const d = defaultPlan();
  const v = raw.v ?? PLAN_VERSION;
  if (v !== PLAN_VERSION) return fail('v', `plan version ${JSON.stringify(v)} is not one this package reads (${PLAN_VERSION})`);

  let waves = d.waves;
  if (raw.waves !== undefined) {
    if (!Array.isArray(raw.waves) || raw.waves.length === 0 || raw.waves.length > MAX_WAVES) return fail('waves', `must be a list of 1 to ${MAX_WAVES} percentages`);
    const list: number[] = [];
    for (let i = 0; i < raw.waves.length; i++) {
      const p: unknown = raw.waves[i];
      if (!num(p, 0, 100) || p === 0) return fail(`waves[${i}]`, 'must be a percentage above 0 and at most 100');
      if (i > 0 && p <= list[i - 1]) return fail(`waves[${i}]`, `must be above the wave before (${list[i - 1]} %): waves are cumulative`);
      list.push(p);
    }
    if (list[list.length - 1] !== 100) return fail(`waves[${list.length - 1}]`, 'the last wave must reach 100 %');
    waves = list;
  }

  let canary = d.canary;
  if (raw.canary !== undefined && raw.canary !== null) {
    const c = raw.canary;
    if (!isObj(c)) return fail('canary', 'must be {name, devices} or null');
    for (const k of Object.keys(c)) if (k !== 'name' && k !== 'devices') return fail(`canary.${k}`, 'is not a canary field (name, devices)');
    const name = c.name ?? 'canary';
    if (typeof name !== 'string' || name.length === 0 || name.length > 64) return fail('canary.name', 'must be a name of 1 to 64 characters');
    if (!Array.isArray(c.devices) || c.devices.length === 0 || c.devices.length > MAX_CANARY) return fail('canary.devices', `must list 1 to ${MAX_CANARY} device ids`);
    const seen = new Set<string>();
    for (let i = 0; i < c.devices.length; i++) {
      const id: unknown = c.devices[i];
      const problem = deviceIdProblem(id);
      if (problem) return fail(`canary.devices[${i}]`, problem);
      if (seen.has(id as string)) return fail(`canary.devices[${i}]`, `${id as string} is listed twice`);
      seen.add(id as string);
    }
    canary = { name, devices: [...seen] };
  }

  const concurrency = raw.concurrency ?? d.concurrency;
  if (!int(concurrency, 1, 10_000)) return fail('concurrency', 'must be a whole number from 1 to 10000');
  const maximumPerMinute = raw.maximumPerMinute ?? null;
  if (maximumPerMinute !== null && !int(maximumPerMinute, 1, 1000)) return fail('maximumPerMinute', 'must be a whole number from 1 to 1000 (as AWS IoT Jobs), or null');
  const soakSeconds = raw.soakSeconds ?? d.soakSeconds;
  if (!num(soakSeconds, 0, WEEK)) return fail('soakSeconds', 'must be a number of seconds from 0 to a week');
  const deviceTimeoutSeconds = raw.deviceTimeoutSeconds ?? d.deviceTimeoutSeconds;
  if (!num(deviceTimeoutSeconds, 0.001, WEEK)) return fail('deviceTimeoutSeconds', 'must be a number of seconds above 0, at most a week');

  let retries = d.retries;
  if (raw.retries !== undefined) {
    if (int(raw.retries, 0, 10)) retries = { failed: raw.retries, timedOut: raw.retries };
    else if (isObj(raw.retries)) {
      for (const k of Object.keys(raw.retries)) if (k !== 'failed' && k !== 'timedOut') return fail(`retries.${k}`, 'is not a retry field (failed, timedOut)');
      const failed = raw.retries.failed ?? d.retries.failed;
      const timedOut = raw.retries.timedOut ?? d.retries.timedOut;
      if (!int(failed, 0, 10)) return fail('retries.failed', 'must be a whole number from 0 to 10 (as AWS IoT Jobs)');
      if (!int(timedOut, 0, 10)) return fail('retries.timedOut', 'must be a whole number from 0 to 10 (as AWS IoT Jobs)');
      retries = { failed, timedOut };
    } else return fail('retries', 'must be a number from 0 to 10 or {failed, timedOut}');
  }

  const abort: AbortCriterion[] = [];
  if (raw.abort !== undefined) {
    if (!Array.isArray(raw.abort) || raw.abort.length > 8) return fail('abort', 'must be a list of at most 8 criteria');
    for (let i = 0; i < raw.abort.length; i++) {
      const a = parseAbort(raw.abort[i], `abort[${i}]`);
      if (!a.ok) return a;
      abort.push(a.value);
    }
  }

  let groupErrorThreshold = d.groupErrorThreshold;
  if (raw.groupErrorThreshold !== undefined && raw.groupErrorThreshold !== null) {
    const g = raw.groupErrorThreshold;
    if (num(g, 0, 100)) groupErrorThreshold = { percentage: g, action: 'pause' };
    else if (isObj(g)) {
      for (const k of Object.keys(g)) if (k !== 'percentage' && k !== 'action') return fail(`groupErrorThreshold.${k}`, 'is not a field (percentage, action)');
      if (!num(g.percentage, 0, 100)) return fail('groupErrorThreshold.percentage', 'must be a number from 0 to 100');
      const action = g.action ?? 'pause';
      if (action !== 'pause' && action !== 'abort') return fail('groupErrorThreshold.action', 'must be pause or abort');
      groupErrorThreshold = { percentage: g.percentage, action };
    } else return fail('groupErrorThreshold', 'must be a percentage, {percentage, action} or null');
  }

  let healthGate = d.healthGate;
  if (raw.healthGate !== undefined) {
    const h = raw.healthGate;
    if (!isObj(h)) return fail('healthGate', 'must be {windowSeconds, margin}');
    for (const k of Object.keys(h)) if (k !== 'windowSeconds' && k !== 'margin') return fail(`healthGate.${k}`, 'is not a health gate field (windowSeconds, margin)');
    const windowSeconds = h.windowSeconds ?? d.healthGate.windowSeconds;
    const margin = h.margin ?? d.healthGate.margin;
    if (!num(windowSeconds, 0, WEEK)) return fail('healthGate.windowSeconds', 'must be a number of seconds from 0 to a week');
    if (!num(margin, 0, 100)) return fail('healthGate.margin', 'must be a number of score points from 0 to 100');
    healthGate = { windowSeconds, margin };
  }

  const allowDowngrade = raw.allowDowngrade ?? false;
  if (typeof allowDowngrade !== 'boolean') return fail('allowDowngrade', 'must be true or false');

  return { ok: true, value: { v: PLAN_VERSION, waves, canary, concurrency, maximumPerMinute, soakSeconds, deviceTimeoutSeconds, retries, abort, groupErrorThreshold, healthGate, allowDowngrade } };
}

/** The plan as JSON text: what the dialog exports and `parsePlan` reads back unchanged. */
export function exportPlan(plan: RolloutPlan): string {
  return JSON.stringify(plan, null, 2);
}

// --- AWS IoT Jobs -----------------------------------------------------------------------------

/** The parts of a CreateJob request our plan maps onto, with AWS's own field names. */
export interface AwsJobConfig {
  jobExecutionsRolloutConfig?: { maximumPerMinute?: number };
  abortConfig?: { criteriaList: Array<{ action: 'CANCEL'; failureType: FailureType; thresholdPercentage: number; minNumberOfExecutedThings: number }> };
  timeoutConfig?: { inProgressTimeoutInMinutes: number };
  jobExecutionsRetryConfig?: { criteriaList: Array<{ failureType: 'FAILED' | 'TIMED_OUT' | 'ALL'; numberOfRetries: number }> };
}

/**
 * AWS's configuration for the same plan. AWS times out in whole minutes (1 to 10080), so seconds are
 * rounded up; AWS has no waves, canary, soak or health gate, and those stay in our plan only.
 */
export function toAwsJobConfig(plan: RolloutPlan): AwsJobConfig {
  const out: AwsJobConfig = {};
  if (plan.maximumPerMinute !== null) out.jobExecutionsRolloutConfig = { maximumPerMinute: plan.maximumPerMinute };
  if (plan.abort.length > 0) {
    out.abortConfig = { criteriaList: plan.abort.map((a) => ({ action: 'CANCEL', failureType: a.failureType, thresholdPercentage: Math.round(a.thresholdPercentage * 100) / 100, minNumberOfExecutedThings: a.minNumberOfExecutedThings })) };
  }
  out.timeoutConfig = { inProgressTimeoutInMinutes: Math.min(10080, Math.max(1, Math.ceil(plan.deviceTimeoutSeconds / 60))) };
  out.jobExecutionsRetryConfig = {
    criteriaList: plan.retries.failed === plan.retries.timedOut
      ? [{ failureType: 'ALL', numberOfRetries: plan.retries.failed }]
      : [{ failureType: 'FAILED', numberOfRetries: plan.retries.failed }, { failureType: 'TIMED_OUT', numberOfRetries: plan.retries.timedOut }],
  };
  return out;
}

/** Reads AWS's rollout, abort, timeout and retry configuration onto a plan (the rest from `base`). Never throws. */
export function fromAwsJobConfig(input: unknown, base: RolloutPlan = defaultPlan()): FieldResult<RolloutPlan> {
  if (!isObj(input)) return fail('aws', 'must be an object with jobExecutionsRolloutConfig, abortConfig, timeoutConfig, jobExecutionsRetryConfig');
  const patch: Record<string, unknown> = { ...base };
  for (const k of Object.keys(input)) {
    if (!['jobExecutionsRolloutConfig', 'abortConfig', 'timeoutConfig', 'jobExecutionsRetryConfig'].includes(k)) return fail(k === '' ? '""' : k, 'is not an AWS IoT Jobs configuration this plan maps (jobExecutionsRolloutConfig, abortConfig, timeoutConfig, jobExecutionsRetryConfig)');
  }
  const r = input.jobExecutionsRolloutConfig;
  if (r !== undefined) {
    if (!isObj(r)) return fail('jobExecutionsRolloutConfig', 'must be an object');
    if (r.exponentialRate !== undefined) return fail('jobExecutionsRolloutConfig.exponentialRate', 'is not mapped: use waves for a growing rollout');
    patch.maximumPerMinute = r.maximumPerMinute ?? null;
  }
  const a = input.abortConfig;
  if (a !== undefined) {
    if (!isObj(a) || !Array.isArray(a.criteriaList)) return fail('abortConfig.criteriaList', 'must be a list');
    patch.abort = a.criteriaList;
  }
  const t = input.timeoutConfig;
  if (t !== undefined) {
    if (!isObj(t) || !int(t.inProgressTimeoutInMinutes, 1, 10080)) return fail('timeoutConfig.inProgressTimeoutInMinutes', 'must be a whole number of minutes from 1 to 10080');
    patch.deviceTimeoutSeconds = t.inProgressTimeoutInMinutes * 60;
  }
  const q = input.jobExecutionsRetryConfig;
  if (q !== undefined) {
    if (!isObj(q) || !Array.isArray(q.criteriaList) || q.criteriaList.length < 1 || q.criteriaList.length > 2) return fail('jobExecutionsRetryConfig.criteriaList', 'must list 1 or 2 criteria');
    const retries = { failed: 0, timedOut: 0 };
    for (let i = 0; i < q.criteriaList.length; i++) {
      const c: unknown = q.criteriaList[i];
      const f = `jobExecutionsRetryConfig.criteriaList[${i}]`;
      if (!isObj(c)) return fail(f, 'must be {failureType, numberOfRetries}');
      if (!int(c.numberOfRetries, 0, 10)) return fail(`${f}.numberOfRetries`, 'must be a whole number from 0 to 10');
      if (c.failureType === 'ALL') { retries.failed = c.numberOfRetries; retries.timedOut = c.numberOfRetries; }
      else if (c.failureType === 'FAILED') retries.failed = c.numberOfRetries;
      else if (c.failureType === 'TIMED_OUT') retries.timedOut = c.numberOfRetries;
      else return fail(`${f}.failureType`, 'must be FAILED, TIMED_OUT or ALL');
    }
    patch.retries = retries;
  }
  const result = parsePlan(patch);
  if (!result.ok) {
    const field = result.field.startsWith('abort') ? result.field.replace(/^abort/, 'abortConfig.criteriaList') : result.field;
    return { ok: false, field, reason: result.reason };
  }
  return result;
}
