/**
 * fleet-steel's configuration and the commands a message may carry: which program, which devices,
 * which action. Parsers answer with the field at fault, never throw.
 */
import { STEEL_BROADCAST, STEEL_OPERATIONS, programIdProblem, steelDeviceIdProblem, type SteelOperation } from '../../firmware/contract/steel';
import type { CompiledMatcher } from '../alerts/matchers';
import type { CheckOptions, Severity } from './checker';
import { DEVICE_PROFILES } from './device-api';
import { DEFAULT_TIMEOUT_MS, GUIDE_SUCCESS_TARGET } from './push-tracker';

export type SourceFrom = 'editor' | 'payload' | 'file';
export const SOURCE_FROM: readonly SourceFrom[] = ['editor', 'payload', 'file'];
export type TargetType = 'device' | 'list' | 'selector' | 'broadcast';
export const TARGET_TYPES: readonly TargetType[] = ['device', 'list', 'selector', 'broadcast'];

export type Targets =
  | { readonly type: 'devices'; readonly devices: readonly string[] }
  | { readonly type: 'selector'; readonly text: readonly string[]; readonly matchers: readonly CompiledMatcher[] }
  | { readonly type: 'broadcast' };

export interface SteelPushConfig {
  readonly programId: string;
  readonly programName: string;
  readonly version: string;
  readonly sourceFrom: SourceFrom;
  readonly source: string;
  readonly file: string;
  readonly action: SteelOperation;
  /** null: the message must name them. */
  readonly targets: Targets | null;
  readonly autoStart: boolean;
  readonly timeoutMs: number;
  /** 0–1. */
  readonly target: number;
  readonly profile: string;
  readonly check: CheckOptions;
}

/**
 * Compiles selector lines (lib/steel/selector.ts at run time). The editor leaves it out, so its
 * bundle does not carry the RE2 engine: it checks that a selector is there, the deploy checks it whole.
 */
export type SelectorCompiler = (lines: readonly string[]) => { ok: true; value: CompiledMatcher[] } | { ok: false; index: number | null; reason: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly reason: string };

const fail = (field: string, reason: string): { ok: false; field: string; reason: string } => ({ ok: false, field, reason });
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : v === undefined || v === null ? d : String(v));

/** Largest program source accepted from the editor, a message or a file (the checker then applies its own limit). */
export const MAX_SOURCE_CHARS = 1024 * 1024;
export const MAX_TARGETS = 10_000;

/** A device list: an array, or text with one id per line or comma-separated. */
export function parseDeviceList(v: unknown, field = 'target'): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'string') items = v.split(/[\s,]+/).filter((s) => s !== '');
  else return fail(field, 'expected a device id, a list of ids, or text with one id per line');
  if (items.length === 0) return fail(field, 'names no device');
  if (items.length > MAX_TARGETS) return fail(field, `names ${items.length} devices; at most ${MAX_TARGETS}`);
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const p = steelDeviceIdProblem(items[i]);
    if (p) return fail(items.length > 1 ? `${field}[${i}]` : field, p);
    seen.add(items[i] as string);
  }
  return { ok: true, value: [...seen] };
}

export function parseTargets(type: unknown, target: unknown, field = 'target', compile?: SelectorCompiler): Parsed<Targets> {
  switch (type) {
    case 'broadcast': return { ok: true, value: { type: 'broadcast' } };
    case 'device': {
      const p = steelDeviceIdProblem(typeof target === 'string' ? target.trim() : target);
      return p ? fail(field, p) : { ok: true, value: { type: 'devices', devices: [(target as string).trim()] } };
    }
    case 'list': {
      const l = parseDeviceList(target, field);
      return l.ok ? { ok: true, value: { type: 'devices', devices: l.value } } : l;
    }
    case 'selector': {
      const lines = Array.isArray(target) ? target : typeof target === 'string' ? target.split('\n').map((s) => s.trim()).filter((s) => s !== '') : null;
      if (!lines || lines.length === 0) return fail(field, 'a selector is one or more label matchers, e.g. kind="steel-device" or site=~"north|south"');
      if (lines.some((l) => typeof l !== 'string')) return fail(field, 'a selector is a list of matcher lines (text)');
      if (!compile) return { ok: true, value: { type: 'selector', text: lines as string[], matchers: [] } };
      const m = compile(lines as string[]);
      if (!m.ok) return fail(m.index === null ? field : `${field}[${m.index}]`, m.reason);
      return { ok: true, value: { type: 'selector', text: lines as string[], matchers: m.value } };
    }
    default: return fail('targetType', `expected one of ${TARGET_TYPES.join(', ')}`);
  }
}

/**
 * Targets from a message: 'broadcast', a device id, a list of ids, or {selector: [...]} /
 * {devices: [...]}. undefined: the message names none.
 */
