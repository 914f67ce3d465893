/**
 * Fuzz targets for fleet-ota's node-facing parsers: its saved configuration and the start request of
 * a rollout (image, target selector, plan override). A value or a field error for any input, never a
 * throw, and plain data out (the start request lands in the journal).
 */
import fc from 'fast-check';

import type { FuzzTarget } from '../harness';
import { defaultPlan } from '../../../lib/ota/plan';
import { parseOtaConfig, parseStartRequest, parseTargets } from '../../../lib/ota/node-config';

type Result = { ok: true; value: unknown } | { ok: false; field: string; reason: string };

function problem(r: Result): string | null {
  if (r === null || typeof r !== 'object') return 'result is not an object';
  if (r.ok === true) {
    try { JSON.stringify(r.value); } catch { return 'value is not JSON data'; }
    return null;
  }
  if (r.ok !== false) return 'result.ok is neither true nor false';
  if (typeof r.field !== 'string' || r.field === '' || typeof r.reason !== 'string' || r.reason === '') return 'field error without field or reason';
  return null;
}

const START = { id: 'r-7', image: 'env-1.3.0', targets: { kinds: ['env-sensor'], labels: { site: 'lab' } }, plan: { waves: [10, 100], concurrency: 3 } };
const CONFIG = { folder: 'ota-images', publicKeys: '', keysFile: '', baseUrl: 'http://10.0.0.2:1880', tokenTtlS: 3600, tickMs: 500, plan: '' };

function mutated(base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(base);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), fc.anything({ maxDepth: 3 })).map(([k, v]) => ({ ...base, [k]: v })),
    fc.tuple(fc.constantFrom(...keys), fc.string({ maxLength: 80 })).map(([k, v]) => ({ ...base, [k]: v })),
    fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => ({ ...base, [k]: v })),
    fc.anything({ maxDepth: 3 }),
  );
}

export const targets: FuzzTarget[] = [
  { name: 'ota-start-request', arbitrary: mutated(START), check: (x) => problem(parseStartRequest(x, defaultPlan())) },
  { name: 'ota-targets', arbitrary: fc.oneof(mutated(START.targets), fc.array(fc.string({ maxLength: 20 }), { maxLength: 20 })), check: (x) => problem(parseTargets(x)) },
  { name: 'ota-node-config', arbitrary: mutated(CONFIG), check: (x) => problem(parseOtaConfig((x !== null && typeof x === 'object' ? x : {}) as Record<string, unknown>)) },
];
