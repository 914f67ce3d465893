/**
 * fleet-decode's saved configuration: its version, migrations from older saves, and checks that name
 * the field at fault. Flows saved by hand or by older releases come through here before the decoder sees them.
 */
import { deviceIdProblem } from '../../firmware/contract/identity';
import { DEVICE_KINDS, PROFILES, type DeviceKind, type ProfileName } from '../../firmware/contract/topics';
import type { UnknownFieldPolicy } from '../../firmware/contract/schemas';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PAYLOAD_BYTES, type DecoderOptions } from './decoder';

/** Bounds of the nesting limit: below 4 no contract message fits; above 1000 the schema's own walk gets deep. */
export const MAX_DEPTH_RANGE = [4, 1000] as const;

export const DECODE_CONFIG_VERSION = 1;

export type RejectMode = 'output' | 'error' | 'both';

export interface DecodeConfig {
  readonly decoder: DecoderOptions;
  readonly rejects: RejectMode;
}

/** What the editor saves; every field optional because old or hand-written flows may lack any of them. */
export interface SavedDecodeConfig {
  configVersion?: unknown;
  profiles?: unknown;
  kinds?: unknown;
  unknownFields?: unknown;
  maxBytes?: unknown;
  /** Not in the dialog yet: a hand-edited flow may set it; 64 otherwise. */
  maxDepth?: unknown;
  prefixMap?: unknown;
  rejects?: unknown;
  includeCommands?: unknown;
}

export type ConfigResult = { readonly ok: true; readonly value: DecodeConfig } | { readonly ok: false; readonly field: string; readonly reason: string };

/** Lists may be saved as arrays or, by hand, as comma-separated text. */
function list(x: unknown): string[] | null {
  if (x === undefined || x === null || x === '') return null;
  if (Array.isArray(x)) return x.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? typeof v));
  if (typeof x === 'string') return x.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

export function parseDecodeConfig(saved: SavedDecodeConfig): ConfigResult {
  const version = saved.configVersion === undefined ? DECODE_CONFIG_VERSION : Number(saved.configVersion);
  if (!Number.isInteger(version) || version < 1 || version > DECODE_CONFIG_VERSION) {
    return { ok: false, field: 'configVersion', reason: `configuration version ${String(saved.configVersion)} is newer than this package understands (${DECODE_CONFIG_VERSION})` };
  }

  const profiles = list(saved.profiles) ?? [...PROFILES];
  const badProfile = profiles.find((p) => !(PROFILES as readonly string[]).includes(p));
  if (badProfile !== undefined) return { ok: false, field: 'profiles', reason: `unknown profile ${JSON.stringify(badProfile)}; known: ${PROFILES.join(', ')}` };
  if (profiles.length === 0) return { ok: false, field: 'profiles', reason: 'choose at least one profile' };

  const kinds = list(saved.kinds) ?? [...DEVICE_KINDS];
  const badKind = kinds.find((k) => !(DEVICE_KINDS as readonly string[]).includes(k));
  if (badKind !== undefined) return { ok: false, field: 'kinds', reason: `unknown device kind ${JSON.stringify(badKind)}; known: ${DEVICE_KINDS.join(', ')}` };
  if (kinds.length === 0) return { ok: false, field: 'kinds', reason: 'accept at least one device kind' };

  const unknownFields = (saved.unknownFields ?? 'keep') as UnknownFieldPolicy;
  if (!['keep', 'strip', 'reject'].includes(unknownFields)) return { ok: false, field: 'unknownFields', reason: 'must be keep, strip or reject' };

  const maxBytes = saved.maxBytes === undefined || saved.maxBytes === '' ? DEFAULT_MAX_PAYLOAD_BYTES : Number(saved.maxBytes);
  if (!Number.isInteger(maxBytes) || maxBytes < 64 || maxBytes > 16 * 1024 * 1024) {
    return { ok: false, field: 'maxBytes', reason: 'must be a whole number of bytes from 64 to 16777216' };
  }

  const maxDepth = saved.maxDepth === undefined || saved.maxDepth === '' ? DEFAULT_MAX_DEPTH : Number(saved.maxDepth);
  if (!Number.isInteger(maxDepth) || maxDepth < MAX_DEPTH_RANGE[0] || maxDepth > MAX_DEPTH_RANGE[1]) {
    return { ok: false, field: 'maxDepth', reason: `must be a whole number of levels from ${MAX_DEPTH_RANGE[0]} to ${MAX_DEPTH_RANGE[1]}` };
  }

  let prefixMap: Record<string, string> = {};
  if (saved.prefixMap !== undefined && saved.prefixMap !== '' && saved.prefixMap !== null) {
    let parsed: unknown = saved.prefixMap;
    if (typeof parsed === 'string') {
      try {
        parsed = JSON.parse(parsed);
      } catch (err) {
        return { ok: false, field: 'prefixMap', reason: `not valid JSON: ${(err as Error).message}` };
      }
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, field: 'prefixMap', reason: 'must be a JSON object of "topic prefix": "device id"' };
    const entries: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string') return { ok: false, field: 'prefixMap', reason: `device id for prefix ${JSON.stringify(k)} must be a string` };
      const problem = deviceIdProblem(v);
      if (problem) return { ok: false, field: 'prefixMap', reason: `device id for prefix ${JSON.stringify(k)}: ${problem}` };
      entries.push([k, v]);
    }
    // Own data properties only: a "__proto__" prefix stays a key, never a prototype.
    prefixMap = Object.fromEntries(entries);
  }

  const rejects = (saved.rejects ?? 'output') as RejectMode;
  if (!['output', 'error', 'both'].includes(rejects)) return { ok: false, field: 'rejects', reason: 'must be output, error or both' };

  return {
    ok: true,
    value: {
      rejects,
      decoder: {
        profiles: profiles as ProfileName[],
        deviceKinds: kinds as DeviceKind[],
        unknownFields,
        maxPayloadBytes: maxBytes,
        maxDepth,
        prefixMap,
        includeCommands: saved.includeCommands === undefined ? true : saved.includeCommands === true || saved.includeCommands === 'true',
      },
    },
  };
}
