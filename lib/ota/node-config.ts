/**
 * fleet-ota's saved configuration and the start request of a rollout (image, target selector, plan),
 * read without throwing, each refusal naming its field. The editor imports these, so what the dialog
 * accepts is what the runtime runs.
 */
import type { KeyObject } from 'node:crypto';

import { trustedKeys } from './keys';
import type { FieldResult } from './manifest';
import { parsePlan, type RolloutPlan } from './plan';
import { imageNameProblem } from './repository';

export const OTA_CONFIG_VERSION = 1;

export interface OtaConfig {
  /** Image folder; relative paths are under the Node-RED user directory. */
  readonly folder: string;
  readonly publicKeys: readonly string[];
  /** A PEM file of more public keys (relative to the user directory), read at deploy. */
  readonly keysFile: string | null;
  /** Where devices reach Node-RED's HTTP server, e.g. http://192.168.1.10:1880 (httpNodeRoot included); null: from Node-RED's settings. */
  readonly baseUrl: string | null;
  readonly tokenTtlSeconds: number;
  readonly tickMs: number;
  readonly plan: RolloutPlan;
}

export interface SavedOtaConfig {
  folder?: unknown;
  publicKeys?: unknown;
  keysFile?: unknown;
  baseUrl?: unknown;
  tokenTtlS?: unknown;
  tickMs?: unknown;
  plan?: unknown;
}

const fail = (field: string, reason: string): { ok: false; field: string; reason: string } => ({ ok: false, field, reason });
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** PEM blocks in one text (the dialog's textarea holds one or more public keys). */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g) ?? [];
}

export const DEFAULT_OTA_CONFIG = { folder: 'ota-images', baseUrl: '', tokenTtlS: 86_400, tickMs: 1000 } as const;

const numberOf = (v: unknown): number => (typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : NaN);

export function parseOtaConfig(def: SavedOtaConfig): FieldResult<OtaConfig> {
  const folder = def.folder === undefined || def.folder === '' ? DEFAULT_OTA_CONFIG.folder : def.folder;
  if (typeof folder !== 'string' || folder.length > 1024 || /[\u0000-\u001f]/.test(folder)) return fail('folder', 'must be a folder path of at most 1024 characters');
  const keysText = def.publicKeys ?? '';
  if (typeof keysText !== 'string') return fail('publicKeys', 'must be PEM text');
  const pems = splitPem(keysText);
  if (keysText.trim() !== '' && pems.length === 0) return fail('publicKeys', 'holds no PEM public key (-----BEGIN PUBLIC KEY----- …)');
  const { problems } = trustedKeys(pems);
  if (problems.length) return fail('publicKeys', problems[0]);
  const keysFile = def.keysFile === undefined || def.keysFile === '' ? null : def.keysFile;
  if (keysFile !== null && (typeof keysFile !== 'string' || keysFile.length > 1024 || /[\u0000-\u001f]/.test(keysFile))) return fail('keysFile', 'must be a file path of at most 1024 characters');
  const baseUrl = def.baseUrl === undefined || def.baseUrl === '' ? null : def.baseUrl;
  if (baseUrl !== null && typeof baseUrl !== 'string') return fail('baseUrl', 'must be an http:// or https:// URL');
  if (baseUrl !== null && !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(baseUrl)) return fail('baseUrl', 'must be an http:// or https:// URL without query, e.g. http://192.168.1.10:1880');
  const ttl = def.tokenTtlS === undefined || def.tokenTtlS === '' ? DEFAULT_OTA_CONFIG.tokenTtlS : numberOf(def.tokenTtlS);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 30 * 86_400) return fail('tokenTtlS', 'must be a whole number of seconds from 60 to 2592000 (30 days)');
  const tick = def.tickMs === undefined || def.tickMs === '' ? DEFAULT_OTA_CONFIG.tickMs : numberOf(def.tickMs);
  if (!Number.isInteger(tick) || tick < 20 || tick > 60_000) return fail('tickMs', 'must be a whole number of milliseconds from 20 to 60000');
  const plan = parsePlan(def.plan);
  if (!plan.ok) return fail('plan', `${plan.field} ${plan.reason}`);
  return { ok: true, value: { folder, publicKeys: pems, keysFile, baseUrl: baseUrl === null ? null : baseUrl.replace(/\/+$/, ''), tokenTtlSeconds: ttl, tickMs: tick, plan: plan.value } };
}

/** Which devices a rollout targets. Kinds and labels select from the registry; a list names devices. */
export interface TargetSelector {
  readonly devices?: readonly string[];
  readonly kinds?: readonly string[];
  /** Every label must match (registry labels such as site or ring). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Every device of the image's kind the registry knows. */
  readonly all?: boolean;
}

export interface StartRequest {
  readonly id: string | null;
  readonly image: string;
  readonly targets: TargetSelector;
  /** Fields given here override the node's plan defaults. */
  readonly plan: RolloutPlan;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
const MAX_LIST = 100_000;

function strings(x: unknown, field: string, max: number): FieldResult<string[]> {
  if (!Array.isArray(x) || x.length > max || !x.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128)) return fail(field, `must be a list of at most ${max} names`);
  return { ok: true, value: [...new Set(x as string[])] };
}