export function targetsFromMessage(v: unknown, compile?: SelectorCompiler): Parsed<Targets> | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (v === STEEL_BROADCAST) return { ok: true, value: { type: 'broadcast' } };
  if (typeof v === 'string') return parseTargets(/[\s,]/.test(v.trim()) ? 'list' : 'device', v, 'msg.targets');
  if (Array.isArray(v)) return parseTargets('list', v, 'msg.targets');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Object.hasOwn(o, 'selector')) return parseTargets('selector', o.selector, 'msg.targets.selector', compile);
    if (Object.hasOwn(o, 'devices')) return parseTargets('list', o.devices, 'msg.targets.devices');
    if (o.broadcast === true) return { ok: true, value: { type: 'broadcast' } };
  }
  return fail('msg.targets', 'expected "broadcast", a device id, a list of ids, or {"selector": ["kind=steel-device"]}');
}

export function parseAction(v: unknown, field = 'action'): Parsed<SteelOperation> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  return (STEEL_OPERATIONS as readonly unknown[]).includes(s) ? { ok: true, value: s as SteelOperation } : fail(field, `expected one of ${STEEL_OPERATIONS.join(', ')}`);
}

export function versionProblem(v: unknown): string | null {
  if (typeof v !== 'string' || v.trim() === '') return 'version must be non-empty text such as 1.0.0';
  if (v.length > 64) return 'version is longer than 64 characters';
  return null;
}

/** The checker's options for a device profile name (see device-api.ts). */
export function checkOptionsFor(profile: string, def: Readonly<Record<string, unknown>> = {}): Parsed<CheckOptions> {
  const api = DEVICE_PROFILES.get(profile);
  if (!api) return fail('profile', `expected one of ${[...DEVICE_PROFILES.keys()].join(', ')}`);
  const sev = (x: unknown): Severity => (x === 'warning' ? 'warning' : 'error');
  return { ok: true, value: { deviceApi: api, forbidden: sev(def.forbidden), unboundedLoops: sev(def.unboundedLoops) } };
}

export function parseSteelPushConfig(def: Readonly<Record<string, unknown>>, compile?: SelectorCompiler): Parsed<SteelPushConfig> {
  const sourceFrom = str(def.sourceFrom, 'editor') as SourceFrom;
  if (!SOURCE_FROM.includes(sourceFrom)) return fail('sourceFrom', `expected one of ${SOURCE_FROM.join(', ')}`);
  const action = parseAction(def.action ?? 'load');
  if (!action.ok) return action;
  const programId = str(def.programId).trim();
  if (programId !== '') { const p = programIdProblem(programId); if (p) return fail('programId', p); }
  const version = str(def.version, '1.0.0').trim();
  if (version !== '') { const p = versionProblem(version); if (p) return fail('version', p); }
  const source = str(def.source);
  if (source.length > MAX_SOURCE_CHARS) return fail('source', `longer than ${MAX_SOURCE_CHARS} characters`);
  if (sourceFrom === 'editor' && action.value === 'load' && source.trim() === '' ) return fail('source', 'write the program, or take it from msg.payload or a file');
  const file = str(def.file).trim();
  if (sourceFrom === 'file' && file === '') return fail('file', 'name the program file');
  const targetType = str(def.targetType, 'device');
  let targets: Targets | null = null;
  if (targetType !== 'msg') {
    if (targetType === 'device' && str(def.target).trim() === '') targets = null; // named by each message
    else {
      const t = parseTargets(targetType, def.target, 'target', compile);
      if (!t.ok) return t;
      targets = t.value;
    }
  }
  const timeoutS = def.timeoutS === undefined || def.timeoutS === '' ? DEFAULT_TIMEOUT_MS / 1000 : Number(def.timeoutS);
  if (!Number.isFinite(timeoutS) || timeoutS < 1 || timeoutS > 86_400) return fail('timeoutS', 'expected seconds from 1 to 86400');
  const targetPct = def.successTarget === undefined || def.successTarget === '' ? GUIDE_SUCCESS_TARGET * 100 : Number(def.successTarget);
  if (!Number.isFinite(targetPct) || targetPct < 0 || targetPct > 100) return fail('successTarget', 'expected a percentage from 0 to 100');
  const profile = str(def.profile, 'default');
  const check = checkOptionsFor(profile, def);
  if (!check.ok) return check;
  return {
    ok: true,
    value: {
      programId, programName: str(def.programName).trim(), version, sourceFrom, source, file, action: action.value, targets,
      autoStart: def.autoStart !== false, timeoutMs: Math.round(timeoutS * 1000), target: targetPct / 100, profile, check: check.value,
    },
  };
}