export function parseTargets(x: unknown): FieldResult<TargetSelector> {
  if (x === undefined || x === null || x === 'all') return { ok: true, value: { all: true } };
  if (Array.isArray(x)) {
    const d = strings(x, 'targets', MAX_LIST);
    return d.ok ? { ok: true, value: { devices: d.value } } : d;
  }
  if (!isObj(x)) return fail('targets', 'must be "all", a list of device ids, or {devices, kinds, labels, all}');
  for (const k of Object.keys(x)) if (!['devices', 'kinds', 'labels', 'all'].includes(k)) return fail(`targets.${k}`, 'is not a target selector field (devices, kinds, labels, all)');
  const out: { devices?: string[]; kinds?: string[]; labels?: Record<string, string>; all?: boolean } = {};
  if (x.devices !== undefined) { const d = strings(x.devices, 'targets.devices', MAX_LIST); if (!d.ok) return d; out.devices = d.value; }
  if (x.kinds !== undefined) { const d = strings(x.kinds, 'targets.kinds', 32); if (!d.ok) return d; out.kinds = d.value; }
  if (x.labels !== undefined) {
    if (!isObj(x.labels) || !Object.values(x.labels).every((v) => typeof v === 'string')) return fail('targets.labels', 'must be an object of label: value');
    out.labels = { ...(x.labels as Record<string, string>) };
  }
  if (x.all !== undefined) { if (typeof x.all !== 'boolean') return fail('targets.all', 'must be true or false'); out.all = x.all; }
  if (!out.devices && !out.kinds && !out.labels && !out.all) return fail('targets', 'selects nothing: give devices, kinds, labels or all');
  return { ok: true, value: out };
}

/** Reads a start request; `defaults` is the node's plan, overridden field by field by the request's. */
export function parseStartRequest(x: unknown, defaults: RolloutPlan): FieldResult<StartRequest> {
  if (!isObj(x)) return fail('payload', 'must be an object {image, targets, plan, id}');
  for (const k of Object.keys(x)) if (!['id', 'image', 'targets', 'plan'].includes(k)) return fail(`payload.${k}`, 'is not a start field (id, image, targets, plan)');
  if (x.id !== undefined && (typeof x.id !== 'string' || !ID.test(x.id))) return fail('id', 'must be letters, digits and _ . - (at most 48, starting with a letter or digit)');
  const nameProblem = imageNameProblem(x.image);
  if (nameProblem) return fail('image', nameProblem);
  const targets = parseTargets(x.targets);
  if (!targets.ok) return targets;
  let planInput: unknown = x.plan;
  if (typeof planInput === 'string' && planInput.trim() !== '') {
    try { planInput = JSON.parse(planInput); } catch (err) { return fail('plan', `is not JSON: ${(err as Error).message}`); }
  }
  if (planInput !== undefined && planInput !== null && planInput !== '' && !isObj(planInput)) return fail('plan', 'must be an object');
  const merged = isObj(planInput) ? { ...defaults, ...planInput, healthGate: { ...defaults.healthGate, ...(isObj(planInput.healthGate) ? planInput.healthGate : {}) } } : defaults;
  const plan = parsePlan(merged);
  if (!plan.ok) return fail(`plan.${plan.field}`, plan.reason);
  return { ok: true, value: { id: (x.id as string | undefined) ?? null, image: x.image as string, targets: targets.value, plan: plan.value } };
}

export interface CandidateDevice {
  readonly id: string;
  readonly kind: string | null;
  readonly arch: string | null;
  readonly version: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The target list of a selector over the registry's devices. Listed devices the registry does not
 * know are taken as the image's kind with an unknown version (a device list is the operator's word).
 */
export function selectTargets(sel: TargetSelector, imageKind: string, known: Iterable<CandidateDevice>): Array<{ id: string; kind: string; arch: string | null; version: string | null }> {
  const byId = new Map<string, CandidateDevice>();
  for (const d of known) byId.set(d.id, d);
  const out = new Map<string, { id: string; kind: string; arch: string | null; version: string | null }>();
  const take = (d: CandidateDevice): void => { if (!out.has(d.id)) out.set(d.id, { id: d.id, kind: d.kind ?? imageKind, arch: d.arch, version: d.version }); };
  for (const id of sel.devices ?? []) take(byId.get(id) ?? { id, kind: imageKind, arch: null, version: null, labels: {} });
  if (sel.kinds || sel.labels || sel.all) {
    const kinds = sel.kinds ? new Set(sel.kinds) : sel.all ? new Set([imageKind]) : null;
    for (const d of byId.values()) {
      if (kinds && !kinds.has(d.kind ?? '')) continue;
      if (sel.labels && !Object.entries(sel.labels).every(([k, v]) => Object.prototype.hasOwnProperty.call(d.labels, k) && d.labels[k] === v)) continue;
      take(d);
    }
  }
  return [...out.values()];
}

export type TrustedKeys = ReadonlyMap<string, KeyObject>;
